// Why no new node or task may start now, though nothing is wrong with the plan: paused, outside
// every window, another plan holding the fleet, health checks failing. Failing longer than the
// health timeout turns the wait into a stall.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { nameList } from "../model/messages.ts";
import type { GateResult } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import type { WindowState } from "./windows.ts";

interface HoldInput {
  spec: PlanSpec;
  now: Date;
  windows: WindowState;
  gates: GateResult[];
  /** When the gates began failing (kept across passes), if they are failing. */
  gatesFailingSince: string | undefined;
  blockingPlan: string | undefined;
  deleting: boolean;
}

interface Hold {
  verdict?: Verdict;
  /** When the hold changes by itself: a window opens, the gates' timeout runs out. */
  wakeAt?: number;
}

const describeGates = (gates: GateResult[]) =>
  nameList(
    gates.map((g) => `${g.name}: ${g.message}`),
    5,
  ).replaceAll(", ", "; ");

export function holdReason(input: HoldInput): Hold {
  const { spec, windows, gates, now } = input;
  if (input.deleting) {
    const message =
      "the plan is being deleted: nodes in flight finish, then every cordon it placed is released";
    return { verdict: { kind: "waiting", reason: Reason.Deleting, message } };
  }
  if (spec.paused) return { verdict: { kind: "paused" } };
  const failing = gates.filter((g) => !g.passing);
  const invalid = failing.filter((g) => g.invalid);
  if (invalid.length > 0) {
    const message = `health check cannot run: ${describeGates(invalid)}`;
    return { verdict: { kind: "stalled", reason: Reason.InvalidHealthCheck, message } };
  }
  if (windows.ok && !windows.open) {
    const next = windows.nextOpen ? `; the next opens at ${windows.nextOpen.toISOString()}` : "";
    return {
      verdict: {
        kind: "waiting",
        reason: Reason.WaitingForWindow,
        message: `outside every maintenance window${next}`,
      },
      ...(windows.nextOpen ? { wakeAt: windows.nextOpen.getTime() } : {}),
    };
  }
  if (input.blockingPlan) {
    const message = `waiting for plan ${input.blockingPlan} to finish`;
    return { verdict: { kind: "waiting", reason: Reason.WaitingForPlan, message } };
  }
  if (failing.length === 0) return {};
  const message = `health checks failing: ${describeGates(failing)}`;
  const deadline =
    Date.parse(input.gatesFailingSince ?? now.toISOString()) + parseDuration(spec.healthChecks.timeout);
  if (now.getTime() > deadline) {
    return { verdict: { kind: "stalled", reason: Reason.HealthCheckTimeout, message, retrying: true } };
  }
  return { verdict: { kind: "waiting", reason: Reason.WaitingForHealthChecks, message }, wakeAt: deadline };
}
