// When a pass writes the status it decided. A state change that is an intent a crash must find (the
// cordon's, the upgrade call's), the confirmation that Talos accepted the call, or a verdict is
// written at once; progress is written at most every few seconds. Progress is what a restart reads
// back from the world: the nodes' messages ("draining, 12 pod(s) left") change with every pod a
// drain evicts, and each write carries the whole plan (at 1000 nodes, a write per pod was most of
// the operator's requests); and a node going from its call to its reboot, its verification and its
// soak, which the machine's boot and the Node's readiness say again, with the activity that names
// it. A verification lost to a crash is made again by the next process (its uncordon already done,
// its hooks' Jobs found by name), and the soak counts from then: later, never shorter. So is a done
// node shedding what only its installer's write needed: lost, the installer is written again.
// The confirmation is not progress: only the machine's next boot says it again. Lost, the restarted
// operator would measure the node's timeout from its start until it sees that boot, and call again
// a machine whose upgrade failed before its reboot.
import { isDeepStrictEqual } from "node:util";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";
import { settledForm } from "../core/node-steps.ts";

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
      // What a done node sheds once its installer is written: lost, it is written again.
      if (entry.state === "Done") return settledForm(entry);
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

/** What a write changes, for the debug log: the status fields, and each node entry's changed fields. */
export function statusChanges(previous: PlanStatus | undefined, next: PlanStatus): string[] {
  const before = new Map((previous?.nodes ?? []).map((e) => [e.name, e]));
  const keys = new Set([...Object.keys(previous ?? {}), ...Object.keys(next)]);
  const fields = [...keys].filter(
    (key) =>
      key !== "nodes" &&
      !isDeepStrictEqual(previous?.[key as keyof PlanStatus], next[key as keyof PlanStatus]),
  );
  const entries = next.nodes.flatMap((entry) => {
    const old = before.get(entry.name);
    if (!old) return [`${entry.name}: new`];
    const changed = [...new Set([...Object.keys(old), ...Object.keys(entry)])].filter(
      (key) => !isDeepStrictEqual(old[key as keyof typeof old], entry[key as keyof typeof entry]),
    );
    if (changed.length === 0) return [];
    const state = old.state === entry.state ? "" : ` ${old.state}→${entry.state}`;
    return [`${entry.name}:${state} ${changed.filter((k) => k !== "state").join(",")}`.trimEnd()];
  });
  return [...fields, ...entries];
}
