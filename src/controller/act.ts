// act(): carries out a decision's actions through the Kubernetes and Talos adapters, and notes the
// outcomes that the next observation must know (refused evictions, pulls, refused upgrades).
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import type { EtcdSnapshotAction, EtcdSnapshotResult } from "../backup/etcd-snapshot.ts";
import { drainPlan, type PodRef } from "../core/drain-policy.ts";
import { matcherText } from "../core/silence.ts";
import { apiMessage, httpStatus } from "../kube/client.ts";
import type { Evictions } from "../kube/evictions.ts";
import type { HookJobs } from "../kube/jobs.ts";
import type { ManifestSync } from "../kube/manifest-sync.ts";
import type { NodeControl } from "../kube/nodes.ts";
import type { Action } from "../model/actions.ts";
import type { EtcdSnapshotRun } from "../model/observation.ts";
import { expireSilences, putSilence } from "../notify/alertmanager.ts";
import { type TalosClient, TalosError } from "../talos/client.ts";
import {
  applyConfiguration,
  facts,
  imagePull,
  installLifecycle,
  machineConfig,
  reboot,
  upgradeLegacy,
} from "../talos/machine.ts";
import { withComponentImage, withInstallImage } from "../talos/machine-config.ts";
import { sameBootStatus, type WatchedMachine } from "../talos/machine-status.ts";
import type { FollowedSequence, SequenceVerdict } from "../talos/sequence-events.ts";
import { type DrainRound, onSameStream, type ShellMemory } from "./observe.ts";
import type { Slots } from "./slots.ts";

export interface ActPorts {
  nodes: NodeControl;
  evictions: Evictions;
  manifests: ManifestSync;
  talosClient: TalosClient | undefined;
  /** The pods of a node being drained. */
  pods: (node: string) => Promise<V1Pod[]>;
  memory: ShellMemory;
  planName: string;
  drain: PlanSpec["drain"];
  self?: PodRef;
  /** The status an open machine watch last delivered, for the nodes under way. */
  watched?: (address: string) => WatchedMachine | undefined;
  /**
   * Makes a call that asks the machine for a sequence (it resolves to the call's actor ID) with the
   * machine's events followed, so that Talos' verdict on the sequence is known (SequenceEvents).
   */
  followed?: (
    address: string,
    bootId: string,
    sequence: FollowedSequence,
    call: () => Promise<string>,
  ) => Promise<void>;
  /** Talos' verdict on the last sequence asked of a machine, from its events. */
  sequenceVerdict?: (address: string) => SequenceVerdict | undefined;
  /** Called when a pull or an install started off the pass ends, so that the plan is looked at again. */
  offPassEnded: () => void;
  /** Drain rounds under way at once, across the operator's plans. */
  drainSlots: Slots;
  /** How long a round may hold its slot; drainRoundLimitMs unless given. */
  drainRoundLimitMs?: number;
  hookJobs?: HookJobs;
  /** Takes, stores and verifies an etcd snapshot; called off the pass. */
  etcdSnapshot?: (
    action: EtcdSnapshotAction,
    talosClient: TalosClient,
    signal: AbortSignal,
  ) => Promise<EtcdSnapshotResult>;
  /** Called when an etcd snapshot run ends, so that the plan is looked at again. */
  snapshotted?: () => void;
}

/** Evictions under way at once in one node's drain. */
const evictionsAtOnce = 16;
/** Nodes drained side by side (drainSlots' size): with their evictions, at most 64 requests at once. */
export const drainsAtOnce = 4;

/**
 * Runs `work` on every item, at most `limit` at once; the results in the items' order. Once one
 * throws no further item starts, and the error is thrown when those under way have ended: nothing
 * of a failed batch keeps running behind its caller.
 */
