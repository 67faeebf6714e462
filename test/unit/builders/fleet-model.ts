// The model cluster the property tests drive decide() against: machines with a Talos version, a
// boot counter and an upgrade under way, Nodes with a cordon and pods. Time is the test's own.
import type { Action } from "../../../src/model/actions.ts";
import type { EtcdSnapshotRun, NodeView } from "../../../src/model/observation.ts";
import { excludeLabel } from "./kube.ts";
import { vanillaSchematic } from "./plans.ts";

/** The Talos versions the model knows, oldest first. */
export const releases = ["v1.10.9", "v1.11.6", "v1.12.4", "v1.12.5", "v1.13.0", "v1.13.1"] as const;
/** The index of a release in `releases`: the model's own version order. */
export const rank = (v: string) => releases.indexOf(v as (typeof releases)[number]);
export const minor = (v: string) => v.split(".").slice(0, 2).join(".");

export interface ModelNode {
  name: string;
  role: "controlplane" | "worker";
  version: string;
  boot: number;
  unschedulable: boolean;
  cordonedBy?: string;
  pods: number;
  labels: Record<string, string>;
  excluded: boolean;
  exists: boolean;
  upgrade?: { startsAt: number; downAt: number; upAt: number; version: string; schematic: string };
  pulled: Set<string>;
  /** The Image Factory schematic the machine runs; a boot takes the one its installer carried. */
  schematic: string;
  /** machine.install.image in its configuration, once the operator has named one there. */
  installImage?: string;
  /** The installer a lifecycle install wrote for the next boot, until a boot takes it. */
  nextBoot?: string;
  /** The boot on which an upgrade sequence failed (FATAL): Talos stays up on it, REBOOTING. */
  failedOn?: number;
}

/** The schematic an Image Factory installer reference carries (the model's own parse). */
export const schematicOf = (image: string) => /\/([0-9a-f]{64}):/.exec(image)?.[1] ?? "none";

/**
 * A machine and its Node at `version`, on its first boot, schedulable, with `pods` pods to evict
 * (default none), `labels` (default none) and the vanilla schematic unless `schematic` says.
 */
export function modelNode(
  name: string,
  role: ModelNode["role"],
  version: string,
  pods = 0,
  labels: Record<string, string> = {},
  schematic = vanillaSchematic,
): ModelNode {
  return {
    name,
    role,
    version,
    schematic,
    boot: 0,
    unschedulable: false,
    pods,
    labels,
    excluded: false,
    exists: true,
    pulled: new Set(),
  };
}

/** The machine answers: not between the reboot's start and its end. */
export const reachable = (n: ModelNode, now: number) =>
  !n.upgrade || now < n.upgrade.downAt || now >= n.upgrade.upAt;

/** Cordoned, or its machine away. */
export const isDown = (n: ModelNode, now: number) => n.unschedulable || !reachable(n, now);

/** A finished reboot boots the new version, or the old one where Talos rolls back. */
export function finishReboots(nodes: ModelNode[], now: number, rollsBack: (n: ModelNode) => boolean): void {
  for (const n of nodes) {
    if (!n.upgrade || now < n.upgrade.upAt) continue;
    if (!rollsBack(n)) {
      n.version = n.upgrade.version;
      n.schematic = n.upgrade.schematic;
    }
    n.boot++;
    n.upgrade = undefined;
    n.nextBoot = undefined;
  }
}

/**
 * The node as a pass observes it at `now`: Ready while its machine answers; addressed by its name
 * (the model has no network); the Talos facts of its boot, or unreachable during a reboot.
 */
