// The model cluster the property tests drive decide() against: machines with a Talos version, a
// boot counter and an upgrade under way, Nodes with a cordon and pods. Time is the test's own.
import type { Action } from "../../../src/model/actions.ts";
import type { NodeView } from "../../../src/model/observation.ts";

export const excludeLabel = "upgrade.talos-operator.dev/exclude";
export const releases = ["v1.10.9", "v1.11.6", "v1.12.4", "v1.12.5", "v1.13.0"] as const;
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
}

export const vanillaSchematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/** The schematic an Image Factory installer reference carries (the model's own parse). */
export const schematicOf = (image: string) => /\/([0-9a-f]{64}):/.exec(image)?.[1] ?? "none";

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
  }
}

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
          stage: n.upgrade && now >= n.upgrade.startsAt && now < n.upgrade.downAt ? "UPGRADING" : "RUNNING",
          ready: true,
          platform: "metal",
          image: { schematic: n.schematic, extensions: [] },
        }
      : { reachable: false, error: "connection refused" },
  };
}

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

/**
 * The shell's guard around an upgrade call, as act() keeps it: the calls this process made, by the
 * boot they were made on (lost in a crash), and a fresh read of the machine before calling (a
 * machine on another boot, or in a sequence, took a call already).
 */
export class ModelShell {
  private readonly calls = new Map<string, string>();

  crash(): void {
    this.calls.clear();
  }

  /** Whether the upgrade reached the machine. */
  upgrade(
    action: Extract<Action, { kind: "upgrade" }>,
    n: ModelNode,
    plan: string,
    now: number,
    seconds: number,
  ): boolean {
    if (this.calls.get(n.name) === action.bootIdBefore) return false;
    const talos = viewOf(n, now).talos;
    if (!talos.reachable || talos.bootId !== action.bootIdBefore || talos.stage !== "RUNNING") return false;
    if (!carryOut(action, n, plan, now, seconds)) return false;
    this.calls.set(n.name, action.bootIdBefore);
    return true;
  }
}
