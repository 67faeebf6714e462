// What a person running `kubectl describe tup` reads first (describe prints status fields in
// alphabetical order, so `activity` leads): the work under way now, what comes next, and what the
// plan waits for. Names only, bounded; the same words the conditions use.

import type { KubernetesTask } from "../api/v1alpha1/kubernetes-status.ts";
import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";
import { nameList } from "../model/messages.ts";
import { activeStates } from "./node-steps.ts";

type Activity = NonNullable<PlanStatus["activity"]>;

/** Names listed per group before "and N more": describe is read on a terminal. */
const shown = 5;

/** "Rebooting into v1.12.4: worker-3, worker-4" per state and version, in the entries' order. */
function groups<T>(items: T[], key: (item: T) => string, name: (item: T) => string): string[] {
  const byKey = new Map<string, string[]>();
  for (const item of items) byKey.set(key(item), [...(byKey.get(key(item)) ?? []), name(item)]);
  return [...byKey].map(([k, names]) => `${k}: ${nameList(names, shown)}`);
}

const talosDoing: Partial<Record<NodeStatus["state"], string>> = {
  Draining: "cordoned and draining for",
  Upgrading: "installing",
  Rebooting: "rebooting into",
  Verifying: "verifying",
  Soaking: "soaking on",
};

export function activityOf(input: {
  phase: PlanStatus["phase"];
  entries: NodeStatus[];
  kubernetesTasks: KubernetesTask[];
  kubernetesVersion: string | undefined;
  /** What Ready says when the plan is not simply progressing; undefined when it is. */
  waitingFor: string | undefined;
}): Activity | undefined {
  const { phase, entries, kubernetesTasks } = input;
  if (phase === "Completed") return undefined;
  const underWay = [
    ...groups(
      entries.filter((e) => activeStates.has(e.state)),
      (e) => `${talosDoing[e.state] ?? e.state} ${e.version ?? ""}`.trim(),
      (e) => e.name,
    ),
    ...groups(
      kubernetesTasks.filter((t) => t.state === "Applying"),
      (t) => `applying ${t.component} ${input.kubernetesVersion ?? ""}`.trim(),
      (t) => t.node,
    ),
  ];
  const pending = entries.filter((e) => e.state === "Pending");
  const first = pending[0];
  let next: string;
  if (first) {
    const step = pending.filter((e) => e.version === first.version);
    const later = pending.length - step.length;
    next = `${nameList(
      step.map((e) => e.name),
      shown,
    )} to Talos ${first.version}${later > 0 ? `, then ${later} node(s) to a later step` : ""}`;
  } else {
    const tasks = kubernetesTasks.filter((t) => t.state === "Pending");
    const firstTask = tasks[0];
    if (firstTask) {
      const same = tasks.filter((t) => t.component === firstTask.component).map((t) => t.node);
      next = `${firstTask.component} ${input.kubernetesVersion ?? ""} on ${nameList(same, shown)}${tasks.length > same.length ? `, then ${tasks.length - same.length} more task(s)` : ""}`;
    } else if (input.kubernetesVersion && kubernetesTasks.length === 0) {
      next = `the Kubernetes phase, to ${input.kubernetesVersion}`;
    } else {
      next = underWay.length > 0 ? "nothing new: the last work is under way" : "nothing";
    }
  }
  return {
    current: underWay.length > 0 ? underWay.join("; ") : "no node under way",
    next,
    ...(input.waitingFor ? { waitingFor: input.waitingFor } : {}),
  };
}