export function viewOf(n: ModelNode, now: number): NodeView {
  const up = reachable(n, now);
  return {
    name: n.name,
    role: n.role,
    address: n.name,
    labels: { ...n.labels, ...(n.excluded ? { [excludeLabel]: "true" } : {}) },
    ready: up,
    unschedulable: n.unschedulable,
    ...(n.cordonedBy ? { cordonedBy: n.cordonedBy } : {}),
    evictablePods: n.pods,
    pulls: Object.fromEntries([...n.pulled].map((image) => [image, {}])),
    mirrorPods: {},
    talos: up
      ? {
          reachable: true,
          version: n.version,
          bootId: `${n.name}-${n.boot}`,
          stage:
            n.upgrade && now >= n.upgrade.startsAt && now < n.upgrade.downAt
              ? "UPGRADING"
              : n.failedOn === n.boot
                ? "REBOOTING"
                : "RUNNING",
          ready: true,
          platform: "metal",
          image: { schematic: n.schematic, extensions: [] },
        }
      : { reachable: false, error: "connection refused" },
  };
}

/** machined's error for a failed sequence, as the model's FATAL event carries it. */
const failedSequence =
  "sequence failed: error running phase 1 in upgrade sequence: task 1/1: failed, Unauthorized";

/**
 * Talos answers an upgrade call before its sequence starts: for this long the machine still says
 * RUNNING on the same boot. Longer than a pass, so the next pass sees a machine that looks uncalled.
 */
export const sequenceDelayMs = 3_000;

/**
 * A crashed operator is back this long after: a process restart, longer than the sequence delay,
 * so a new process reads a machine whose sequence has started (what act()'s fresh read relies on).
 */
export const restartMs = 5_000;

/**
 * Carries out one action on the model as the shell and the machine would. Resolves to true when
 * an upgrade call reached a machine (which answers, starts its sequence `sequenceDelayMs` later,
 * then reboots 5 s after the call for `rebootSeconds`). A second call to a machine with an upgrade
 * pending reaches it too, and counts: the invariants call it a second call for one step.
 */
export function carryOut(
  action: Action,
  n: ModelNode,
  plan: string,
  now: number,
  rebootSeconds: number,
): boolean {
  switch (action.kind) {
    case "cordon":
      if (!n.unschedulable) n.cordonedBy = plan;
      n.unschedulable = true;
      return false;
    case "uncordon":
      if (n.cordonedBy) n.unschedulable = false;
      n.cordonedBy = undefined;
      return false;
    case "prepull":
      n.pulled.add(action.image);
      return false;
    case "patchInstallImage":
      if (reachable(n, now)) n.installImage = action.image;
      return false;
    case "drain":
      n.pods = Math.max(0, n.pods - 1);
      return false;
    case "upgrade":
      if (!reachable(n, now)) return false;
      if (n.upgrade) return true;
      n.upgrade = {
        startsAt: now + sequenceDelayMs,
        downAt: now + 5_000,
        upAt: now + 5_000 + rebootSeconds * 1000,
        version: action.version,
        schematic: schematicOf(action.image),
      };
      return true;
    default:
      return false;
  }
}

/** How one etcd snapshot run of the model's shell goes, drawn when the run begins. */
export interface SnapshotAttempt {
  /** Passes the run stays in flight: 0, ended by the next pass. */
  passes: number;
  /** It ends in a failure (a cut stream, a refusing bucket): nothing stored. */
  fails: boolean;
  /** It also stays in flight until every node in flight when it began has settled. */
  waitsForInFlight: boolean;
}

/** An object the model's bucket holds: a snapshot run that ended ok. */
export interface StoredSnapshot {
  key: string;
  /** The pass the plan's status named for the key when it asked for the run. */
  pass: string;
  source: string;
  askedAt: number;
  storedAt: number;
}

/** A snapshot run in the shell's memory: a process restart loses it, as the real shell's. */
interface SnapshotRun {
  key: string;
  pass: string;
  source: string;
  askedAt: number;
  endsAtTick: number;
  waitsOn: string[];
  fails: boolean;
  /** Its source went away (rebooted or left) while the run streamed from it. */
  sourceLost: boolean;
  inFlight: boolean;
  outcome?: EtcdSnapshotRun["outcome"];
}

