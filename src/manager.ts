// The manager: watches → work queue → reconciler, behind leader election, with the health and
// metrics server and a clean stop on SIGTERM.
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { CoreV1Api, type KubernetesObject, type V1Node } from "@kubernetes/client-node";
import { takeEtcdSnapshot } from "./backup/etcd-snapshot.ts";
import { Notifier } from "./controller/notifier.ts";
import { WorkQueue } from "./controller/queue.ts";
import { Reconciler } from "./controller/reconciler.ts";
import { nodeFingerprint, wakesOnNode, wakesOnPods } from "./controller/wakes.ts";
import { type ChangeVerb, makeCaches, startCaches } from "./kube/cache.ts";
import { loadKubeConfig } from "./kube/client.ts";
import { EventRecorder } from "./kube/events.ts";
import { Evictions } from "./kube/evictions.ts";
import { FleetLock } from "./kube/fleet-lock.ts";
import { HookJobs, planLabel, planLabelKey } from "./kube/jobs.ts";
import { LeaderElector } from "./kube/leader.ts";
import { ManifestSync } from "./kube/manifest-sync.ts";
import { NodePods } from "./kube/node-pods.ts";
import { NodeControl } from "./kube/nodes.ts";
import { PlanStore } from "./kube/plans.ts";
import { readSecretKey } from "./kube/secrets.ts";
import { postWebhook } from "./notify/webhook.ts";
import type { Logger } from "./observability/logger.ts";
import { makeMetrics } from "./observability/metrics.ts";
import { startServer } from "./observability/server.ts";
import type { Settings } from "./settings.ts";
import { TalosCredentials } from "./talos/credentials.ts";
import { SequenceEvents } from "./talos/sequence-events.ts";
import { MachineWatches } from "./talos/watch.ts";

/** "a=b,c=d" against an object's labels; an empty selector matches everything. */
function labelsMatch(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [key, value] = term.split("=").map((s) => s.trim());
    return key !== undefined && labels?.[key] === value;
  });
}

