// Property tests over the paths real fleets take: decide() driven against a model cluster whose
// nodes start behind by one or two minors, at the target or ahead of it, that join, leave and are
// excluded mid-rollout, under a target edited mid-rollout (or moved to the next minor, where v1.13
// nodes take the lifecycle API and install before their cordon), a pool given a new schematic (at
// the start or mid-rollout), with half the passes of half the runs seeing an earlier pass's etcd
// view (which never takes a control plane down), in about half the runs an etcd snapshot before
// each pass's first control plane (runs that take passes, fail, or wait on the nodes in flight),
// with status writes refused (409) and the shell crashing between any two effects; and, apart, a
// Talos rollback, an upgrade call that finds machined's lock held by someone's reboot, and a Node
// deleted mid-reboot. The invariants are computed here from the model, by the test's own
// arithmetic, never by the functions under test.
import fc from "fast-check";
import { type Plan, retryAnnotation } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import { seededRandom } from "../../harness/prng.ts";
import {
  carryOut,
  finishReboots,
  isDown,
  type ModelNode,
  ModelShell,
  minor,
  modelNode,
  rank,
  reachable as reachableAt,
  releases,
  restartMs,
  type SnapshotAttempt,
  type StoredSnapshot,
  schematicOf,
} from "../builders/fleet-model.ts";
import { t0 } from "../builders/observations.ts";
import { aHook, anS3Destination, aPlan, budgetOf, vanillaSchematic } from "../builders/plans.ts";

interface Scenario {
  controlPlanes: number;
  workers: number;
  start: number[];
  maxUnavailable: number | string;
  allowDowngrade: boolean;
  rebootSeconds: number[];
  pods: number[];
  crashRate: number;
  conflictRate: number;
  editAt: number | undefined;
  /**
   * When the target moves on to v1.13.1 (after editAt, if both): nodes on v1.13.0 then upgrade on
   * the lifecycle API, installing before their cordon.
   */
  nextMinorAt: number | undefined;
  excludeAt: number | undefined;
  excludeNode: number;
  includeAgainAt: number | undefined;
  joinAt: number | undefined;
  leaveAt: number | undefined;
  leaveNode: number;
  /** A node whose next boot into a new version fails: Talos' A/B fallback boots the old one. */
  rollbackNode?: number;
  /** A node whose first upgrade call finds machined's lock held by someone's reboot. */
  lockedNode?: number;
  /**
   * A node whose first upgrade sequence fails (machined's drain refused): a retry is asked once
   * the plan has failed on it.
   */
  failedNode?: number;
  /** The first worker seen upgrading or rebooting has its Node deleted (its machine goes on). */
  deleteWhileRebooting?: boolean;
  /** Workers labelled pool=gpu, and whether each starts on the pool's schematic already. */
  gpu: boolean[];
  gpuStart: boolean[];
  /** When the plan gives the gpu pool its schematic: 0 from the start, undefined never. */
  schematicAt: number | undefined;
  /** The plan runs a hook at every stage; each Job takes this many passes (0-2) to succeed. */
  hookPasses: number | undefined;
  /** Some passes see the etcd view of an earlier pass (marked so), whatever the cluster did since. */
  staleEtcd: boolean;
  /** The plan takes etcd snapshots to a bucket, with this maxAge (undefined: the default, 1h). */
  etcdBackup: { maxAge: keyof typeof maxAges | undefined } | undefined;
  /** Each snapshot run's course, in the order the runs begin; past the list, stored by the next pass. */
  snapshots: SnapshotAttempt[];
  seed: number;
}

/** The maxAge values the runs use, in the model's own milliseconds. */
const maxAges = { "1h": 3_600_000, "2m": 120_000, "30s": 30_000 } as const;
/** Arbitrary snapshot failures stop after this many in a run, so that the plan can finish. */
const maxSnapshotFailures = 2;
const s3 = anS3Destination();

/** A hook per stage, for plans that run them. */
const everyStage = Object.fromEntries(
  ["beforePlan", "beforeNode", "afterNode", "afterPlan"].map((stage) => [
    stage,
    [aHook(stage.toLowerCase())],
  ]),
);

const gpuSchematic = "c".repeat(64);
const gpuPool = {
  name: "gpu",
  nodeSelector: { matchLabels: { pool: "gpu" } },
  schematic: { id: gpuSchematic },
};

