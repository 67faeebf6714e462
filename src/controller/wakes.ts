// Which plans a change in the caches wakes: a plan on its own changes, every plan on a Node's, and
// on a pod's only the plans a pod can matter to now (not those at rest).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Plan } from "../api/v1alpha1/plan.ts";
import { podsMatter } from "../core/fleet-hold.ts";

export function wakesOnPods(plan: KubernetesObject): boolean {
  return podsMatter((plan as { status?: Plan["status"] }).status);
}
