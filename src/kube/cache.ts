// Watches that keep plans, Nodes, Pods and the plans' hook Jobs in memory (list, then watch; re-list when the watch
// ends) and tell the manager about every change; a change only enqueues work, it is never acted on.
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
  type V1Job,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import { group, plural, version } from "../api/v1alpha1/plan.ts";
import { planLabelKey } from "./jobs.ts";

export type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface Caches {
  plans: Watched<KubernetesObject>;
  nodes: Watched<V1Node>;
  pods: Watched<V1Pod>;
  /** Hook Jobs in the operator's namespace: only their changes are used, to wake their plan. */
  jobs: Watched<V1Job>;
}

export function makeCaches(kc: KubeConfig, namespace: string): Caches {
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    plans: makeInformer<KubernetesObject>(
      kc,
      `/apis/${group}/${version}/${plural}`,
      async () => (await custom.listClusterCustomObject({ group, version, plural })) as never,
    ),
    nodes: makeInformer<V1Node>(kc, "/api/v1/nodes", () => core.listNode()),
    pods: makeInformer<V1Pod>(kc, "/api/v1/pods", () => core.listPodForAllNamespaces()),
    jobs: makeInformer<V1Job>(
      kc,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace, labelSelector: planLabelKey }),
      planLabelKey,
    ),
  };
}

/** Starts every informer; each restarts after an error, with a growing pause, until stopped. */
export async function startCaches(
  caches: Caches,
  onChange: (kind: keyof Caches, object: KubernetesObject) => void,
  onError: (kind: keyof Caches, error: unknown) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  const entries = Object.entries(caches) as [keyof Caches, Watched<KubernetesObject>][];
  for (const [kind, informer] of entries) {
    let delay = 250;
    for (const verb of ["add", "update", "delete"] as const)
      informer.on(verb, (object) => onChange(kind, object));
    informer.on("connect", () => {
      delay = 250;
    });
    informer.on("error", (error) => {
      onError(kind, error);
      if (stopped) return;
      setTimeout(() => void informer.start().catch((e: unknown) => onError(kind, e)), delay);
      delay = Math.min(delay * 2, 30_000);
    });
  }
  await Promise.all(entries.map(([, informer]) => informer.start()));
  return async () => {
    stopped = true;
    await Promise.all(entries.map(([, informer]) => informer.stop()));
  };
}
