// When a pass writes the status it decided. A state change that is an intent a crash must find (the
// cordon's, the upgrade call's), the confirmation that Talos accepted the call, or a verdict is
// written at once; progress is written at most every few seconds. Progress is what a restart reads
// back from the world: the nodes' messages ("draining, 12 pod(s) left") change with every pod a
// drain evicts, and each write carries the whole plan (at 1000 nodes, a write per pod was most of
// the operator's requests); and a node going from its call to its reboot and its verification,
// which the machine's boot and the Node's readiness say again, with the activity that names it.
// The confirmation is not progress: nothing in the world says it again. Lost, the restarted
// operator would measure the node's timeout from its start, never write its installer into its
// configuration, and call again a machine whose upgrade failed before its reboot.
import { isDeepStrictEqual } from "node:util";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";

/** How often a status whose only change is progress is written. */
export const progressWriteMs = 10_000;

/** Between its upgrade call and its verification, a node's state is read back from the world. */
const afterTheCall = new Set(["Upgrading", "Rebooting", "Verifying"]);

const withoutProgress = (status: PlanStatus | undefined) => {
  if (!status) return status;
  const { activity: _activity, ...rest } = status;
  return {
    ...rest,
    nodes: status.nodes.map(({ message: _message, ...entry }) =>
      afterTheCall.has(entry.state) ? { ...entry, state: "Upgrading" } : entry,
    ),
  };
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