export async function runManager(
  settings: Settings,
  logger: Logger,
  version: string,
): Promise<() => Promise<void>> {
  const kc = loadKubeConfig(settings.kubeconfig);
  const metrics = makeMetrics(version);
  const caches = makeCaches(kc, settings.namespace);
  const leader = settings.leaderElection
    ? new LeaderElector(kc, {
        namespace: settings.namespace,
        name: settings.leaseName,
        identity: settings.identity,
        leaseDurationMs: settings.leaseDurationMs,
        renewDeadlineMs: settings.renewDeadlineMs,
        retryPeriodMs: settings.retryPeriodMs,
      })
    : undefined;
  const credentials = new TalosCredentials(kc, {
    path: settings.talosconfig,
    deadlineMs: settings.talosDeadlineMs,
    observe: (method, outcome, seconds) => metrics.talosCalls.observe({ method, outcome }, seconds),
  });
  let wake: (plan: string) => void = () => undefined;
  const watches = new MachineWatches((plan) => wake(plan));
  const sequences = new SequenceEvents((plan) => wake(plan));
  const core = kc.makeApiClient(CoreV1Api);
  const nodePods = new NodePods(
    kc,
    (plan) => wake(plan),
    (node, error) =>
      logger.warn({ node, error: String(error) }, "watch of a node's pods interrupted; re-listing"),
  );
  const notifier = new Notifier({
    readSecret: (ref) => readSecretKey(core, ref),
    post: postWebhook,
    requeue: (plan) => wake(plan),
    logger,
  });
  const reconciler = new Reconciler({
    kubeconfig: kc,
    caches,
    nodePods,
    store: new PlanStore(kc),
    nodes: new NodeControl(kc, (name) => caches.nodes.get(name)),
    evictions: new Evictions(kc),
    manifests: new ManifestSync(kc),
    events: new EventRecorder(kc),
    credentials,
    fleetLock: new FleetLock(kc, settings.namespace, `${settings.leaseName}-fleet`),
    isLeader: () => leader?.isLeader() ?? true,
    watches,
    sequences,
    logger,
    metrics,
    factsTtlMs: settings.factsTtlMs,
    // POD_NAME and OPERATOR_NAMESPACE come from the downward API in the Deployment.
    self: { namespace: settings.namespace, name: settings.identity },
    requeue: (plan) => wake(plan),
    notifier,
    hookJobs: new HookJobs(kc, settings.namespace),
    etcdSnapshot: (action, talosClient, signal) =>
      takeEtcdSnapshot({
        action,
        talosClient,
        readSecret: (ref) => readSecretKey(core, ref),
        tmpDir: tmpdir(),
        signal,
      }),
    ...(settings.etcdBackupS3 ? { etcdBackupDefault: settings.etcdBackupS3 } : {}),
  });
  const queue = new WorkQueue(
    (name) => reconciler.reconcile(name),
    (name, error) =>
      logger.warn(
        { plan: name, error: error instanceof Error ? error.message : String(error) },
        "reconcile failed; retrying",
      ),
  );
  wake = (plan) => queue.add(plan);
  const handled = (object: KubernetesObject) => labelsMatch(settings.planSelector, object.metadata?.labels);
  const enqueueAll = () => {
    for (const plan of caches.plans.list()) if (handled(plan)) queue.add(plan.metadata?.name ?? "");
  };
  /** What each Node looked like when last told, as far as the operator reads it. */
  const nodesSeen = new Map<string, string>();
  const nodeChanged = (node: V1Node, verb: ChangeVerb): boolean => {
    const name = node.metadata?.name ?? "";
    const fingerprint = nodeFingerprint(node);
    if (verb === "delete") {
      nodesSeen.delete(name);
      return true;
    }
    if (nodesSeen.get(name) === fingerprint) return false;
    nodesSeen.set(name, fingerprint);
    return true;
  };

  let synced = false;
  const server: Server = await startServer(
    settings.metricsHost,
    settings.metricsPort,
    metrics.registry,
    () => synced,
  );
  const stopCaches = await startCaches(
    caches,
    (kind, object, verb) => {
      // Kept by a follower too, so that it wakes on real changes only once it leads.
      const changed = kind === "nodes" && nodeChanged(object as V1Node, verb);
      if (!leader?.isLeader() && leader) return;
      if (kind === "plans") {
        if (handled(object)) queue.add(object.metadata?.name ?? "");
      } else if (kind === "systemPods") {
        for (const plan of caches.plans.list())
          if (handled(plan) && wakesOnPods(plan)) queue.add(plan.metadata?.name ?? "");
      } else if (kind === "jobs") {
        // A hook Job changed: its plan looks again (the label names the plan, or its hash form).
        const label = object.metadata?.labels?.[planLabelKey];
        for (const plan of caches.plans.list())
          if (handled(plan) && planLabel(plan.metadata?.name ?? "") === label)
            queue.add(plan.metadata?.name ?? "");
      } else if (changed) {
        for (const plan of caches.plans.list())
          if (handled(plan) && wakesOnNode(plan, object as V1Node)) queue.add(plan.metadata?.name ?? "");
      }
    },
    (kind, error) => logger.warn({ watch: kind, error: String(error) }, "watch interrupted; re-listing"),
  );
  synced = true;
  logger.info({ identity: settings.identity }, "caches synced");

  const stop = async () => {
    queue.stop();
    watches.stop();
    sequences.stop();
    notifier.stop();
    for (let i = 0; i < 100 && !queue.idle(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await leader?.release();
    await stopCaches();
    await nodePods.stop();
    credentials.close();
    await new Promise((resolve) => server.close(resolve));
  };

  if (leader) {
    logger.info({ lease: `${settings.namespace}/${settings.leaseName}` }, "waiting for leadership");
    await leader.acquire(() => {
      metrics.leader.set(0);
      logger.error({ identity: settings.identity }, "leadership lost; stopping at once");
      queue.stop();
      process.exit(1);
    });
  }
  metrics.leader.set(1);
  logger.info({ identity: settings.identity }, "leading");
  enqueueAll();
  return stop;
}
