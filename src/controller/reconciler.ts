// One reconcile pass, top to bottom: read the plan (the cache when it holds this process's last
// write, else the apiserver) → observe → decide → write the status (the intent, and the upgrade
// calls earlier passes saw accepted) → act → Events. Only the leader acts.
import { isDeepStrictEqual } from "node:util";
import type { KubeConfig, V1Node, V1Pod } from "@kubernetes/client-node";
import type { S3Destination } from "../api/v1alpha1/etcd-backup.ts";
import { nodeStates } from "../api/v1alpha1/node-entries.ts";
import { cordonsFinalizer, type Plan, phases } from "../api/v1alpha1/plan.ts";
import { decide } from "../core/decide.ts";
import type { PodRef } from "../core/drain-policy.ts";
import { startsWork, underWay } from "../core/fleet-hold.ts";
import { activeStates } from "../core/node-steps.ts";
import type { Caches } from "../kube/cache.ts";
import type { EventRecorder } from "../kube/events.ts";
import type { Evictions } from "../kube/evictions.ts";
import type { FleetLock } from "../kube/fleet-lock.ts";
import type { HookJobs } from "../kube/jobs.ts";
import type { ManifestSync } from "../kube/manifest-sync.ts";
import type { NodePods } from "../kube/node-pods.ts";
import type { NodeControl } from "../kube/nodes.ts";
import { ConflictError, type PlanStore, parsePlan } from "../kube/plans.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { TalosCredentials } from "../talos/credentials.ts";
import type { SequenceEvents } from "../talos/sequence-events.ts";
import type { MachineWatches } from "../talos/watch.ts";
import { type ActPorts, act, drainsAtOnce, releaseRounds } from "./act.ts";
import type { Notifier } from "./notifier.ts";
import { newShellMemory, observe, type ShellMemory } from "./observe.ts";
import { Slots } from "./slots.ts";
import { progressWriteMs, statusChanges, statusWriteDue } from "./status-writes.ts";

interface ReconcilerPorts {
  kubeconfig: KubeConfig;
  caches: Caches;
  /** The pods of the nodes being drained, watched per node. */
  nodePods: Pick<NodePods, "list" | "want">;
  store: PlanStore;
  nodes: NodeControl;
  evictions: Evictions;
  manifests: ManifestSync;
  events: EventRecorder;
  credentials: TalosCredentials;
  /** One plan at a time: the Lease naming the plan that holds the fleet. */
  fleetLock: FleetLock;
  isLeader: () => boolean;
  /** Keeps Talos watches open on the nodes being worked on, so their reboots wake the plan. */
  watches: MachineWatches;
  /** Follows the machines' events around the upgrade calls, for Talos' verdict on their sequences. */
  sequences: SequenceEvents;
  logger: Logger;
  metrics: Metrics;
  factsTtlMs: number;
  /** The operator's own pod (downward API), which no drain evicts. */
  self?: PodRef;
  /** Looks at a plan again soon (the work queue's add). */
  requeue: (plan: string) => void;
  /** Delivers the notifications plans' statuses list. */
  notifier?: Notifier;
  /** Runs and reads hook Jobs in the operator's namespace. */
  hookJobs?: HookJobs;
  /** Takes etcd snapshots to a bucket; a plan's default destination. */
  etcdSnapshot?: ActPorts["etcdSnapshot"];
  etcdBackupDefault?: S3Destination;
  now?: () => Date;
}

/** How long a plan that took the fleet holds it before its status must show work under way. */
const holderGraceMs = 30_000;

export class Reconciler {
  private readonly ports: ReconcilerPorts;
  private readonly memory = new Map<string, ShellMemory>();
  /** The status each plan's last pass wrote, fresher than the cache. */
  private readonly written = new Map<string, Plan["status"]>();
  /** The resourceVersion this process's last write to each plan returned. */
  private readonly writtenVersion = new Map<string, string>();
  /** When this process last wrote each plan's status (the observation's clock). */
  private readonly writtenAt = new Map<string, number>();
  /**
   * Upgrade calls Talos accepted that no status write carries yet, per plan and node: the boot the
   * call went from, and when. The next write carries them; a crash before it loses only the time
   * (the next process reads the call back from the machine).
   */
  private readonly accepted = new Map<string, Map<string, { bootIdBefore: string; at: string }>>();
  /** Drain rounds run off the passes, a few at once across the plans. */
  private readonly drainSlots = new Slots(drainsAtOnce);

