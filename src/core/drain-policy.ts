// Which pods a drain evicts, as kubectl drain decides it: DaemonSet pods and mirror (static) pods
// stay, pods outside spec.drain.podSelector stay, and pods with emptyDir data block the drain
// unless deleteEmptyDirData allows losing it.
import type { V1Pod } from "@kubernetes/client-node";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { matchesSelector } from "./selection.ts";

interface DrainPlan {
  /** Pods to evict now. */
  evict: V1Pod[];
  /** Pods being deleted: the drain waits for them. */
  terminating: V1Pod[];
  /** Why a pod cannot be evicted under the plan's drain policy. */
  blocked: string[];
}

function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.["kubernetes.io/config.mirror"] !== undefined;
}

function isDaemonSetPod(pod: V1Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((o) => o.kind === "DaemonSet" && o.controller);
}

/** A pod by namespace and name: the operator's own, which a drain never evicts. */
export interface PodRef {
  namespace: string;
  name: string;
}

/**
 * `self` is the operator's own pod: evicting it mid-drain would stop the drain (and on a
 * single-node cluster leave nothing to finish); it stays, and goes down with the node's reboot.
 */
export function drainPlan(
  pods: V1Pod[],
  nodeName: string,
  drain: PlanSpec["drain"],
  self?: PodRef,
): DrainPlan {
  const plan: DrainPlan = { evict: [], terminating: [], blocked: [] };
  for (const pod of pods) {
    if (pod.spec?.nodeName !== nodeName) continue;
    if (self && pod.metadata?.namespace === self.namespace && pod.metadata?.name === self.name) continue;
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    if (isMirrorPod(pod) || isDaemonSetPod(pod)) continue;
    if (!matchesSelector(pod.metadata?.labels ?? {}, drain.podSelector)) continue;
    if (pod.metadata?.deletionTimestamp) {
      plan.terminating.push(pod);
      continue;
    }
    const emptyDir = (pod.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined);
    if (emptyDir && !drain.deleteEmptyDirData) {
      plan.blocked.push(
        `pod ${pod.metadata?.namespace}/${pod.metadata?.name} has emptyDir data (spec.drain.deleteEmptyDirData is false)`,
      );
      continue;
    }
    plan.evict.push(pod);
  }
  return plan;
}
