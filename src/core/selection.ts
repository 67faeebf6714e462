// Which nodes a plan covers and in which order, and how many workers may be down at once.
import { upgradeOrder } from "../api/v1alpha1/node-entries.ts";
import { excluded, type PlanSpec } from "../api/v1alpha1/plan.ts";

type Selector = NonNullable<PlanSpec["nodeSelector"]>;

/** A Kubernetes label selector, evaluated as the apiserver does. */
export function matchesSelector(labels: Record<string, string>, selector: Selector | undefined): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    const ok = {
      In: has && values.includes(value ?? ""),
      NotIn: !has || !values.includes(value ?? ""),
      Exists: has,
      DoesNotExist: !has,
    }[expression.operator];
    if (!ok) return false;
  }
  return true;
}

/** The nodes a plan's Talos phase covers: its selector's, less the excluded, in upgrade order. */
export function selectedNodes<
  T extends { name: string; role: "controlplane" | "worker"; labels: Record<string, string> },
>(nodes: T[], selector: Selector | undefined): T[] {
  return upgradeOrder(nodes.filter((n) => !excluded(n.labels) && matchesSelector(n.labels, selector)));
}

/** maxUnavailable as a count of workers: percentages round down, but never below one. */
export function workerBudget(maxUnavailable: number | string, workers: number): number {
  if (typeof maxUnavailable === "number") return Math.max(1, maxUnavailable);
  const percent = Number.parseInt(maxUnavailable, 10);
  return Math.max(1, Math.floor((workers * (Number.isNaN(percent) ? 0 : percent)) / 100));
}
