// The bench fleet's workloads, as a cluster runs them: Deployments and StatefulSets on the workers
// (every other one behind a PodDisruptionBudget with maxUnavailable 1), a DaemonSet on every node
// and a few bare pods, about `podsPerWorker` pods per worker in all. The real controller-manager
// and scheduler place and replace them; the kubelet stand-in runs and stops them.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PolicyV1Api,
  type V1PodTemplateSpec,
} from "@kubernetes/client-node";
import { defaultServiceAccount } from "../testkit/control-plane/service-accounts.ts";
import { waitUntil } from "../testkit/control-plane/wait.ts";
import { fleetLabel } from "../testkit/fleet/kubelet.ts";

export interface WorkloadShape {
  podsPerWorker: number;
  /** What a pod's containers take to stop: the kubelet stand-in's shutdown time. */
  terminationMs: number;
}

export interface Workloads {
  /** Pods the drains evict: every pod but the DaemonSet's. */
  evictable: number;
  pods: number;
  readyInMs: number;
}

const namespace = "workloads";
/** Replicas per Deployment or StatefulSet: small sets, spread by the scheduler across workers. */
const replicas = 5;

function template(
  app: string,
  fleet: string,
  terminationMs: number,
  workersOnly: boolean,
): V1PodTemplateSpec {
  return {
    metadata: { labels: { app } },
    spec: {
      nodeSelector: { [fleetLabel]: fleet },
      ...(workersOnly
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                      ],
                    },
                  ],
                },
              },
            },
          }
        : { tolerations: [{ operator: "Exists" }] }),
      terminationGracePeriodSeconds: Math.ceil(terminationMs / 1000) + 1,
      containers: [{ name: "app", image: `${app}:1` }],
    },
  };
}

/**
 * Sends a create again when its connection was lost (an apiserver busy with 1000 nodes closed one
 * mid-request); one that had landed answers 409 the second time. An answer with a status is final.
 */
async function created(create: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 409 && attempt > 1) return;
      if (code !== undefined || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}

/** Creates the workloads and waits until every pod runs and is Ready. */
export async function startWorkloads(
  kc: KubeConfig,
  fleet: string,
  nodes: number,
  workers: number,
  shape: WorkloadShape,
): Promise<Workloads> {
  const started = Date.now();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // Bare pods are admitted only once the namespace has its default ServiceAccount.
  await defaultServiceAccount(core, namespace);
  // The DaemonSet gives one pod per worker; a bare pod per 20 workers; the rest in sets of five.
  const bare = Math.max(1, Math.floor(workers / 20));
  const sets = Math.max(1, Math.round((shape.podsPerWorker * workers - workers - bare) / replicas));
  await created(() =>
    apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name: "node-agent" },
        spec: {
          selector: { matchLabels: { app: "node-agent" } },
          template: template("node-agent", fleet, shape.terminationMs, false),
        },
      },
    }),
  );
  for (let i = 0; i < sets; i++) {
    const app = `app-${i}`;
    const spec = {
      replicas,
      selector: { matchLabels: { app } },
      template: template(app, fleet, shape.terminationMs, true),
    };
    // One set in four a StatefulSet (its pods replaced one by one, by ordinal).
    if (i % 4 === 3)
      await created(() =>
        apps.createNamespacedStatefulSet({
          namespace,
          body: {
            metadata: { name: app },
            spec: { ...spec, serviceName: app, podManagementPolicy: "Parallel" },
          },
        }),
      );
    else
      await created(() =>
        apps.createNamespacedDeployment({ namespace, body: { metadata: { name: app }, spec } }),
      );
    if (i % 2 === 0)
      await created(() =>
        policy.createNamespacedPodDisruptionBudget({
          namespace,
          body: { metadata: { name: app }, spec: { maxUnavailable: 1, selector: { matchLabels: { app } } } },
        }),
      );
  }
  for (let i = 0; i < bare; i++) {
    const app = `bare-${i}`;
    await created(() =>
      core.createNamespacedPod({
        namespace,
        body: { metadata: { name: app }, spec: template(app, fleet, shape.terminationMs, true).spec },
      }),
    );
  }
  const pods = nodes + sets * replicas + bare;
  await waitUntil(`${pods} workload pods Ready`, async () => (await readyPods(core)) === pods, {
    timeoutMs: 30 * 60_000,
    intervalMs: 2_000,
  });
  return { pods, evictable: pods - nodes, readyInMs: Date.now() - started };
}

/** Ready pods in the workloads' namespace, read in pages. */
async function readyPods(core: CoreV1Api): Promise<number> {
  let ready = 0;
  let page: string | undefined;
  do {
    const list = await core.listNamespacedPod({
      namespace,
      limit: 500,
      ...(page ? { _continue: page } : {}),
    });
    ready += list.items.filter((p) =>
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    ).length;
    page = list.metadata?._continue || undefined;
  } while (page);
  return ready;
}