  constructor(ports: ReconcilerPorts) {
    this.ports = ports;
  }

  private plans(): Plan[] {
    return this.ports.caches.plans
      .list()
      .map(parsePlan)
      .flatMap((p) => (p.ok ? [p.plan] : []));
  }

  /**
   * The plan to decide on. A cached plan at the version this process last wrote is that write, so
   * no GET is needed; any other version may be behind it (the watch lags), so it is read fresh. A
   * change the cache has not seen yet fails the status write with a conflict, as any stale read.
   */
  private async read(name: string): Promise<unknown | undefined> {
    const cached = this.ports.caches.plans.get(name);
    const written = this.writtenVersion.get(name);
    if (cached && written !== undefined && cached.metadata?.resourceVersion === written) return cached;
    return this.ports.store.get(name);
  }

  /** The status with the accepted calls not written yet, on the entries still waiting on that call. */
  private withAccepted(name: string, status: NonNullable<Plan["status"]>): NonNullable<Plan["status"]> {
    const accepted = this.accepted.get(name);
    if (!accepted || accepted.size === 0) return status;
    const nodes = status.nodes.map((e) => {
      const call = accepted.get(e.name);
      return call && !e.upgradeCalledAt && activeStates.has(e.state) && e.bootIdBefore === call.bootIdBefore
        ? { ...e, upgradeCalledAt: call.at }
        : e;
    });
    return { ...status, nodes };
  }

