// When a pass writes the status it decided. A state change that is an intent a crash must find (the
// cordon's, the upgrade call's), the confirmation that Talos accepted the call, or a verdict is
// written at once; progress is written at most every few seconds. Progress is what a restart reads
// back from the world: the nodes' messages ("draining, 12 pod(s) left") change with every pod a
// drain evicts, and each write carries the whole plan (at 1000 nodes, a write per pod was most of
// the operator's requests); and a node going from its call to its reboot, its verification and its
// soak, which the machine's boot and the Node's readiness say again, with the activity that names
// it. A verification lost to a crash is made again by the next process (its uncordon already done,
// its hooks' Jobs found by name), and the soak counts from then: later, never shorter.
// The confirmation is not progress: only the machine's next boot says it again. Lost, the restarted
// operator would measure the node's timeout from its start until it sees that boot, and call again
// a machine whose upgrade failed before its reboot.
import { isDeepStrictEqual } from "node:util";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";

/** How often a status whose only change is progress is written. */
export const progressWriteMs = 10_000;

/** Between its upgrade call and its soak's end, a node's state is read back from the world. */
const afterTheCall = new Set(["Upgrading", "Rebooting", "Verifying", "Soaking"]);

const withoutProgress = (status: PlanStatus | undefined) => {
  if (!status) return status;
  const { activity: _activity, ...rest } = status;
  return {
    ...rest,
    nodes: status.nodes.map(({ message: _message, ...entry }) => {
      if (!afterTheCall.has(entry.state)) return entry;
      const { finishedAt: _verified, ...called } = entry;
      return { ...called, state: "Upgrading" };
    }),
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
