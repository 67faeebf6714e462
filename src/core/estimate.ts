// The time a plan still needs, from what this plan has measured: how long its pieces took (a node
// of the Talos phase from cordon to verified, plus the soak; a task of the Kubernetes phase), laid
// out on the slots the rollout allows (one control plane or control plane task at a time, then the
// worker budget), and stretched over the maintenance windows. An estimate, said to be one: no
// figure until a piece of the phase under way is done, and only for that phase.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { KubernetesTask } from "../api/v1alpha1/kubernetes-status.ts";
import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanSpec, PlanStatus } from "../api/v1alpha1/plan.ts";
import { workerBudget } from "./selection.ts";
import { evaluateWindows } from "./windows.ts";

type Estimate = NonNullable<PlanStatus["estimate"]>;

/** One piece of the rollout: a node of the Talos phase, a task of the Kubernetes phase. */
interface Work {
  /** Taken one at a time, before the rest (control planes; every task but workers' kubelets). */
  serial: boolean;
  state: "pending" | "underWay" | "done" | "over";
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
}

const minuteMs = 60_000;

/** Milliseconds each piece of a kind took, where both times are known. */
function measured(work: Work[], serial: boolean): number[] {
  return work
    .filter((w) => w.serial === serial && w.state === "done" && w.startedAt && w.finishedAt)
    .map((w) => Date.parse(w.finishedAt ?? "") - Date.parse(w.startedAt ?? ""))
    .filter((ms) => Number.isFinite(ms) && ms >= 0);
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * When `slots` lanes finish: each lane is first taken by a node under way (done `perNode` after its
 * start, or now if that is past), then the waiting nodes take the lane that frees first.
 */
function lanesEnd(now: number, slots: number, underWay: number[], pending: number, perNode: number): number {
  const lanes = underWay.map((started) => Math.max(now, started + perNode));
  while (lanes.length < slots) lanes.push(now);
  lanes.sort((a, b) => a - b);
  for (let i = 0; i < pending; i++) {
    lanes[0] = (lanes[0] ?? now) + perNode;
    lanes.sort((a, b) => a - b);
  }
  return Math.max(now, ...lanes);
}

/** `work` milliseconds of rollout from `now`, counted only while a window is open (none: always). */
function overWindows(windows: PlanSpec["maintenanceWindows"], now: number, work: number): number | undefined {
  let at = now;
  let left = work;
  // A bound on the walk: a rollout longer than a thousand windows is not estimated.
  for (let step = 0; step < 1_000; step++) {
    const state = evaluateWindows(windows, new Date(at));
    if (!state.ok) return undefined;
    if (state.open) {
      const until = state.closesAt?.getTime() ?? Number.POSITIVE_INFINITY;
      if (at + left <= until) return at + left;
      left -= until - at;
      at = until;
    } else {
      if (!state.nextOpen) return undefined;
      at = state.nextOpen.getTime();
    }
  }
  return undefined;
}

/** 90s → "2m"; 95m → "1h35m"; 50h → "2d2h": minutes up to a day, then hours. */
export function roughly(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / minuteMs));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
}

/** The serial pieces, then the rest on `budget` lanes: when the last ends, and what that came from. */
function layOut(work: Work[], budget: number, extraPerPiece: number, now: Date) {
  const serial = measured(work, true);
  const parallel = measured(work, false);
  const all = [...serial, ...parallel];
  if (all.length === 0) return undefined;
  // A kind not measured yet is taken to take what the other did.
  const per = (own: number[]) => (own.length > 0 ? mean(own) : mean(all)) + extraPerPiece;
  const t = now.getTime();
  const lanes = (isSerial: boolean, slots: number, at: number) => {
    const left = work.filter(
      (w) => w.serial === isSerial && (w.state === "pending" || w.state === "underWay"),
    );
    const underWay = left
      .filter((w) => w.state === "underWay")
      .map((w) => Date.parse(w.startedAt ?? "") || t);
    return lanesEnd(at, slots, underWay, left.length - underWay.length, per(isSerial ? serial : parallel));
  };
  return { end: lanes(false, budget, lanes(true, 1, t)), serial, parallel };
}

const settled = new Set<NodeStatus["state"]>(["Skipped", "Failed"]);

const talosWork = (entries: NodeStatus[]): Work[] =>
  entries.map((e) => ({
    serial: e.role === "controlplane",
    state:
      e.state === "Pending"
        ? "pending"
        : e.state === "Done"
          ? "done"
          : settled.has(e.state)
            ? "over"
            : "underWay",
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
  }));

const kubernetesWork = (tasks: KubernetesTask[]): Work[] =>
  tasks.map((t) => ({
    serial: !(t.component === "kubelet" && t.role === "worker"),
    state:
      t.state === "Pending"
        ? "pending"
        : t.state === "Applying"
          ? "underWay"
          : t.state === "Done"
            ? "done"
            : "over",
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
  }));

/**
 * The time left in the phase under way (its node entries, or its tasks), or undefined while nothing
 * of it has been measured, nothing is left, or a window schedule is invalid.
 */
export function estimate(
  spec: PlanSpec,
  phase: { talos: NodeStatus[] } | { kubernetes: KubernetesTask[] },
  now: Date,
): Estimate | undefined {
  const talosPhase = "talos" in phase;
  const work = talosPhase ? talosWork(phase.talos) : kubernetesWork(phase.kubernetes);
  const left = work.filter((w) => w.state === "pending" || w.state === "underWay").length;
  if (left === 0) return undefined;
  const soak = talosPhase ? parseDuration(spec.rollout.soakTime) : 0;
  const budget = workerBudget(spec.rollout.maxUnavailable, work.filter((w) => !w.serial).length);
  const laid = layOut(work, budget, soak, now);
  if (!laid) return undefined;
  const t = now.getTime();
  const at = overWindows(spec.maintenanceWindows, t, laid.end - t);
  if (at === undefined) return undefined;
  // Whole minutes: a pass that only waits does not rewrite the status for a second's change.
  const completion = Math.ceil(at / minuteMs) * minuteMs;
  const [serialKind, parallelKind] = talosPhase
    ? ["control plane(s)", "worker(s)"]
    : ["task(s) one at a time", "worker kubelet(s)"];
  const basis = [
    laid.serial.length > 0
      ? `${laid.serial.length} ${serialKind}, ${roughly(mean(laid.serial))} each`
      : undefined,
    laid.parallel.length > 0
      ? `${laid.parallel.length} ${parallelKind}, ${roughly(mean(laid.parallel))} each`
      : undefined,
  ].filter((text) => text !== undefined);
  return {
    completionTime: new Date(completion).toISOString(),
    timeLeft: roughly(completion - t),
    message: [
      talosPhase ? `${left} node(s) left in the Talos phase` : `${left} task(s) left in the Kubernetes phase`,
      `; measured: ${basis.join(", ")}`,
      soak > 0 ? `, plus a soak of ${spec.rollout.soakTime} each` : "",
      spec.maintenanceWindows.length > 0 ? "; counted inside the maintenance windows" : "",
      talosPhase && spec.kubernetes ? "; the Kubernetes phase follows, not counted" : "",
    ].join(""),
  };
}
