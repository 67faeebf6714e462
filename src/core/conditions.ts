// kstatus conditions through small pure helpers: lastTransitionTime changes only when the status
// flips, and every condition carries the generation it was computed for.
import type { Condition } from "../api/v1alpha1/plan.ts";
import { boundMessage } from "../model/messages.ts";

export type ConditionStatus = Condition["status"];

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
  // Types are ASCII identifiers: a code-point order is stable and far cheaper than a locale's.
  return [...conditions.filter((c) => c.type !== next.type), condition].sort((a, b) =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
  );
}
