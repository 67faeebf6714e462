// The time a plan still needs, from what this plan has measured: how long its nodes took (cordon to
// verified, plus the soak), laid out on the slots the rollout allows (one control plane at a time,
// then the worker budget), and stretched over the maintenance windows. An estimate, said to be one:
// no figure until a node of the plan is done, and only for the work it has measured.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { NodeStatus, PlanSpec, PlanStatus } from "../api/v1alpha1/plan.ts";
import { workerBudget } from "./selection.ts";
import { evaluateWindows } from "./windows.ts";

export type Estimate = NonNullable<PlanStatus["estimate"]>;

/** Waiting states a node leaves only by being started; the rest of the unsettled ones are under way. */
const waiting = new Set(["Pending"]);
const finished = new Set(["Done", "Skipped", "Failed"]);

const minuteMs = 60_000;

/** Milliseconds each node of a role took, cordon to verified, where both times are known. */
function measured(entries: NodeStatus[], role: NodeStatus["role"]): number[] {
  return entries
    .filter((e) => e.role === role && e.state === "Done" && e.startedAt && e.finishedAt)
    .map((e) => Date.parse(e.finishedAt ?? "") - Date.parse(e.startedAt ?? ""))
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

/**
 * The Talos phase's remaining time, or undefined while no node of the plan has been measured (or
 * nothing is left, or a window schedule is invalid).
 */
export function estimateTalos(spec: PlanSpec, entries: NodeStatus[], now: Date): Estimate | undefined {
  const left = entries.filter((e) => !finished.has(e.state));
  if (left.length === 0) return undefined;
  const cp = measured(entries, "controlplane");
  const workers = measured(entries, "worker");
  const all = [...cp, ...workers];
  if (all.length === 0) return undefined;
  const soak = parseDuration(spec.rollout.soakTime);
  // A role not measured yet is taken to take what the other did.
  const perNode = (own: number[]) => (own.length > 0 ? mean(own) : mean(all)) + soak;
  const started = (e: NodeStatus) => Date.parse(e.startedAt ?? "") || now.getTime();
  const lanes = (role: NodeStatus["role"], slots: number, at: number, per: number) => {
    const ofRole = left.filter((e) => e.role === role);
    const underWay = ofRole.filter((e) => !waiting.has(e.state)).map(started);
    return lanesEnd(at, slots, underWay, ofRole.length - underWay.length, per);
  };
  const t = now.getTime();
  const cpEnd = lanes("controlplane", 1, t, perNode(cp));
  const workerCount = entries.filter((e) => e.role === "worker").length;
  const budget = workerBudget(spec.rollout.maxUnavailable, workerCount);
  const end = lanes("worker", budget, cpEnd, perNode(workers));
  const at = overWindows(spec.maintenanceWindows, t, end - t);
  if (at === undefined) return undefined;
  // Whole minutes: a pass that only waits does not rewrite the status for a second's change.
  const completion = Math.ceil(at / minuteMs) * minuteMs;
  const basis = [
    cp.length > 0 ? `${cp.length} control plane(s), ${roughly(mean(cp))} each` : undefined,
    workers.length > 0 ? `${workers.length} worker(s), ${roughly(mean(workers))} each` : undefined,
  ].filter((s) => s !== undefined);
  return {
    completionTime: new Date(completion).toISOString(),
    timeLeft: roughly(completion - t),
    message: [
      `${left.length} node(s) left in the Talos phase; measured: ${basis.join(", ")}`,
      soak > 0 ? `, plus a soak of ${spec.rollout.soakTime} each` : "",
      spec.maintenanceWindows.length > 0 ? "; counted inside the maintenance windows" : "",
      spec.kubernetes ? "; the Kubernetes phase follows, not counted" : "",
    ].join(""),
  };
}