function run(s: Scenario) {
  const chance = seededRandom(s.seed).next;
  const make = (i: number, role: ModelNode["role"], version: string): ModelNode => {
    const gpu = role === "worker" && s.gpu[i] === true;
    return modelNode(
      role === "controlplane" ? `cp-${i}` : `worker-${String(i).padStart(2, "0")}`,
      role,
      version,
      s.pods[i] ?? 0,
      gpu ? { pool: "gpu" } : {},
      gpu && s.gpuStart[i] ? gpuSchematic : vanillaSchematic,
    );
  };
  const nodes: ModelNode[] = Array.from({ length: s.controlPlanes + s.workers }, (_, i) =>
    make(i, i < s.controlPlanes ? "controlplane" : "worker", releases[s.start[i] ?? 1] ?? "v1.11.6"),
  );
  const initial = new Map(nodes.map((n) => [n.name, n.version]));
  const initialSchematic = new Map(nodes.map((n) => [n.name, n.schematic]));
  let target = "v1.12.4";
  let pooled = s.schematicAt === 0;
  let plan: Plan = aPlan({
    talos: {
      version: target,
      intermediateVersions: ["v1.11.6"],
      allowDowngrade: s.allowDowngrade,
      overrides: pooled ? [gpuPool] : [],
    },
    rollout: { maxUnavailable: s.maxUnavailable, nodeTimeout: "30m", soakTime: "0s" },
    ...(s.hookPasses !== undefined ? { hooks: everyStage } : {}),
    ...(s.etcdBackup
      ? { etcdBackup: { s3, ...(s.etcdBackup.maxAge ? { maxAge: s.etcdBackup.maxAge } : {}) } }
      : {}),
  });
  const calls = new Map<string, number>();
  const shell = new ModelShell();
  /** Hook Jobs as the apiserver keeps them (a name is one Job), and each run's Jobs in order made. */
  const jobs = new Map<string, { doneAt: number; createdAt: string }>();
  const hookLog: { run: string; node: string | undefined; job: string; tick: number }[] = [];
  const upgrades: { node: string; tick: number; image: string }[] = [];
  const excludedBeforeStart = new Set<string>();
  const violations: string[] = [];
  const cordonedAfterFailure: string[] = [];
  let failed = false;
  let deleted: string | undefined;
  let now = t0.getTime();
  /** The bucket: every snapshot stored, with the pass it was asked for and when. */
  const stored: StoredSnapshot[] = [];
  /** Control planes as the plan started them (the status write that takes them from idle), by step. */
  const cpStarts: { node: string; version: string; at: number; tick: number }[] = [];
  /** Keys the status recorded as failed: a new attempt must take a new key. */
  const failedKeys = new Set<string>();
  const maxAgeMs = maxAges[s.etcdBackup?.maxAge ?? "1h"];
  let snapshotFailures = 0;
  const nextAttempt = (): SnapshotAttempt => {
    const drawn = s.snapshots[shell.snapshotRuns] ?? { passes: 0, fails: false, waitsForInFlight: false };
    const fails = drawn.fails && snapshotFailures < maxSnapshotFailures;
    if (fails) snapshotFailures++;
    return { ...drawn, fails };
  };
  /**
   * A snapshot that covers starting a control plane for `version` at `at`: one for pass "talos
   * <version>" stored by then, and no older than maxAge unless a control plane of that step (among
   * the first `before` starts) had started since it was stored.
   */
  const covering = (version: string, at: number, before: number) =>
    stored.find(
      (x) =>
        x.pass === `talos ${version}` &&
        x.storedAt <= at &&
        (at - x.storedAt <= maxAgeMs ||
          cpStarts.slice(0, before).some((o) => o.version === version && o.at >= x.storedAt)),
    );
  const iso = (ms: number) => new Date(ms).toISOString();
  const bucketList = () =>
    stored.length === 0
      ? "none"
      : stored.map((x) => `"${x.pass}" stored ${iso(x.storedAt)} (${x.key})`).join(", ");

  const reachable = (n: ModelNode) => reachableAt(n, now);
  const view = (n: ModelNode) =>
    shell.view(n, now, plan.status?.nodes.find((e) => e.name === n.name)?.bootIdBefore);
  // Started: cordoned, rebooting, or recorded as started in the plan's status (its cordon may not be
  // carried out yet).
  const idle = ["Pending", "Done", "Skipped", "Failed", undefined];
  const inFlight = (n: ModelNode) =>
    n.unschedulable ||
    n.upgrade !== undefined ||
    !idle.includes(plan.status?.nodes.find((e) => e.name === n.name)?.state);
  const settled = (name: string) => {
    const n = nodes.find((m) => m.name === name);
    return n === undefined || !n.exists || !inFlight(n);
  };
  const sourceUp = (name: string) => {
    const n = nodes.find((m) => m.name === name);
    return n?.exists === true && n.role === "controlplane" && reachableAt(n, now);
  };

  /** Install actions carried out (Talos ≥ 1.13 nodes, before their cordon). */
  let installs = 0;
  /** Upgrade calls Talos acked and never started (the lock held by someone's reboot). */
  let lockedCalls = 0;
  /** Upgrade calls whose sequence Talos failed; the reason the node failed with, before its retry. */
  let failedCalls = 0;
  let failedBeforeRetry: string | undefined;
  let lastEtcd: { healthy: boolean; members: number; healthyMembers: number; message: string } | undefined;
  /** The status write that confirms Talos took a node's call. */
  const confirmCall = (name: string) => {
    const entries = plan.status?.nodes.map((e) =>
      e.name === name ? { ...e, upgradeCalledAt: new Date(now).toISOString() } : e,
    );
    plan = { ...plan, status: { ...(plan.status as NonNullable<Plan["status"]>), nodes: entries ?? [] } };
  };
  let tick = 0;
  for (; tick < 6_000; tick++) {
    finishReboots(nodes, now, (n) => nodes.indexOf(n) === s.rollbackNode);
    // A person reads why the node failed and asks for a retry, once.
    const victim = s.failedNode !== undefined ? nodes[s.failedNode] : undefined;
    const victimEntry = plan.status?.nodes.find((e) => e.name === victim?.name);
    if (
      failedBeforeRetry === undefined &&
      plan.status?.phase === "Failed" &&
      victimEntry?.state === "Failed"
    ) {
      failedBeforeRetry = victimEntry.reason ?? "";
      plan = {
        ...plan,
        metadata: { ...plan.metadata, annotations: { ...plan.metadata.annotations, [retryAnnotation]: "1" } },
      };
      shell.retry((plan.status?.nodes ?? []).filter((e) => e.state === "Failed").map((e) => e.name));
      failed = false;
    }
    // The fleet changes under the plan.
    if (tick === s.editAt) {
      target = "v1.12.5";
      const spec = {
        ...plan.spec,
        talos: { ...(plan.spec.talos as NonNullable<Plan["spec"]["talos"]>), version: target },
      };
      plan = {
        ...plan,
        spec,
        metadata: { ...plan.metadata, generation: (plan.metadata.generation ?? 1) + 1 },
      };
    }
    if (tick === s.nextMinorAt && (s.editAt === undefined || s.editAt < s.nextMinorAt)) {
      target = "v1.13.1";
      const talos = plan.spec.talos as NonNullable<Plan["spec"]["talos"]>;
      const spec = {
        ...plan.spec,
        talos: { ...talos, version: target, intermediateVersions: ["v1.11.6", "v1.12.5"] },
      };
      plan = {
        ...plan,
        spec,
        metadata: { ...plan.metadata, generation: (plan.metadata.generation ?? 1) + 1 },
      };
    }
    if (tick === s.schematicAt && !pooled) {
      pooled = true;
      const talos = plan.spec.talos as NonNullable<Plan["spec"]["talos"]>;
      const spec = { ...plan.spec, talos: { ...talos, overrides: [gpuPool] } };
      plan = {
        ...plan,
        spec,
        metadata: { ...plan.metadata, generation: (plan.metadata.generation ?? 1) + 1 },
      };
    }
    const excludeVictim = nodes[s.excludeNode % nodes.length] as ModelNode;
    if (tick === s.excludeAt) {
      if (!inFlight(excludeVictim) && excludeVictim.version === initial.get(excludeVictim.name))
        excludedBeforeStart.add(excludeVictim.name);
      excludeVictim.excluded = true;
    }
    if (tick === s.includeAgainAt) {
      excludeVictim.excluded = false;
      excludedBeforeStart.delete(excludeVictim.name);
    }
    if (tick === s.joinAt) {
      const joined = make(nodes.length, "worker", "v1.11.6");
      nodes.push(joined);
      initial.set(joined.name, joined.version);
      initialSchematic.set(joined.name, joined.schematic);
    }
    if (s.deleteWhileRebooting && deleted === undefined) {
      const rebooting = plan.status?.nodes.find(
        (e) => e.role === "worker" && (e.state === "Upgrading" || e.state === "Rebooting"),
      );
      const victim = nodes.find((n) => n.name === rebooting?.name);
      if (victim) {
        victim.exists = false;
        deleted = victim.name;
      }
    }
    const leaver = nodes[s.leaveNode % nodes.length] as ModelNode;
    if (tick === s.leaveAt && leaver.role === "worker" && !inFlight(leaver)) leaver.exists = false;

    const present = nodes.filter((n) => n.exists);
    const cps = present.filter((n) => n.role === "controlplane");
    const down = (n: ModelNode) => isDown(n, now);
    const cpDown = cps.filter(down).length;
    // The plan's workers: those it selects, and those it is still upgrading after they left.
    const workers = present.filter((n) => n.role === "worker" && (!n.excluded || n.upgrade !== undefined));
    const budget = budgetOf(s.maxUnavailable, workers.length);
    // A worker started on the lifecycle API holds its place while it installs, not cordoned yet;
    // one restoring its own installer, not cordoned, serves and is about to be released.
    const installing = (n: ModelNode) => {
      const entry = plan.status?.nodes.find((e) => e.name === n.name);
      return !n.unschedulable && entry?.state === "Draining" && entry.restoreImage === undefined;
    };
    const workersDown = workers.filter((n) => down(n) || installing(n)).length;
    if (cpDown > 1) violations.push(`${cpDown} control planes unavailable at tick ${tick}`);
    // A node the plan is not working on boots what it runs: no installer for another version is
    // left written for its next boot (a plan that stopped upgrading it restores its own first).
    for (const n of present) {
      const state = plan.status?.nodes.find((e) => e.name === n.name)?.state;
      const tag = n.nextBoot?.slice(n.nextBoot.lastIndexOf(":") + 1);
      if (
        tag !== undefined &&
        tag !== n.version &&
        (state === "Done" || state === "Skipped" || state === "Pending")
      )
        violations.push(`${n.name} ${state} at tick ${tick} with ${tag} installed for its next boot`);
    }

    // Nodes the plan had started before this pass (a cordon lost in a crash is made again).
    const startedBefore = new Set(present.filter(inFlight).map((n) => n.name));
    const healthy = cps.filter(reachable).length;
    // The shell's snapshot run as this pass observes it (one due to end ends now).
    const etcdSnapshot = shell.etcdSnapshotRun({ tick, now }, settled, sourceUp, stored);
    const freshEtcd = {
      healthy: healthy === cps.length,
      members: cps.length,
      healthyMembers: healthy,
      message: "",
    };
    const stale = s.staleEtcd && lastEtcd !== undefined && chance() < 0.5;
    const etcdView = stale && lastEtcd ? { ...lastEtcd, earlier: true } : freshEtcd;
    if (!stale) lastEtcd = freshEtcd;
    const decision = decide({
      now: new Date(now),
      plan,
      nodes: present.map(view),
      gates: [],
      etcd: etcdView,
      ...(s.hookPasses !== undefined
        ? {
            hookJobs: new Map(
              [...jobs].map(([name, j]) => [
                name,
                { state: tick >= j.doneAt ? "Succeeded" : "Running", createdAt: j.createdAt } as const,
              ]),
            ),
          }
        : {}),
      ...(etcdSnapshot ? { etcdSnapshot } : {}),
    });
    if (!s.etcdBackup && decision.actions.some((a) => a.kind === "etcdSnapshot"))
      violations.push(`an etcdSnapshot action at tick ${tick} in a plan without etcdBackup`);
    // Ready is said once the plan's cordons are off, not in the pass that releases the last one.
    const cordoned = present.filter((n) => n.unschedulable).map((n) => n.name);
    if (decision.status.phase === "Completed" && plan.status?.phase !== "Completed" && cordoned.length > 0)
      violations.push(`Completed at tick ${tick} with ${cordoned.join(", ")} still cordoned`);
    if (decision.status.phase === "Completed" && decision.actions.length === 0) {
      plan = { ...plan, status: decision.status };
      break;
    }
    if (decision.status.phase === "Failed") {
      failed = true;
      const retryDue = s.failedNode !== undefined && failedBeforeRetry === undefined;
      if (decision.status.summary?.inProgress === 0 && !retryDue) {
        plan = { ...plan, status: decision.status };
        break;
      }
    }
    // The status write (the intent) may be refused with a conflict: the pass then acts on nothing.
    if (chance() < s.conflictRate) {
      now += 2_000;
      continue;
    }
    const written = plan.status?.nodes ?? [];
    plan = { ...plan, status: decision.status };
    if (s.etcdBackup) {
      const backup = decision.status.etcdBackup;
      if (backup?.state === "Failed" && backup.key) failedKeys.add(backup.key);
      // A control plane the written status takes from idle starts now, for the step its entry names:
      // a retried node counts though its cordon was kept since it failed.
      for (const e of decision.status.nodes) {
        const before = written.find((w) => w.name === e.name)?.state;
        if (e.role !== "controlplane" || idle.includes(e.state) || !idle.includes(before)) continue;
        const version = e.version ?? "?";
        if (!covering(version, now, cpStarts.length))
          violations.push(
            `control plane ${e.name} started for ${version} at tick ${tick} (${iso(now)}) with no snapshot for "talos ${version}" stored within maxAge ${s.etcdBackup.maxAge ?? "1h"} before it; the bucket: ${bucketList()}`,
          );
        cpStarts.push({ node: e.name, version, at: now, tick });
      }
    }
    // The shell may crash between any two effects: only a prefix of the actions is carried out.
    const crashed = chance() < s.crashRate;
    const carried = crashed ? Math.floor(chance() * (decision.actions.length + 1)) : decision.actions.length;
    let takenDown = workersDown;
    for (const action of decision.actions.slice(0, carried)) {
      if (action.kind === "runHook") {
        if (!jobs.has(action.job)) {
          jobs.set(action.job, {
            doneAt: tick + (s.hookPasses ?? 0),
            createdAt: new Date(now).toISOString(),
          });
          hookLog.push({ run: action.stage, node: action.node, job: action.job, tick });
        }
        continue;
      }
      if (action.kind === "etcdSnapshot") {
        const intent = plan.status?.etcdBackup;
        if (intent?.key !== action.key)
          violations.push(
            `etcdSnapshot ${action.key} asked at tick ${tick}; the status names ${intent?.key}`,
          );
        if (failedKeys.has(action.key))
          violations.push(`etcdSnapshot ${action.key} asked again at tick ${tick} after it failed`);
        if (shell.endedSnapshot() === action.key)
          violations.push(`etcdSnapshot ${action.key} asked again at tick ${tick} though its run had ended`);
        shell.etcdSnapshot(
          action,
          {
            tick,
            now,
            pass: intent?.pass ?? "?",
            inFlight: present.filter(inFlight).map((m) => m.name),
            sourceUp: sourceUp(action.source),
          },
          nextAttempt,
        );
        continue;
      }
      const n = present.find((m) => m.name === action.node);
      if (!n) continue;
      if (action.kind === "cordon") {
        // A worker is newly taken down only within the budget of the moment (a budget that shrinks
        // while workers are down, as the selection narrows, cannot bring them back up).
        if (n.role === "worker" && !down(n) && !startedBefore.has(n.name) && ++takenDown > budget)
          violations.push(
            `worker ${n.name} cordoned with ${takenDown - 1} down (budget ${budget}) at tick ${tick}`,
          );
        // After a failure nothing new starts; a node already in flight is carried on.
        if (!n.unschedulable && failed && !startedBefore.has(n.name)) cordonedAfterFailure.push(n.name);
      }
      if (action.kind === "install") {
        // Installed only as a start the status records, on a node still serving, within the budget;
        // or, on a node the plan no longer upgrades, its own installer again over the one installed
        // for its next boot (a restore), cordoned or not.
        const entry = plan.status?.nodes.find((e) => e.name === n.name);
        const state = entry?.state;
        const restore = state === "Draining" && entry?.restoreImage === action.image;
        if (!restore && (n.unschedulable || state !== "Draining"))
          violations.push(`${n.name} installed at tick ${tick}: ${n.unschedulable ? "cordoned" : state}`);
        if (!restore && n.role === "worker" && !down(n) && !startedBefore.has(n.name) && ++takenDown > budget)
          violations.push(
            `worker ${n.name} installing with ${takenDown - 1} down (budget ${budget}) at tick ${tick}`,
          );
        shell.install(action, n, now);
        installs++;
        continue;
      }
      const from = n.version;
      const seconds = s.rebootSeconds[nodes.indexOf(n)] ?? 60;
      const faults = {
        lockedByReboot: nodes.indexOf(n) === s.lockedNode && lockedCalls === 0,
        failsSequence: nodes.indexOf(n) === s.failedNode && failedCalls === 0,
      };
      const reached =
        action.kind === "upgrade"
          ? shell.upgrade(action, n, plan.metadata.name, now, seconds, faults)
          : undefined;
      if (reached === "failed") {
        failedCalls++;
        if (!(crashed ? chance() < 0.5 : chance() < s.conflictRate)) confirmCall(n.name);
      } else if (reached === "locked") {
        lockedCalls++;
        if (!(crashed ? chance() < 0.5 : chance() < s.conflictRate)) confirmCall(n.name);
      } else if (reached === "called" && action.kind === "upgrade") {
        // A control plane is called only after a start the bucket covered. It is covered for the step
        // it started for: one cordoned for v1.12.4 and retargeted to v1.12.5 before its call (the
        // target edited) goes on under the v1.12.4 pass's snapshot, taken before its cordon.
        const start = cpStarts.findLast((o) => o.node === n.name);
        if (
          s.etcdBackup &&
          n.role === "controlplane" &&
          !(start && covering(start.version, start.at, cpStarts.indexOf(start)))
        )
          violations.push(
            `control plane ${n.name} called for ${action.version} at tick ${tick}, ${start ? `started for ${start.version} at tick ${start.tick}` : "never started"}, with no snapshot covering its start; the bucket: ${bucketList()}`,
          );
        const key = `${n.name}→${action.version}@${schematicOf(action.image)}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        upgrades.push({ node: n.name, tick, image: action.image });
        const down = rank(action.version) < rank(from);
        if (down && !(s.allowDowngrade && minor(action.version) === minor(from)))
          violations.push(`${n.name} taken down from ${from} to ${action.version}`);
        if (excludedBeforeStart.has(n.name)) violations.push(`${n.name} upgraded while excluded`);
        // The call confirmed in status; a crash may come before the write, or the write meet a conflict.
        const lost = crashed ? chance() < 0.5 : chance() < s.conflictRate;
        if (!lost) confirmCall(n.name);
      } else if (action.kind === "patchInstallImage") {
        shell.patchInstallImage(action, n, now);
      } else if (action.kind !== "upgrade") {
        // An uncordon carried out before a cordon of the same pass frees its place in the budget.
        const wasDown = workers.includes(n) && down(n);
        carryOut(action, n, plan.metadata.name, now, seconds);
        if (action.kind === "uncordon" && wasDown && !down(n)) takenDown--;
      }
    }
    if (crashed) {
      shell.crash();
      now += restartMs;
    }
    now += 2_000;
  }
  // Out of passes with a snapshot run still waiting on nodes that were in flight when it began:
  // they were stuck behind the gate.
  const waiting = tick >= 6_000 ? shell.snapshotWaitingOn(settled) : undefined;
  if (waiting)
    violations.push(
      `nodes in flight ${waiting.nodes.join(", ")} never settled while etcd snapshot ${waiting.key} ran`,
    );
  return {
    plan,
    nodes,
    calls,
    hookLog,
    upgrades,
    violations,
    target,
    tick,
    cordonedAfterFailure,
    deleted,
    pooled,
    initialSchematic,
    stored,
    snapshotRuns: shell.snapshotRuns,
    installs,
    lockedCalls,
    failedCalls,
    failedBeforeRetry,
  };
}

const optionalTick = fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined });
const scenario = fc
  .record({
    controlPlanes: fc.constantFrom(1, 3),
    workers: fc.integer({ min: 0, max: 7 }),
    maxUnavailable: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom("25%", "50%", "100%")),
    allowDowngrade: fc.boolean(),
    crashRate: fc.constantFrom(0, 0.2, 0.5),
    conflictRate: fc.constantFrom(0, 0.1, 0.3),
    editAt: optionalTick,
    nextMinorAt: optionalTick,
    excludeAt: optionalTick,
    excludeNode: fc.nat(),
    includeAgainAt: optionalTick,
    joinAt: optionalTick,
    leaveAt: optionalTick,
    leaveNode: fc.nat(),
    schematicAt: fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })), { nil: undefined }),
    // Hooks in about half the runs: they lengthen a run, and the rest keep the plain paths.
    hookPasses: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 2 }),
    staleEtcd: fc.boolean(),
    // An etcd snapshot before each pass's first control plane in about half the runs.
    etcdBackup: fc.option(
      fc.record({ maxAge: fc.option(fc.constantFrom("1h", "2m", "30s"), { nil: undefined, freq: 2 }) }),
      { nil: undefined, freq: 2 },
    ),
    snapshots: fc.array(
      fc.record({
        passes: fc.integer({ min: 0, max: 2 }),
        // About one run in four fails; one in eight waits on the nodes in flight.
        fails: fc.constantFrom(false, false, false, true),
        waitsForInFlight: fc.constantFrom(false, false, false, false, false, false, false, true),
      }),
      { maxLength: 6 },
    ),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((base) => {
    const size = base.controlPlanes + base.workers + 1;
    return fc.record({
      ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
      start: fc.array(fc.integer({ min: 0, max: releases.length - 1 }), { minLength: size, maxLength: size }),
      rebootSeconds: fc.array(fc.integer({ min: 10, max: 200 }), { minLength: size, maxLength: size }),
      pods: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: size, maxLength: size }),
      gpu: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
      gpuStart: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
    }) as fc.Arbitrary<Scenario>;
  });

/**
 * Hooks, by the model's own record, rollout by rollout (each begins with its beforePlan Job): the
 * plan's first Job before any upgrade call of the rollout and its last after all of them; each
 * node's Jobs and calls in the order beforeNode, call, afterNode, once per call, whatever crashes,
 * refused writes and retargets came between (a node released before its call has a beforeNode
 * Job and nothing after it).
 */
function expectHooksInOrder(result: ReturnType<typeof run>): void {
  const starts = result.hookLog.filter((h) => h.run === "BeforePlan").map((h) => h.tick);
  for (const [i, start] of starts.entries()) {
    const end = starts[i + 1] ?? Infinity;
    const log = result.hookLog.filter((h) => h.tick >= start && h.tick < end);
    const calls = result.upgrades.filter((u) => u.tick >= start && u.tick < end);
    expect(log.filter((h) => h.run === "BeforePlan" || h.run === "AfterPlan").map((h) => h.run)).toEqual(
      log.some((h) => h.run === "AfterPlan") ? ["BeforePlan", "AfterPlan"] : ["BeforePlan"],
    );
    const afterPlan = log.find((h) => h.run === "AfterPlan")?.tick ?? Infinity;
    expect(calls.filter((u) => u.tick >= afterPlan)).toEqual([]);
    for (const node of new Set(calls.map((u) => u.node))) {
      const letters = { BeforeNode: "B", AfterNode: "A" } as Record<string, string>;
      const sequence = [
        ...log
          .filter((h) => h.node === node)
          .map((h) => ({ tick: h.tick, at: letters[h.run] ?? "?", order: h.run === "AfterNode" ? 2 : 0 })),
        ...calls.filter((u) => u.node === node).map((u) => ({ tick: u.tick, at: "U", order: 1 })),
      ]
        .sort((a, b) => a.tick - b.tick || a.order - b.order)
        .map((e) => e.at)
        .join("");
      expect({ node, sequence: /^(BUA)*B?$/.test(sequence) ? "in order" : sequence }).toEqual({
        node,
        sequence: "in order",
      });
    }
  }
  const first = result.upgrades[0];
  if (first) expect(starts[0]).toBeLessThan(first.tick);
}

it("holds the safety invariants on fleets that change under the plan, and completes", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const result = run(s);
      expect(result.violations).toEqual([]);
      const ready = result.plan.status?.conditions.find((c) => c.type === "Ready");
      if (result.nodes.every((n) => !n.exists || n.excluded)) {
        expect(ready?.reason).toBe("NoNodesSelected");
        return;
      }
      expect(result.plan.status?.phase).toBe("Completed");
      // No node called twice for one step.
      expect([...result.calls].filter(([, count]) => count > 1)).toEqual([]);
      if (s.hookPasses !== undefined) expectHooksInOrder(result);
      if (!s.etcdBackup) expect(result.snapshotRuns).toBe(0);
      for (const n of result.nodes.filter((m) => m.exists)) {
        expect({ node: n.name, cordoned: n.unschedulable }).toEqual({ node: n.name, cordoned: false });
        // A node the plan upgraded names the installer it was last called with, for a later
        // reinstall or reset, also where a crash lost the word that Talos took the call, and where
        // it was excluded after its start or between two steps (the plan finishes its step and
        // writes the installer). Not yet one excluded before its pool's new schematic reached it:
        // verified on the target as the schematic was asked for, it is pending again at once, and
        // the installer of the call it finished is not written (a known gap).
        const called = result.upgrades.findLast((u) => u.node === n.name)?.image;
        const schematicPending =
          n.excluded && result.pooled && n.labels.pool === "gpu" && n.schematic !== gpuSchematic;
        if (!schematicPending)
          expect({ node: n.name, installImage: n.installImage }).toEqual({
            node: n.name,
            installImage: called,
          });
        if (n.excluded) continue;
        const ahead =
          rank(n.version) > rank(result.target) &&
          !(s.allowDowngrade && minor(n.version) === minor(result.target));
        expect({ node: n.name, onTarget: n.version === result.target || ahead }).toEqual({
          node: n.name,
          onTarget: true,
        });
        // The pool's nodes run its schematic once it is asked for; no other node's schematic moves.
        const wantSchematic =
          result.pooled && n.labels.pool === "gpu" ? gpuSchematic : result.initialSchematic.get(n.name);
        if (!ahead)
          expect({ node: n.name, schematic: n.schematic }).toEqual({
            node: n.name,
            schematic: wantSchematic,
          });
      }
    }),
    {
      numRuns: Number(process.env.FLEET_PROPERTY_RUNS ?? 1000),
      ...(process.env.FLEET_PROPERTY_SEED ? { seed: Number(process.env.FLEET_PROPERTY_SEED) } : {}),
      ...(process.env.FLEET_PROPERTY_PATH ? { path: process.env.FLEET_PROPERTY_PATH } : {}),
    },
  );
});

it("on the lifecycle API (v1.13.0 → v1.13.1) installs while the node serves, within the rules, and completes", () => {
  const v113 = rank("v1.13.0");
  const lifecycle = scenario
    .map((s) => ({ ...s, editAt: undefined, nextMinorAt: 0, excludeAt: undefined, leaveAt: undefined }))
    .filter((s) => s.start.slice(0, s.controlPlanes + s.workers).includes(v113));
  fc.assert(
    fc.property(lifecycle, (s) => {
      const result = run(s);
      expect(result.violations).toEqual([]);
      expect(result.plan.status?.phase).toBe("Completed");
      expect([...result.calls].filter(([, count]) => count > 1)).toEqual([]);
      expect(result.installs).toBeGreaterThan(0);
      for (const n of result.nodes.filter((m) => m.exists))
        expect({ node: n.name, version: n.version, cordoned: n.unschedulable }).toEqual({
          node: n.name,
          version: "v1.13.1",
          cordoned: false,
        });
    }),
    { numRuns: 100 },
  );
});

/** The run's node `victim` ends on the target, its cordon released. */
function expectOnTarget(result: ReturnType<typeof run>, victim: number): void {
  const n = result.nodes[victim];
  expect({ node: n?.name, version: n?.version, cordoned: n?.unschedulable }).toEqual({
    node: n?.name,
    version: result.target,
    cordoned: false,
  });
}

/** Runs with no edit, exclusion, join or leave, and a node behind the target: its index, `victim`. */
const quietWithVictim = scenario
  .map((s) => ({ ...s, editAt: undefined, excludeAt: undefined, joinAt: undefined, leaveAt: undefined }))
  .filter((s) => s.start.slice(0, s.controlPlanes + s.workers).some((r) => r < 2))
  .map((s) => ({ s, victim: s.start.findIndex((r, i) => r < 2 && i < s.controlPlanes + s.workers) }));

it("stops at a Talos rollback: the plan fails, names the node, and starts nothing new", () => {
  fc.assert(
    fc.property(quietWithVictim, ({ s, victim }) => {
      const result = run({ ...s, rollbackNode: victim });
      const name = result.nodes[victim]?.name ?? "";
      expect(result.violations).toEqual([]);
      expect(result.plan.status?.phase).toBe("Failed");
      const failedEntries = result.plan.status?.nodes.filter((e) => e.state === "Failed") ?? [];
      expect(failedEntries.map((e) => [e.name, e.reason])).toEqual([[name, "RolledBack"]]);
      expect(result.cordonedAfterFailure).toEqual([]);
      expect([...result.calls].filter(([key]) => key.startsWith(`${name}→`)).map(([, n]) => n)).toEqual([1]);
    }),
    { numRuns: 200 },
  );
});

it("someone's reboot holds machined's lock at a node's upgrade call: called again, upgraded once; a crash that loses the event says RolledBack", () => {
  fc.assert(
    fc.property(quietWithVictim, ({ s, victim }) => {
      const result = run({ ...s, lockedNode: victim });
      const name = result.nodes[victim]?.name ?? "";
      expect(result.violations).toEqual([]);
      expect(result.lockedCalls).toBe(1);
      // No upgrade that ran was asked twice for one step, the locked call aside.
      expect([...result.calls].filter(([, count]) => count > 1)).toEqual([]);
      if (result.plan.status?.phase === "Failed") {
        // Only a restart before a pass has read the event (and written it) loses it: the boot on
        // the old version then reads as a rollback.
        expect(s.crashRate).toBeGreaterThan(0);
        const failedEntries = result.plan.status?.nodes.filter((e) => e.state === "Failed") ?? [];
        expect(failedEntries.map((e) => [e.name, e.reason])).toEqual([[name, "RolledBack"]]);
        expect(result.cordonedAfterFailure).toEqual([]);
        return;
      }
      expect(result.plan.status?.phase).toBe("Completed");
      expectOnTarget(result, victim);
      expect(result.upgrades.filter((u) => u.node === name).length).toBeGreaterThanOrEqual(1);
    }),
    { numRuns: 200 },
  );
});

it("a node whose upgrade sequence Talos fails: the plan fails on it, and a retry calls it again and upgrades it once", () => {
  fc.assert(
    fc.property(quietWithVictim, ({ s, victim }) => {
      const result = run({ ...s, failedNode: victim });
      expect(result.violations).toEqual([]);
      expect(result.failedCalls).toBe(1);
      // Said at once from machined's event. A restart that lost the event waits out nodeTimeout;
      // one that also lost the call's confirmation makes the intent's call again, which runs.
      if (s.crashRate === 0) expect(result.failedBeforeRetry).toBe("UpgradeFailed");
      else expect(["UpgradeFailed", "NodeTimeout", undefined]).toContain(result.failedBeforeRetry);
      // The retry's call ran (the machine still REBOOTING on the boot it failed on), and no upgrade
      // that ran was asked twice for one step.
      expect([...result.calls].filter(([, count]) => count > 1)).toEqual([]);
      expect(result.plan.status?.phase).toBe("Completed");
      expectOnTarget(result, victim);
    }),
    { numRuns: 200 },
  );
});

it("a Node deleted while its machine reboots: the plan fails NodeGone, stays failed, and starts nothing new", () => {
  const quiet = scenario
    .map((s) => ({ ...s, editAt: undefined, excludeAt: undefined, joinAt: undefined, leaveAt: undefined }))
    // A worker that needs an upgrade (behind the target) is there to be deleted.
    .filter((s) => s.start.slice(s.controlPlanes, s.controlPlanes + s.workers).some((r) => r < 2));
  fc.assert(
    fc.property(quiet, (s) => {
      const result = run({ ...s, deleteWhileRebooting: true });
      expect(result.violations).toEqual([]);
      expect(result.deleted).toBeDefined();
      expect(result.plan.status?.phase).toBe("Failed");
      const entry = result.plan.status?.nodes.find((e) => e.name === result.deleted);
      expect(entry).toMatchObject({ state: "Failed", reason: "NodeGone" });
      expect(result.cordonedAfterFailure).toEqual([]);
    }),
    { numRuns: 200 },
  );
});