export async function eachAtMost<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let i = next++; i < items.length && !failure; i = next++) {
      try {
        results[i] = await work(items[i] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** How long a round of evictions may hold its slot: an eviction that hangs must not stop every drain. */
const drainRoundLimitMs = 60_000;

/**
 * Releases the rounds under way on nodes that are no longer draining (done, failed, given back, or
 * the plan gone): they evict nothing more, and one that has not started yet reads nothing.
 */
export function releaseRounds(memory: ShellMemory, draining: Set<string>): void {
  for (const [node, round] of memory.draining) if (!draining.has(node)) round.released = true;
}

/**
 * One round of a node's evictions. A refusal says the pod's disruption budget allows none now; the
 * pods of the same owner share that budget, so they go one after another, and after a refusal wait
 * for the next round rather than be refused one by one. Owners go side by side, as kubectl drain's
 * evictions do. A round released meanwhile evicts no more and leaves no verdict.
 */
async function drainRound(node: string, ports: ActPorts, round: DrainRound): Promise<void> {
  const { memory } = ports;
  if (round.released) return;
  const plan = drainPlan(await ports.pods(node), node, ports.drain, ports.self);
  const byOwner = new Map<string, V1Pod[]>();
  for (const pod of plan.evict) {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid ?? pod.metadata?.uid ?? "";
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), pod]);
  }
  const refusals = await eachAtMost([...byOwner.values()], evictionsAtOnce, async (pods) => {
    for (const pod of pods) {
      if (round.released) return [];
      const result = await ports.evictions.evict(pod);
      if (!result.evicted) return [result.reason];
    }
    return [];
  });
  if (round.released) return;
  const refused = refusals.flat();
  if (refused.length > 0) memory.drainBlocked.set(node, refused.join("; "));
  else memory.drainBlocked.delete(node);
}

