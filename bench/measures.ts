// The benchmark's arithmetic, kept pure: the ideal time of a rollout, percentiles, the gap from a
// node verified to the next upgrade call, and counts read from the apiserver's metrics and audit log.
import { legacyUpgradeSteps, type Timing } from "../testkit/fleet/node.ts";

/**
 * Simulated time one node takes on the legacy path, from the upgrade call until its apid answers
 * again: the sequence starts `sequenceDelayMs` after the call.
 */
export function nodeCriticalMs(
  timing: Pick<Timing, "sequenceDelayMs" | "rebootMs" | "installMs" | "stepMs">,
): number {
  return timing.sequenceDelayMs + legacyUpgradeSteps * timing.stepMs + timing.installMs + timing.rebootMs;
}

export const idealFormula = `ideal = (controlPlanes + ceil(workers / budget)) × (drainMs + sequenceDelayMs + ${legacyUpgradeSteps} × stepMs + installMs + rebootMs)`;

/**
 * The least time any tool could take: control planes one at a time, then the workers in waves of
 * `budget`, each node costing its drain plus the simulated install and reboot. Nothing else
 * (gates, verification, status writes) is on it.
 */
export function idealMs(input: {
  controlPlanes: number;
  workers: number;
  budget: number;
  timing: Pick<Timing, "sequenceDelayMs" | "rebootMs" | "installMs" | "stepMs">;
  drainMs: number;
}): number {
  const waves = input.controlPlanes + Math.ceil(input.workers / Math.max(1, input.budget));
  return waves * (input.drainMs + nodeCriticalMs(input.timing));
}

/** Nearest-rank percentile; undefined for no samples. */
export function percentile(samples: number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** A sample's p50, p99 and max, and how many it has. */
export interface Spread {
  p50?: number;
  p99?: number;
  max?: number;
  samples: number;
}

export function spread(samples: number[]): Spread {
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: percentile(samples, 100),
    samples: samples.length,
  };
}

/**
 * For every event (a node's start, or an upgrade call) after the first verification: the time
 * since the latest node verified before it. With maxUnavailable 1 that is "node verified → next
 * node started"; with wider budgets it also counts how long a wave trails the verification that
 * opened the slot.
 */
export function gapsMs(verifiedAt: number[], eventsAt: number[]): number[] {
  const verified = [...verifiedAt].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (const at of [...eventsAt].sort((a, b) => a - b)) {
    let latest: number | undefined;
    for (const v of verified) {
      if (v > at) break;
      latest = v;
    }
    if (latest !== undefined) gaps.push(at - latest);
  }
  return gaps;
}

/** The sum of all samples of one counter in Prometheus text format. */
export function counterTotal(metricsText: string, name: string): number {
  let total = 0;
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** Resident memory now (VmRSS) and at its peak (VmHWM), and CPU seconds (user + system), from /proc. */
export function parseProcUsage(
  status: string,
  stat: string,
  ticksPerSecond = 100,
): { rssMiB: number; peakRssMiB: number; cpuSeconds: number } {
  const kiB = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? Number.NaN);
  // Fields after the command name, which is in parentheses and may hold spaces: utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return {
    rssMiB: kiB("VmRSS") / 1024,
    peakRssMiB: kiB("VmHWM") / 1024,
    cpuSeconds: (utime + stime) / ticksPerSecond,
  };
}

/** A node's course through a rollout, in epoch ms: each as far as it got. */
export interface NodeCourse {
  /** Its cordon (status startedAt). */
  startedAt?: number;
  /** The upgrade calls the simulator served it. */
  calledAt: number[];
  /** Its apid answering again after a reboot. */
  backAt: number[];
  /** The operator verified it (status finishedAt). */
  finishedAt?: number;
}

/**
 * Where each node's time went: start → its last upgrade call (cordon, drain, the checks before the
 * call), that call → the machine answering again (the simulated sequence and reboot), and back →
 * verified (the operator's checks after the reboot). A node lacking either end of a phase has no
 * sample for it.
 */
export function nodePhasesMs(courses: NodeCourse[]): {
  toCall: number[];
  toBack: number[];
  toVerified: number[];
} {
  const toCall: number[] = [];
  const toBack: number[] = [];
  const toVerified: number[] = [];
  for (const course of courses) {
    const call = course.calledAt
      .filter((at) => course.startedAt === undefined || at >= course.startedAt)
      .at(-1);
    if (call === undefined) continue;
    if (course.startedAt !== undefined) toCall.push(call - course.startedAt);
    const back = [...course.backAt].sort((a, b) => a - b).find((at) => at >= call);
    if (back === undefined) continue;
    toBack.push(back - call);
    if (course.finishedAt !== undefined && course.finishedAt >= back)
      toVerified.push(course.finishedAt - back);
  }
  return { toCall, toBack, toVerified };
}
