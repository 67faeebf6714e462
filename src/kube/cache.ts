// Watches that keep plans, Nodes, the kube-system pods the health gates and the Kubernetes phase
// read, and the plans' hook Jobs in memory (list, then watch; re-list when the watch ends) and tell
// the manager about every change; a change only enqueues work, it is never acted on. Workload pods
// are not cached here: they are watched per node while it drains (node-pods.ts).
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
  /** Pods in kube-system with a k8s-app label: control plane mirror pods, kube-proxy, CoreDNS. */
  systemPods: Watched<V1Pod>;
  /** Hook Jobs in the operator's namespace: only their changes are used, to wake their plan. */
  jobs: Watched<V1Job>;
}

const systemNamespace = "kube-system";
/** The label that names a system pod's component (mirror pods, kube-proxy, CoreDNS). */
const systemPodLabel = "k8s-app";

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
    systemPods: makeInformer<V1Pod>(
      kc,
      `/api/v1/namespaces/${systemNamespace}/pods`,
      () => core.listNamespacedPod({ namespace: systemNamespace, labelSelector: systemPodLabel }),
      systemPodLabel,
    ),
    jobs: makeInformer<V1Job>(
      kc,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace, labelSelector: planLabelKey }),
      planLabelKey,
    ),
  };
}

export type ChangeVerb = "add" | "update" | "delete";

/**
 * Keeps one informer going: every change is told, and after an error it restarts with a growing
 * pause until stopped. Resolves once its first list is in.
 */
export async function keepWatching<T extends KubernetesObject>(
  informer: Watched<T>,
  onChange: (object: T, verb: ChangeVerb) => void,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let delay = 250;
  for (const verb of ["add", "update", "delete"] as const)
    informer.on(verb, (object) => onChange(object, verb));
  informer.on("connect", () => {
    delay = 250;
  });
  informer.on("error", (error) => {
    // A watch closed on purpose ends with an abort: nothing to report or restart.
    if (stopped) return;
    onError(error);
    setTimeout(() => {
      if (!stopped) void informer.start().catch(onError);
    }, delay);
    delay = Math.min(delay * 2, 30_000);
  });
  await informer.start();
  return async () => {
    stopped = true;
    await informer.stop();
  };
}

/** Starts every informer; each restarts after an error until stopped. */
export async function startCaches(
  caches: Caches,
  onChange: (kind: keyof Caches, object: KubernetesObject, verb: ChangeVerb) => void,
  onError: (kind: keyof Caches, error: unknown) => void,
): Promise<() => Promise<void>> {
  const entries = Object.entries(caches) as [keyof Caches, Watched<KubernetesObject>][];
  const stops = await Promise.all(
    entries.map(([kind, informer]) =>
      keepWatching(
        informer,
        (object, verb) => onChange(kind, object, verb),
        (error) => onError(kind, error),
      ),
    ),
  );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
