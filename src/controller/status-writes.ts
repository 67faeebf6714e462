// When a pass writes the status it decided. A state change is the intent a crash must find, so it
// is written at once; progress alone is written at most every few seconds: the nodes' messages
// ("draining, 12 pod(s) left") change with every pod a drain evicts, and each write carries the
// whole plan (at 1000 nodes, a write per pod was most of the operator's requests). So is the
// confirmation of an upgrade call: the intent before it was written at once, the reboot that
// follows is a state change that carries it, and a confirmation lost to a crash is read back from
// the machine.
import { isDeepStrictEqual } from "node:util";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";

/** How often a status whose only change is progress is written. */
export const progressWriteMs = 10_000;

const withoutProgress = (status: PlanStatus | undefined) =>
  status && {
    ...status,
    nodes: status.nodes.map(({ message: _message, upgradeCalledAt: _called, ...entry }) => entry),
  };

/** Whether `next` must be written over `previous`, the last write having been at `lastWriteAt`. */
export function statusWriteDue(
  previous: PlanStatus | undefined,
  next: PlanStatus,
  lastWriteAt: number | undefined,
  now: number,
): boolean {
  if (isDeepStrictEqual(previous, next)) return false;
  if (!isDeepStrictEqual(withoutProgress(previous), withoutProgress(next))) return true;
  return lastWriteAt === undefined || now - lastWriteAt >= progressWriteMs;
}
