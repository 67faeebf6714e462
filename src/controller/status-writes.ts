// When a pass writes the status it decided. A state change is the intent a crash must find, so it
// is written at once; a change of the nodes' progress messages alone ("draining, 12 pod(s) left")
// is written at most every few seconds: it changes with every pod a drain evicts, and each write
// carries the whole plan (at 1000 nodes, a write per pod was most of the operator's requests).
import { isDeepStrictEqual } from "node:util";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";

/** How often a status whose only change is its nodes' messages is written. */
export const progressWriteMs = 10_000;

const withoutNodeMessages = (status: PlanStatus | undefined) =>
  status && { ...status, nodes: status.nodes.map(({ message: _message, ...entry }) => entry) };

/** Whether `next` must be written over `previous`, the last write having been at `lastWriteAt`. */
export function statusWriteDue(
  previous: PlanStatus | undefined,
  next: PlanStatus,
  lastWriteAt: number | undefined,
  now: number,
): boolean {
  if (isDeepStrictEqual(previous, next)) return false;
  if (!isDeepStrictEqual(withoutNodeMessages(previous), withoutNodeMessages(next))) return true;
  return lastWriteAt === undefined || now - lastWriteAt >= progressWriteMs;
}