/** The round, or its failure once it has held its slot for `limitMs`. */
async function limited(round: Promise<void>, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the round of evictions did not end within ${limitMs / 1000} s`)),
      limitMs,
    );
  });
  try {
    await Promise.race([round, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const rebootModes = { Default: "DEFAULT", Powercycle: "POWERCYCLE", Force: "FORCE" } as const;

/** Runs one action; resolves to "called" when a Talos upgrade call was accepted, "patched" when a configuration is as asked. */
export async function act(action: Action, ports: ActPorts): Promise<"called" | "patched" | undefined> {
  const { memory } = ports;
  switch (action.kind) {
    case "cordon":
      await ports.nodes.cordon(action.node, ports.planName);
      return undefined;
    case "uncordon":
      await ports.nodes.uncordon(action.node);
      return undefined;
    case "drain": {
      // Off the pass: a node's round of evictions takes a round trip per pod of an owner, and the
      // pass that waited on it kept every other node's next step waiting too.
      if (memory.draining.has(action.node)) return undefined;
      const round: DrainRound = { released: false };
      memory.draining.set(action.node, round);
      void ports.drainSlots
        .run(() =>
          limited(drainRound(action.node, ports, round), ports.drainRoundLimitMs ?? drainRoundLimitMs),
        )
        .catch((error: unknown) => {
          if (round.released) return;
          memory.drainBlocked.set(
            action.node,
            `drain failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        })
        .finally(() => {
          if (memory.draining.get(action.node) === round) memory.draining.delete(action.node);
        });
      return undefined;
    }
    case "prepull": {
      if (!ports.talosClient) return undefined;
      // Off the pass: a pull may take minutes, and the pass that asked for it must not wait on it.
      const pulling = memory.pulling.get(action.node) ?? new Set<string>();
      memory.pulling.set(action.node, pulling);
      if (pulling.has(action.image)) return undefined;
      pulling.add(action.image);
      void pull(action, ports.talosClient, memory).finally(() => {
        pulling.delete(action.image);
        ports.offPassEnded();
      });
      return undefined;
    }
    case "install": {
      if (!ports.talosClient) return undefined;
      // Off the pass, as a pull: an installer takes minutes to write on a real disk.
      if (memory.installing.get(action.node) === action.image) return undefined;
      memory.installing.set(action.node, action.image);
      void install(action, ports.talosClient, memory).finally(() => {
        memory.installing.delete(action.node);
        ports.offPassEnded();
      });
      return undefined;
    }
    case "etcdSnapshot": {
      if (!ports.talosClient || !ports.etcdSnapshot) return undefined;
      if (memory.etcdSnapshot?.key === action.key && memory.etcdSnapshot.inFlight) return undefined;
      // Off the pass: a snapshot of a large etcd takes minutes to stream and upload.
      const run: EtcdSnapshotRun = { key: action.key, inFlight: true };
      memory.etcdSnapshot = run;
      const signal = AbortSignal.timeout(action.timeoutSeconds * 1000);
      void ports
        .etcdSnapshot(action, ports.talosClient, signal)
        .then(
          (result) => {
            run.outcome = { ok: true, finishedAt: new Date().toISOString(), ...result };
          },
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            run.outcome = { ok: false, finishedAt: new Date().toISOString(), message };
          },
        )
        .finally(() => {
          run.inFlight = false;
          ports.snapshotted?.();
        });
      return undefined;
    }
    case "patchConfig": {
      if (!ports.talosClient) return undefined;
      const errors = memory.patchErrors.get(action.node) ?? new Map<KubeComponent, string>();
      memory.patchErrors.set(action.node, errors);
      try {
        // Read fresh and patch only what differs: after a crash the same action is harmless.
        const current = await machineConfig(ports.talosClient, action.address);
        const patched = withComponentImage(current, action.component, action.image);
        if (patched !== current) await applyConfiguration(ports.talosClient, action.address, patched);
        errors.delete(action.component);
        return "patched";
      } catch (error) {
        if (error instanceof TalosError && error.unavailable) throw error;
        errors.set(action.component, error instanceof Error ? error.message : String(error));
        return undefined;
      }
    }
    case "runHook": {
      if (!ports.hookJobs) return undefined;
      const { kind: _kind, ...request } = action;
      try {
        await ports.hookJobs.create(request);
        memory.hookErrors.delete(action.job);
      } catch (error) {
        // Refused for good (an invalid JobSpec, a namespace quota): the run fails with the reason.
        const status = httpStatus(error);
        if (status === undefined || status >= 500 || status === 429) throw error;
        memory.hookErrors.set(action.job, apiMessage(error));
      }
      return undefined;
    }
    case "putSilence": {
      // Never holds the rollout: a refusal shows in status and the next pass writes again.
      try {
        const id = await putSilence(action, new Date());
        memory.silence = { id, endsAt: action.endsAt, matchers: action.matchers.map(matcherText) };
      } catch (error) {
        memory.silence = { ...memory.silence, error: error instanceof Error ? error.message : String(error) };
      }
      return undefined;
    }
    case "expireSilence": {
      try {
        await expireSilences(action.url, action.plan, action.id);
        memory.silence = { expired: true };
      } catch (error) {
        memory.silence = { ...memory.silence, error: error instanceof Error ? error.message : String(error) };
      }
      return undefined;
    }
    case "syncManifests": {
      // A refusal is shown on the plan and tried again by the next pass; the sync is safe to repeat.
      try {
        await ports.manifests.sync(action);
        delete memory.manifestSyncError;
      } catch (error) {
        memory.manifestSyncError = apiMessage(error);
      }
      return undefined;
    }
    case "patchInstallImage": {
      if (!ports.talosClient) return undefined;
      try {
        // Read fresh and patch only what differs: after a crash the same action is harmless.
        const current = await machineConfig(ports.talosClient, action.address);
        const patched = withInstallImage(current, action.image);
        if (patched !== current) await applyConfiguration(ports.talosClient, action.address, patched);
        memory.installImages.set(action.node, action.image);
      } catch (error) {
        // Unavailable: asked again by the next pass. Refused: said once, and not asked again.
        if (!(error instanceof TalosError) || error.unavailable) throw error;
        memory.installImageRefusals.set(action.node, { image: action.image, message: error.message });
      }
      return undefined;
    }
    case "upgrade": {
      if (!ports.talosClient) return undefined;
      // Never twice for one boot: a call this process made, or one the machine shows it took (it
      // booted since, or a sequence runs: Talos answers before its sequence starts), counts as made.
      // One whose sequence Talos never started (another held machined's lock) is made again.
      const verdict = ports.sequenceVerdict?.(action.address);
      const notStarted = verdict?.outcome === "locked" && verdict.bootId === action.bootIdBefore;
      if (memory.upgradeCalls.get(action.node) === action.bootIdBefore && !notStarted) return "called";
      // REBOOTING on the boot the call is for is also what a failed sequence leaves behind (Talos
      // sets it on FATAL and the machine stays up): there the legacy call is made, with its events
      // followed, and machined's lock tells which it is. A sequence under way holds the lock (the
      // call is LOCKED, and waited out); a failed one does not, and the call runs anew.
      // Only the boot and the stage matter here. A machine watch shows both when it was open since
      // the facts of the boot the call is for were read (a reboot would have ended the stream), or
      // shows the MachineStatus they were read with (a reboot creates it anew): no reboot since, and
      // RUNNING, no sequence under way. Otherwise they are read; the rest is kept from this boot's.
      const known = memory.facts.get(action.node);
      const watched = ports.watched?.(action.address);
      const unchanged =
        known?.facts.bootId === action.bootIdBefore &&
        watched !== undefined &&
        (onSameStream(known, watched) || sameBootStatus(known.facts, watched)) &&
        watched.stage === "RUNNING";
      if (!unchanged) {
        const fresh = await facts(ports.talosClient, action.address, {
          ...(known ? { known: known.facts } : {}),
          ...(ports.watched ? { watched: () => ports.watched?.(action.address) } : {}),
        });
        if (!fresh.reachable) return undefined;
        if (fresh.bootId !== action.bootIdBefore) return "called";
        if (fresh.stage !== "RUNNING" && !(fresh.stage === "REBOOTING" && action.api === "legacy"))
          return "called";
      }
      const follow = (sequence: FollowedSequence, call: () => Promise<string>) =>
        ports.followed ? ports.followed(action.address, action.bootIdBefore, sequence, call) : call();
      try {
        const mode = rebootModes[action.rebootMode];
        if (action.api === "lifecycle") {
          // Installed ahead on this boot: the call is the reboot into it.
          const installed = memory.installs.get(action.node);
          const ahead =
            installed?.image === action.image &&
            installed.bootId === action.bootIdBefore &&
            installed.error === undefined;
          if (!ahead)
            await installLifecycle(
              ports.talosClient,
              action.address,
              action.image,
              memory.pulls.get(action.node)?.get(action.image)?.name,
            );
          const client = ports.talosClient;
          await follow("reboot", () => reboot(client, action.address, mode));
        } else if (mode === "FORCE") {
          // The pre-flight refuses this up front; a plan edited mid-run is told, not downgraded.
          memory.upgradeErrors.set(action.node, "rebootMode Force needs the Talos v1.13+ upgrade API");
          return undefined;
        } else {
          const client = ports.talosClient;
          await follow(action.stage ? "stageUpgrade" : "upgrade", () =>
            upgradeLegacy(client, action.address, action.image, mode, action.stage),
          );
        }
        memory.upgradeErrors.delete(action.node);
        memory.upgradeCalls.set(action.node, action.bootIdBefore);
        return "called";
      } catch (error) {
        if (!(error instanceof TalosError) || error.unavailable) throw error;
        memory.upgradeErrors.set(action.node, error.message);
        return undefined;
      }
    }
  }
}

