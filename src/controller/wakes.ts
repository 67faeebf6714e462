// Which plans a change in the caches wakes: a plan on its own changes; on a pod's only the plans a
// pod can matter to now (not those at rest); on a Node's, only when something the operator reads of
// it changed, and then the plans at work plus those at rest that list it or would take it in.
import type { KubernetesObject, V1Node } from "@kubernetes/client-node";
import type { Plan } from "../api/v1alpha1/plan.ts";
import { podsMatter } from "../core/fleet-hold.ts";
import { matchesSelector } from "../core/selection.ts";
import { cordonedBy } from "../kube/nodes.ts";

type CachedPlan = KubernetesObject & {
  spec?: Partial<Pick<Plan["spec"], "nodeSelector" | "kubernetes">>;
  status?: Plan["status"];
};

export function wakesOnPods(plan: KubernetesObject): boolean {
  return podsMatter((plan as CachedPlan).status);
}

/**
 * What the operator reads of a Node, as one string: a change to anything else (a status heartbeat,
 * its images, a condition other than Ready) wakes no plan.
 */
export function nodeFingerprint(node: V1Node): string {
  const info = node.status?.nodeInfo;
  return JSON.stringify([
    node.metadata?.labels ?? {},
    cordonedBy(node) ?? null,
    node.spec?.unschedulable ?? false,
    node.status?.addresses ?? [],
    node.status?.conditions?.find((c) => c.type === "Ready")?.status ?? null,
    info?.bootID ?? null,
    info?.kubeletVersion ?? null,
  ]);
}

/**
 * Whether a Node's change can matter to the plan: any Node while it works or waits (its gates read
 * every Node); at rest, a Node it lists, or one it would cover (joined or relabelled).
 */
export function wakesOnNode(plan: KubernetesObject, node: V1Node): boolean {
  const { spec, status } = plan as CachedPlan;
  if (podsMatter(status)) return true;
  const name = node.metadata?.name ?? "";
  if (status?.nodes.some((e) => e.name === name)) return true;
  if (status?.kubernetes?.tasks.some((t) => t.node === name)) return true;
  return spec?.kubernetes !== undefined || matchesSelector(node.metadata?.labels ?? {}, spec?.nodeSelector);
}