/**
 * The shell's guard around an upgrade call, as act() keeps it: the calls this process made, by the
 * boot they were made on (lost in a crash), and a fresh read of the machine before calling (a
 * machine on another boot, or in a sequence, took a call already). And its etcd snapshot run, off
 * the pass: begun by an action (not again while one of that key is in flight), reported by the next
 * passes, its outcome kept until another run begins; a crash loses it.
 */
export class ModelShell {
  private readonly calls = new Map<string, string>();
  /** Installs ahead of the reboot (Talos ≥ 1.13) this process made, by node (lost in a crash). */
  private readonly installs = new Map<string, { image: string; bootId: string }>();
  /** Installers this process named in machines' configurations, by node (lost in a crash). */
  private readonly patched = new Map<string, string>();
  /** Calls Talos acked and never started, by node: the boot they were made on (lost in a crash). */
  private readonly locked = new Map<string, string>();
  /** Per node, the boot a call was made from whose sequence Talos failed (its FATAL event read). */
  private readonly failed = new Map<string, string>();
  private snapshot: SnapshotRun | undefined;
  /** Snapshot runs begun by this shell, across its restarts. */
  snapshotRuns = 0;

  crash(): void {
    this.calls.clear();
    this.locked.clear();
    this.failed.clear();
    this.installs.clear();
    this.patched.clear();
    this.snapshot = undefined;
  }

  /** An install action, as act() takes it: done at once on a machine that answers on its boot. */
  install(action: Extract<Action, { kind: "install" }>, n: ModelNode, now: number): void {
    if (reachable(n, now) && !n.upgrade && `${n.name}-${n.boot}` === action.bootId) {
      this.installs.set(n.name, { image: action.image, bootId: action.bootId });
      n.nextBoot = action.image;
    }
  }

  /** A patchInstallImage action, as act() takes it: remembered once the machine took it. */
  patchInstallImage(action: Extract<Action, { kind: "patchInstallImage" }>, n: ModelNode, now: number): void {
    carryOut(action, n, "", now, 0);
    if (n.installImage === action.image) this.patched.set(n.name, action.image);
  }

  /**
   * The node as a pass observes it, with what this process installed on it and patched into it, and
   * the lock verdict on the call made from the boot its intent names (`intentBoot`).
   */
  view(n: ModelNode, now: number, intentBoot?: string): NodeView {
    const installed = this.installs.get(n.name);
    const installImagePatched = this.patched.get(n.name);
    const locked = intentBoot !== undefined && this.locked.get(n.name) === intentBoot;
    const failed = intentBoot !== undefined && this.failed.get(n.name) === intentBoot;
    return {
      ...viewOf(n, now),
      ...(installed ? { installed: { ...installed } } : {}),
      ...(installImagePatched ? { installImagePatched } : {}),
      ...(locked ? { sequenceVerdict: { outcome: "locked" as const } } : {}),
      ...(failed ? { sequenceVerdict: { outcome: "failed" as const, message: failedSequence } } : {}),
    };
  }

  /** The key of the run in memory that has ended, if any: an action for it would restart a finished run. */
  endedSnapshot(): string | undefined {
    return this.snapshot && !this.snapshot.inFlight ? this.snapshot.key : undefined;
  }

  /**
   * An etcdSnapshot action, as act() takes it: nothing while a run of the same key is in flight,
   * else a new run (the attempt drawn then). Whether a run began.
   */
  etcdSnapshot(
    action: Extract<Action, { kind: "etcdSnapshot" }>,
    at: { tick: number; now: number; pass: string; inFlight: string[]; sourceUp: boolean },
    attempt: () => SnapshotAttempt,
  ): boolean {
    if (this.snapshot?.key === action.key && this.snapshot.inFlight) return false;
    const drawn = attempt();
    this.snapshotRuns++;
    this.snapshot = {
      key: action.key,
      pass: at.pass,
      source: action.source,
      askedAt: at.now,
      endsAtTick: at.tick + 1 + drawn.passes,
      waitsOn: drawn.waitsForInFlight ? at.inFlight : [],
      fails: drawn.fails,
      sourceLost: !at.sourceUp,
      inFlight: true,
    };
    return true;
  }