/** Pulls an image and notes the verdict; a node that is away is asked again by a later pass. */
async function pull(
  action: Extract<Action, { kind: "prepull" }>,
  talosClient: TalosClient,
  memory: ShellMemory,
): Promise<void> {
  const pulls = memory.pulls.get(action.node) ?? new Map<string, { error?: string; name?: string }>();
  memory.pulls.set(action.node, pulls);
  try {
    if (action.api === "lifecycle") {
      const name = await imagePull(talosClient, action.address, action.namespace, action.image);
      // The name containerd knows the installer by, which its install names as the source.
      pulls.set(action.image, name && action.namespace === "NS_SYSTEM" ? { name } : {});
    } else {
      await talosClient.unary(
        "machine",
        "ImagePull",
        { namespace: action.namespace, reference: action.image },
        action.address,
        10 * 60_000,
      );
      pulls.set(action.image, {});
    }
  } catch (error) {
    // Any answer from Talos is the image's verdict; no answer (a node away, a closed client) is none.
    if (error instanceof TalosError && !error.unavailable) pulls.set(action.image, { error: error.message });
  }
}

/** Installs ahead of the reboot and notes the verdict; a node that is away is asked again by a later pass. */
async function install(
  action: Extract<Action, { kind: "install" }>,
  talosClient: TalosClient,
  memory: ShellMemory,
): Promise<void> {
  const { node, image, bootId } = action;
  try {
    await installLifecycle(talosClient, action.address, image, memory.pulls.get(node)?.get(image)?.name);
    memory.installs.set(node, { image, bootId });
  } catch (error) {
    // Any answer from Talos is the install's verdict; no answer is none, and the next pass asks again.
    if (error instanceof TalosError && !error.unavailable)
      memory.installs.set(node, { image, bootId, error: error.message });
  }
}
