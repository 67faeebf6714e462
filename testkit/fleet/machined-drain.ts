// What machined itself does to the cluster around a legacy upgrade, as Talos' pkg/kubernetes does:
// the upgrade sequence's `drain` phase (CordonAndDrainNode) cordons the Node unless it is cordoned
// already, marking a cordon of its own, then evicts its pods; at boot, machined uncordons a Node it
// had cordoned itself and leaves anyone else's cordon alone.
import { setTimeout as sleep } from "node:timers/promises";
import type { CoreV1Api, V1Node, V1Pod } from "@kubernetes/client-node";

/** The annotation Talos puts on a Node it cordoned itself. */
export const talosCordonedAnnotation = "talos.dev/cordoned";
/** Talos' DrainTimeout: the whole drain, all pods. */
const drainTimeoutMs = 5 * 60_000;
/** An eviction a PodDisruptionBudget refused (429) is sent again after this. */
const evictionRetryMs = 5_000;
/** An evicted pod is looked for this often, for at most a minute, until it is gone. */
const deletedPollMs = 3_000;
const deletedWaitMs = 60_000;
const evictionGraceSeconds = 60;

const codeOf = (error: unknown) => (error as { code?: unknown }).code;

export class MachinedDrain {
  private readonly core: CoreV1Api;
  private readonly stopped: () => boolean;

  constructor(core: CoreV1Api, stopped: () => boolean) {
    this.core = core;
    this.stopped = stopped;
  }

  async cordonAndDrain(nodeName: string): Promise<void> {
    await this.cordon(nodeName);
    await this.drain(nodeName);
  }

  /** At boot, once the Node is Ready: lifts the cordon only if machined set it. */
  async uncordonOwn(nodeName: string): Promise<void> {
    await this.updateNode(nodeName, (node) => {
      const annotations = node.metadata?.annotations ?? {};
      if (annotations[talosCordonedAnnotation] !== "true" || !node.spec?.unschedulable) return undefined;
      const { [talosCordonedAnnotation]: _, ...rest } = annotations;
      return {
        ...node,
        metadata: { ...node.metadata, annotations: rest },
        spec: { ...node.spec, unschedulable: false },
      };
    });
  }

  private async cordon(nodeName: string): Promise<void> {
    await this.updateNode(nodeName, (node) =>
      node.spec?.unschedulable
        ? undefined
        : {
            ...node,
            metadata: {
              ...node.metadata,
              annotations: { ...node.metadata?.annotations, [talosCordonedAnnotation]: "true" },
            },
            spec: { ...node.spec, unschedulable: true },
          },
    );
  }

  /** Read, change, update; a conflict (someone wrote the Node meanwhile) reads it again, for up to 30 s as Talos retries. */
  private async updateNode(nodeName: string, change: (node: V1Node) => V1Node | undefined): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const body = change(await this.core.readNode({ name: nodeName }));
      if (!body) return;
      try {
        await this.core.replaceNode({ name: nodeName, body });
        return;
      } catch (error) {
        if (codeOf(error) !== 409 || Date.now() > deadline || this.stopped()) throw error;
      }
    }
  }

  /** Evicts the Node's pods but mirror, unmanaged and DaemonSet pods, all at once; a failed pod is logged, not fatal. */
  private async drain(nodeName: string): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    const pods = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    await Promise.all(
      pods.items.filter(evictable).map((pod) =>
        this.evict(pod, deadline).catch((error: unknown) => {
          if (!this.stopped())
            console.error(
              `${nodeName}: failed to evict ${pod.metadata?.namespace}/${pod.metadata?.name}: ${String(error)}`,
            );
        }),
      ),
    );
  }

  private async evict(pod: V1Pod, deadline: number): Promise<void> {
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    while (Date.now() < deadline && !this.stopped()) {
      try {
        await this.core.createNamespacedPodEviction({
          name,
          namespace,
          body: {
            metadata: { name, namespace },
            deleteOptions: { gracePeriodSeconds: evictionGraceSeconds },
          },
        });
      } catch (error) {
        if (codeOf(error) === 404) return;
        if (codeOf(error) !== 429) throw error;
        await sleep(evictionRetryMs);
        continue;
      }
      await this.gone(pod, Math.min(deadline, Date.now() + deletedWaitMs));
      return;
    }
  }

  /** Until the pod is deleted, or replaced by one of the same name (another UID). */
  private async gone(pod: V1Pod, until: number): Promise<void> {
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    for (;;) {
      try {
        const now = await this.core.readNamespacedPod({ name, namespace });
        if (now.metadata?.uid !== pod.metadata?.uid) return;
      } catch (error) {
        if (codeOf(error) === 404) return;
        throw error;
      }
      if (Date.now() + deletedPollMs > until || this.stopped())
        throw new Error(`${namespace}/${name} is still running on the node`);
      await sleep(deletedPollMs);
    }
  }
}

function evictable(pod: V1Pod): boolean {
  if (pod.metadata?.annotations?.["kubernetes.io/config.mirror"] !== undefined) return false;
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller);
  return controller !== undefined && controller.kind !== "DaemonSet";
}