  /**
   * The run as the shell reports it to this pass (observe()'s copy of its memory). A run due to end
   * ends now: stored in `bucket` when ok. `settled` says whether a node it waits on has settled;
   * `sourceUp` whether its source still answers.
   */
  etcdSnapshotRun(
    at: { tick: number; now: number },
    settled: (node: string) => boolean,
    sourceUp: (node: string) => boolean,
    bucket: StoredSnapshot[],
  ): EtcdSnapshotRun | undefined {
    const run = this.snapshot;
    if (!run) return undefined;
    if (run.inFlight) {
      if (!sourceUp(run.source)) run.sourceLost = true;
      if (at.tick >= run.endsAtTick && run.waitsOn.every(settled)) {
        run.inFlight = false;
        const finishedAt = new Date(at.now).toISOString();
        if (run.sourceLost)
          run.outcome = { ok: false, finishedAt, message: `the snapshot stream from ${run.source} was cut` };
        else if (run.fails) run.outcome = { ok: false, finishedAt, message: "the bucket refused the upload" };
        else {
          run.outcome = { ok: true, finishedAt, size: 4096, sha256: "a".repeat(64), retained: 1 };
          const { key, pass, source, askedAt } = run;
          bucket.push({ key, pass, source, askedAt, storedAt: at.now });
        }
      }
    }
    return { key: run.key, inFlight: run.inFlight, ...(run.outcome ? { outcome: { ...run.outcome } } : {}) };
  }

  /** The nodes a run still in flight waits on that have not settled. */
  snapshotWaitingOn(settled: (node: string) => boolean): { key: string; nodes: string[] } | undefined {
    const run = this.snapshot;
    if (!run?.inFlight) return undefined;
    const nodes = run.waitsOn.filter((n) => !settled(n));
    return nodes.length > 0 ? { key: run.key, nodes } : undefined;
  }

  /** A retry asked for: the calls remembered of the failed nodes are forgotten, and their verdicts. */
  retry(failed: string[]): void {
    for (const name of failed) {
      this.calls.delete(name);
      this.failed.delete(name);
    }
  }

  /**
   * Whether the upgrade reached the machine: "called"; "locked" where someone's reboot reached
   * machined first (`lockedByReboot`): Talos acks the call and never starts it, the reboot boots the
   * version the machine had, and only the event says so, which this process remembers; "failed"
   * where the sequence fails (`failsSequence`): the machine stays up on its boot, REBOOTING, and
   * the FATAL event says so. On the legacy API a machine REBOOTING on the call's boot is called
   * (machined's lock decides), as act() does.
   */
  upgrade(
    action: Extract<Action, { kind: "upgrade" }>,
    n: ModelNode,
    plan: string,
    now: number,
    seconds: number,
    faults: { lockedByReboot?: boolean; failsSequence?: boolean } = {},
  ): "called" | "locked" | "failed" | undefined {
    const notStarted = this.locked.get(n.name) === action.bootIdBefore;
    if (this.calls.get(n.name) === action.bootIdBefore && !notStarted) return undefined;
    const talos = viewOf(n, now).talos;
    const callable = talos.stage === "RUNNING" || (talos.stage === "REBOOTING" && action.api === "legacy");
    if (!talos.reachable || talos.bootId !== action.bootIdBefore || !callable) return undefined;
    this.locked.delete(n.name);
    this.calls.set(n.name, action.bootIdBefore);
    if (faults.failsSequence && !n.upgrade) {
      n.failedOn = n.boot;
      this.failed.set(n.name, action.bootIdBefore);
      return "failed";
    }
    if (faults.lockedByReboot && !n.upgrade) {
      n.upgrade = {
        startsAt: now,
        downAt: now + 5_000,
        upAt: now + 5_000 + seconds * 1000,
        version: n.version,
        schematic: n.schematic,
      };
      this.locked.set(n.name, action.bootIdBefore);
      return "locked";
    }
    return carryOut(action, n, plan, now, seconds) ? "called" : undefined;
  }
}
