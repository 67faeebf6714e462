// Evictions through the eviction API, so PodDisruptionBudgets are respected: a 429 means the
// budget allows no disruption now, and the drain tries again in its next round.
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { apiMessage, httpStatus } from "./client.ts";

type EvictionResult = { evicted: true } | { evicted: false; reason: string };

export class Evictions {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async evict(pod: V1Pod): Promise<EvictionResult> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    try {
      await this.core.createNamespacedPodEviction({
        namespace,
        name,
        body: { metadata: { name, namespace } },
      });
      return { evicted: true };
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404) return { evicted: true };
      if (status === 429) return { evicted: false, reason: `${namespace}/${name}: ${apiMessage(error)}` };
      return {
        evicted: false,
        reason: `${namespace}/${name}: eviction failed (${status ?? "no status"}): ${apiMessage(error)}`,
      };
    }
  }
}