  async reconcile(name: string): Promise<number | undefined> {
    const { ports } = this;
    if (!ports.isLeader()) return undefined;
    const timer = ports.metrics.reconcileDuration.startTimer();
    try {
      const raw = await this.read(name);
      if (raw === undefined) {
        const gone = this.memory.get(name);
        if (gone) releaseRounds(gone, new Set());
        this.memory.delete(name);
        this.written.delete(name);
        this.writtenVersion.delete(name);
        this.writtenAt.delete(name);
        this.accepted.delete(name);
        ports.watches.set(name, undefined, []);
        ports.sequences.keep(name, []);
        await ports.nodePods.want(name, []);
        await ports.fleetLock.release(name);
        return undefined;
      }
      const parsed = parsePlan(raw);
      if (!parsed.ok) {
        ports.logger.error(
          { plan: name, reason: parsed.message },
          "plan does not match the schema; not acting on it",
        );
        return undefined;
      }
      let plan = parsed.plan;
      // The finalizer before anything is touched: a plan deleted from here on releases its cordons.
      const deleting = plan.metadata.deletionTimestamp !== undefined;
      if (!deleting && !(plan.metadata.finalizers ?? []).includes(cordonsFinalizer)) {
        const resourceVersion = await ports.store.setFinalizer(plan, true);
        this.writtenVersion.set(name, resourceVersion);
        const finalizers = [...(plan.metadata.finalizers ?? []), cordonsFinalizer];
        plan = { ...plan, metadata: { ...plan.metadata, resourceVersion, finalizers } };
      }
      // What is stored, and the plan as this process knows it: with the calls it saw accepted.
      const stored = plan.status;
      plan = { ...plan, ...(stored ? { status: this.withAccepted(name, stored) } : {}) };
      const memory = this.memory.get(name) ?? newShellMemory();
      this.memory.set(name, memory);
      const talosClient = await ports.credentials.clientFor(plan);
      const observation = await observe({
        plan,
        otherPlans: this.plans(),
        nodes: ports.caches.nodes.list() as V1Node[],
        systemPods: ports.caches.systemPods.list() as V1Pod[],
        podsOf: (node) => ports.nodePods.list(name, node),
        talosClient,
        kubeconfig: ports.kubeconfig,
        memory,
        now: ports.now?.() ?? new Date(),
        factsTtlMs: ports.factsTtlMs,
        watched: (address) => ports.watches.machine(name, address),
        watchOpening: (address) => ports.watches.opening(name, address),
        watchNow: (address) => ports.watches.hasten(name, address),
        sequenceVerdict: (address) => ports.sequences.verdict(name, address),
        ...(ports.self ? { self: ports.self } : {}),
        ...(ports.hookJobs ? { hookJobs: (p: string) => (ports.hookJobs as HookJobs).list(p) } : {}),
        ...(ports.etcdBackupDefault ? { etcdBackupDefault: ports.etcdBackupDefault } : {}),
      });
      let decision = decide(observation);
      // Passes of different plans run concurrently and read other plans from a cache: the Lease,
      // written with the version read, is what keeps two of them from starting at once.
      if (startsWork(plan.status, decision.status)) {
        const holder = await ports.fleetLock.take(name, (h, heldForMs) => this.stillHolds(h, heldForMs));
        if (holder !== undefined) decision = decide({ ...observation, blockingPlan: holder });
      }
      // Rounds of evictions on nodes the plan no longer drains (done, failed, given back) stop.
      releaseRounds(
        memory,
        new Set(decision.status.nodes.filter((e) => e.state === "Draining").map((e) => e.name)),
      );
      for (const gate of observation.gates)
        ports.metrics.gateEvaluations.inc({ gate: gate.name, result: gate.passing ? "pass" : "fail" });

      // The intent first: after a crash, status and the machines' facts are enough to go on.
      const now = observation.now.getTime();
      const due = statusWriteDue(stored, decision.status, this.writtenAt.get(name), now);
      // Progress held back is written by a later pass: one comes before it is due.
      const heldBack = !due && !isDeepStrictEqual(stored, decision.status);
      if (due) {
        ports.logger.debug({ plan: name, changes: statusChanges(stored, decision.status) }, "status written");
        const resourceVersion = await ports.store.writeStatus(plan, decision.status);
        this.writtenVersion.set(name, resourceVersion);
        this.writtenAt.set(name, now);
        plan = { ...plan, metadata: { ...plan.metadata, resourceVersion }, status: decision.status };
        this.accepted.delete(name);
      }
      this.written.set(name, decision.status);
      // Written first, then delivered: a crash in between delivers it after the restart.
      ports.notifier?.pump(plan, memory);
      if (underWay(parsed.plan.status) && !underWay(decision.status)) await ports.fleetLock.release(name);
      const called: string[] = [];
      const actPorts: ActPorts = {
        nodes: ports.nodes,
        evictions: ports.evictions,
        manifests: ports.manifests,
        talosClient: "error" in talosClient ? undefined : talosClient,
        pods: (node) => ports.nodePods.list(name, node),
        memory,
        planName: name,
        drain: plan.spec.drain,
        ...(ports.self ? { self: ports.self } : {}),
        watched: (address) => ports.watches.machine(name, address),
        ...("error" in talosClient
          ? {}
          : {
              followed: (address, bootId, sequence, call) =>
                ports.sequences.around(name, talosClient, address, bootId, sequence, call),
            }),
        sequenceVerdict: (address) => ports.sequences.verdict(name, address),
        offPassEnded: () => ports.requeue(name),
        drainSlots: this.drainSlots,
        ...(ports.hookJobs ? { hookJobs: ports.hookJobs } : {}),
        ...(ports.etcdSnapshot
          ? { etcdSnapshot: ports.etcdSnapshot, snapshotted: () => ports.requeue(name) }
          : {}),
      };
      for (const action of decision.actions) {
        if (!ports.isLeader()) return undefined;
        if (action.kind === "syncManifests")
          for (const change of action.changes)
            ports.logger.info({ plan: name, ...change }, "syncing a bootstrap manifest");
        const outcome = await act(action, actPorts);
        if (outcome === "called" && action.kind === "upgrade") called.push(action.node);
        ports.logger.info({ plan: name, action: action.kind, node: action.node, outcome }, "acted");
        if (action.kind === "syncManifests")
          for (const change of action.changes)
            ports.logger.info({ plan: name, ...change }, "bootstrap manifest synced");
      }
      if (called.length > 0) {
        // Confirmed by the next write: the machine's reboot, moments away, is a state change.
        const at = new Date().toISOString();
        const accepted = this.accepted.get(name) ?? new Map();
        for (const entry of decision.status.nodes)
          if (called.includes(entry.name) && entry.bootIdBefore !== undefined && !entry.upgradeCalledAt)
            accepted.set(entry.name, { bootIdBefore: entry.bootIdBefore, at });
        this.accepted.set(name, accepted);
        this.written.set(name, this.withAccepted(name, decision.status));
      }
      // The machines under way, and those the next starts take: an open stream lets a pass take
      // their boot and status from it instead of reading them.
      const watched = new Set([
        ...decision.status.nodes.filter((e) => activeStates.has(e.state)).map((e) => e.name),
        ...memory.startsNext,
      ]);
      const addresses = observation.nodes
        .filter((n) => watched.has(n.name) && n.address)
        .map((n) => n.address as string);
      ports.watches.set(name, "error" in talosClient ? undefined : talosClient, addresses);
      ports.sequences.keep(name, addresses);
      await ports.nodePods.want(
        name,
        decision.status.nodes.filter((e) => e.state === "Draining").map((e) => e.name),
      );
      for (const event of decision.events) {
        await ports.events
          .record(plan, event)
          .catch((error: unknown) =>
            ports.logger.warn({ plan: name, error: String(error) }, "event not recorded"),
          );
        ports.logger.info({ plan: name, reason: event.reason }, event.message);
      }
      this.record(name, decision.status, parsed.plan.status);
      const releasing = decision.release && (plan.metadata.finalizers ?? []).includes(cordonsFinalizer);
      // After actions, soon: their outcomes show in the next observation.
      const requeueAfterMs = releasing
        ? undefined
        : called.length > 0 || decision.actions.length > 0
          ? Math.min(decision.requeueAfterMs ?? 1_000, 1_000)
          : heldBack
            ? Math.min(decision.requeueAfterMs ?? progressWriteMs, progressWriteMs)
            : decision.requeueAfterMs;
      // Says when the plan looks again by itself; none: only a change to the plan or what it reads.
      ports.logger.debug(
        {
          plan: name,
          actions: decision.actions.length,
          ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
        },
        "reconciled",
      );
      if (releasing) {
        await ports.store.setFinalizer(plan, false);
        ports.logger.info({ plan: name }, "deleted plan released: nothing in flight, no cordon left");
        this.memory.delete(name);
        this.writtenVersion.delete(name);
        this.writtenAt.delete(name);
        this.accepted.delete(name);
      }
      return requeueAfterMs;
    } catch (error) {
      if (error instanceof ConflictError) return 0;
      ports.metrics.reconcileErrors.inc();
      throw error;
    } finally {
      timer();
    }
  }

