// kstatus conditions through small pure helpers: lastTransitionTime changes only when the status
// flips, and every condition carries the generation it was computed for.
import type { Condition } from "../api/v1alpha1/plan.ts";
import { boundMessage } from "../model/messages.ts";

type ConditionStatus = Condition["status"];

export function setCondition(
  conditions: Condition[],
  next: { type: string; status: ConditionStatus; reason: string; message: string },
  now: Date,
  generation: number,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const condition: Condition = {
    ...next,
    message: boundMessage(next.message),
    lastTransitionTime,
    observedGeneration: generation,
  };
  return [...conditions.filter((c) => c.type !== next.type), condition].sort(byKstatusOrder);
}

/**
 * kstatus (Flux's readiness library) acts on the first of Reconciling and Stalled it finds True, so
 * Stalled comes first: a plan stalled while it retries reads as Failed there, as it does in Argo
 * CD, not as in progress. The rest follow in code-point order (types are ASCII identifiers).
 */
const leading = ["Stalled", "Reconciling", "Ready"];
const rank = (type: string) => {
  const at = leading.indexOf(type);
  return at < 0 ? leading.length : at;
};
function byKstatusOrder(a: Condition, b: Condition): number {
  return rank(a.type) - rank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
}
