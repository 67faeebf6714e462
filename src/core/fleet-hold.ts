// What "holding the fleet" means for one plan, from its status alone: the pass that starts its
// first node or task takes the fleet, and the plan holds it while it has work under way.
import type { Plan } from "../api/v1alpha1/plan.ts";
import { activeStates } from "./node-steps.ts";

/** A pass that takes a node or a Kubernetes task from pending to under way. */
export function startsWork(before: Plan["status"], after: Plan["status"]): boolean {
  const was = new Map((before?.nodes ?? []).map((e) => [e.name, e.state]));
  const startedNode = (after?.nodes ?? []).some(
    (e) => activeStates.has(e.state) && !activeStates.has(was.get(e.name) ?? "Pending"),
  );
  const applying = new Set(
    (before?.kubernetes?.tasks ?? [])
      .filter((t) => t.state === "Applying")
      .map((t) => `${t.component}/${t.node}`),
  );
  const startedTask = (after?.kubernetes?.tasks ?? []).some(
    (t) => t.state === "Applying" && !applying.has(`${t.component}/${t.node}`),
  );
  return startedNode || startedTask;
}

/** Work a plan has under way: a node or task in flight, or a rollout begun and not finished. */
export function underWay(status: Plan["status"]): boolean {
  if (!status) return false;
  return (
    status.nodes.some((e) => activeStates.has(e.state)) ||
    (status.kubernetes?.tasks.some((t) => t.state === "Applying") ?? false) ||
    status.phase === "UpgradingTalos" ||
    status.phase === "UpgradingKubernetes"
  );
}

/** Phases in which a plan waits on nothing a pod does: done, failed, or paused by a person. */
const restingPhases = new Set<NonNullable<Plan["status"]>["phase"]>(["Completed", "Failed", "Paused"]);

/**
 * Whether a pod's change can matter to the plan: drains, mirror pods and the control plane gate
 * matter while it has work under way or still to start; a plan at rest wakes on Nodes and on
 * itself, not on every pod of the cluster.
 */
export function podsMatter(status: Plan["status"]): boolean {
  return !status || underWay(status) || !restingPhases.has(status.phase);
}