  /**
   * Whether a plan named by the fleet Lease still holds the fleet: it exists and has work under
   * way, or took the Lease a moment ago (its first status write may not be in any view yet).
   */
  private stillHolds(holder: string, heldForMs: number): boolean {
    if (heldForMs < holderGraceMs) return true;
    const plan = this.plans().find((p) => p.metadata.name === holder);
    return plan !== undefined && underWay(this.written.get(holder) ?? plan.status);
  }

  private record(name: string, status: Plan["status"], previous: Plan["status"]): void {
    const { metrics } = this.ports;
    for (const entry of status?.nodes ?? []) {
      const before = previous?.nodes.find((e) => e.name === entry.name);
      if (
        entry.state === "Done" &&
        before &&
        before.state !== "Done" &&
        entry.startedAt &&
        entry.finishedAt
      ) {
        metrics.nodeDuration.observe(
          { role: entry.role },
          (Date.parse(entry.finishedAt) - Date.parse(entry.startedAt)) / 1000,
        );
      }
    }
    const stalled = status?.conditions.find((c) => c.type === "Stalled" && c.status === "True");
    metrics.stalled.set({ plan: name }, stalled ? 1 : 0);
    for (const phase of phases) {
      metrics.planPhase.set({ plan: name, phase }, status?.phase === phase ? 1 : 0);
    }
    for (const state of nodeStates) {
      metrics.nodes.set({ plan: name, state }, status?.nodes.filter((n) => n.state === state).length ?? 0);
    }
  }
}
