// The kubelet stand-in: for every simulated machine it keeps the Kubernetes Node, its Lease, its
// control plane mirror pods and the pods bound to it true to what the machine does, against the
// real kube-apiserver. Only the kubelet and container runtime are simulated; the controllers that
// react (node lifecycle, ReplicaSet, disruption, scheduler) are the real ones.
//
// A Job's pods run to an end: Running once started, then Succeeded or Failed after the time and
// with the exit code their annotations give (below). A machine that reboots or upgrades under one
// loses it, as a real kubelet's containers are killed: the pod fails with exit code 137.
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  V1MicroTime,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Fleet } from "./fleet.ts";
import { componentImages, kubeletVersion } from "./machine-config.ts";
import { MachinedDrain } from "./machined-drain.ts";
import type { SimNode } from "./node.ts";
import { staticPodConfigVersion, staticPodImage } from "./resources.ts";

export interface KubeletOptions {
  /** How often a running kubelet renews its node Lease (the real default is 10 s). */
  leaseRenewMs?: number;
  /** From "running" to Ready for a pod, and for mirror pods after a boot. */
  podReadyMs?: number;
  /**
   * How long a deleted pod takes to stop (its containers' shutdown), capped by its
   * terminationGracePeriodSeconds; 0 (the default) stops it at once.
   */
  podTerminationMs?: number;
}

/** Every Node of a simulated fleet carries its fleet's name, for node selectors in tests. */
export const fleetLabel = "fleet.talos-operator.dev/name";

/** On a Job's pod (its template): how long its containers run, in ms (default 300). */
export const runMsAnnotation = "fleet.talos-operator.dev/run-ms";
/** On a Job's pod (its template): the exit code of its containers (default 0, which succeeds). */
export const exitCodeAnnotation = "fleet.talos-operator.dev/exit-code";
const defaultRunMs = 300;
/** What a container killed with SIGKILL exits with, as containerd reports it. */
const killedExitCode = 137;

const mirrorComponents = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404;
}

function isConflictOrGone(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === 404 || code === 409;
}

/** A pod that runs to an end: one the Job controller created. */
function ownedByJob(pod: V1Pod): boolean {
  return pod.metadata?.ownerReferences?.some((o) => o.kind === "Job") ?? false;
}

function uidOf(pod: V1Pod): string {
  return pod.metadata?.uid ?? podKey(pod);
}

function terminal(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** How a Job's pod ends, from its annotations; an annotation that is no number is a test's mistake. */
function plannedEnd(pod: V1Pod): { runMs: number; exitCode: number } | { error: string } {
  const annotations = pod.metadata?.annotations ?? {};
  const runMs = Number(annotations[runMsAnnotation] ?? defaultRunMs);
  const exitCode = Number(annotations[exitCodeAnnotation] ?? 0);
  if (!Number.isInteger(runMs) || runMs < 0 || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)
    return { error: `${podKey(pod)}: ${runMsAnnotation} or ${exitCodeAnnotation} is not a valid number` };
  return { runMs, exitCode };
}

/** A Job's pod whose containers run now: the boot they started in, and when. */
interface Run {
  pod: V1Pod;
  node: SimNode;
  bootId: string;
  startedAt: Date;
}

/** A static pod the node's faults keep from becoming Ready. */
function crashLooping(pod: V1Pod, node: SimNode): boolean {
  const component = node.faults.staticPodNotReady;
  return component !== undefined && pod.metadata?.labels?.["k8s-app"] === component;
}

export class Kubelets {
  private readonly core: CoreV1Api;
  private readonly leases: CoordinationV1Api;
  private readonly informer;
  private readonly options: Required<KubeletOptions>;
  private readonly byName = new Map<string, SimNode>();
  /** Pods this stand-in has started, so that a status echo does not start them twice. */
  private readonly started = new Set<string>();
  /** Job pods whose containers run, by UID, until they end. */
  private readonly runs = new Map<string, Run>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private queue = new Map<string, Promise<void>>();
  private stopped = false;
  readonly errors: unknown[] = [];

  private readonly fleet: Fleet;
  private readonly machined: MachinedDrain;

  private constructor(fleet: Fleet, kubeconfig: KubeConfig, options: KubeletOptions) {
    this.fleet = fleet;
    this.core = kubeconfig.makeApiClient(CoreV1Api);
    this.leases = kubeconfig.makeApiClient(CoordinationV1Api);
    this.options = {
      leaseRenewMs: 10_000,
      podReadyMs: 100,
      podTerminationMs: 0,
      ...options,
    };
    // machined's part: its cordon and drain in the legacy upgrade, its uncordon at boot.
    this.machined = new MachinedDrain(this.core, () => this.stopped);
    for (const node of fleet.nodes()) this.byName.set(node.hostname, node);
    this.informer = makeInformer<V1Pod>(kubeconfig, "/api/v1/pods", () =>
      this.core.listPodForAllNamespaces(),
    );
  }

  static async start(fleet: Fleet, kubeconfig: KubeConfig, options: KubeletOptions = {}): Promise<Kubelets> {
    const kubelets = new Kubelets(fleet, kubeconfig, options);
    fleet.kubeconfig = kubeconfig.exportConfig();
    // In slices: a thousand registrations at once overrun the apiserver's HTTP/2 stream limit.
    const nodes = fleet.nodes();
    for (let i = 0; i < nodes.length; i += 50)
      await Promise.all(nodes.slice(i, i + 50).map((node) => kubelets.register(node)));
    kubelets.informer.on("add", (pod) => kubelets.onPod(pod));
    kubelets.informer.on("update", (pod) => kubelets.onPod(pod));
    kubelets.informer.on("error", () => {
      // The informer stops on errors; restart it after a pause, as a kubelet's reflector does.
      if (!kubelets.stopped) kubelets.later(500, () => void kubelets.informer.start());
    });
    await kubelets.informer.start();
    for (const node of fleet.nodes()) {
      node.drain = (n) => kubelets.machined.cordonAndDrain(n.hostname);
      node.listen({ down: (n) => kubelets.serial(n.hostname, () => kubelets.shutDown(n)) });
      node.listen({ up: (n) => kubelets.serial(n.hostname, () => kubelets.bootUp(n)) });
      node.listen({ config: (n) => kubelets.serial(n.hostname, () => kubelets.reconfigure(n)) });
    }
    kubelets.leaseTimer = setInterval(() => kubelets.renewLeases(), kubelets.options.leaseRenewMs);
    return kubelets;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.leaseTimer);
    for (const timer of this.timers) clearTimeout(timer);
    await this.informer.stop();
    await Promise.allSettled(this.queue.values());
  }

  /** Runs API writes for one node in order, so that they never race each other. */
  private serial(key: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queue.get(key) ?? Promise.resolve())
      .then(() => this.retrying(work))
      .catch((error: unknown) => {
        if (!this.stopped) this.errors.push(error);
      });
    this.queue.set(key, next);
    return next;
  }

  /**
   * Retries a write the apiserver could not take (it restarts, or is overloaded), as a kubelet
   * keeps trying; a refusal (4xx) is final.
   */
  private async retrying(work: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const refused = typeof code === "number" && code >= 400 && code < 500;
        if (refused || this.stopped || attempt >= 30) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000)));
      }
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
  }

  private kubeletVersion(node: SimNode): string {
    return kubeletVersion(componentImages(this.fleet.machineConfig(node)).kubelet);
  }

  private async register(node: SimNode): Promise<void> {
    await this.ensureNode(node);
    await this.postStatus(node, node.up && node.ready);
    await this.renewLease(node);
    if (node.isControlPlane) await this.ensureMirrorPods(node);
  }

  /** Creates the Node object unless it exists, as a kubelet registers itself on every start. */
  private async ensureNode(node: SimNode): Promise<void> {
    const labels: Record<string, string> = {
      "kubernetes.io/hostname": node.hostname,
      [fleetLabel]: this.fleet.name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      ...(node.isControlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
    };
    try {
      await this.core.createNode({
        body: {
          metadata: { name: node.hostname, labels },
          spec: node.isControlPlane
            ? { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }
            : {},
        },
      });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }

  private async postStatus(
    node: SimNode,
    ready: boolean,
    message = "kubelet is posting ready status",
  ): Promise<void> {
    const now = new Date();
    await this.core.patchNodeStatus({
      name: node.hostname,
      body: [
        {
          op: "add",
          path: "/status",
          value: {
            addresses: [
              { type: "InternalIP", address: node.address },
              { type: "Hostname", address: node.hostname },
            ],
            capacity: { cpu: "4", memory: "16Gi", pods: "110", "ephemeral-storage": "100Gi" },
            allocatable: { cpu: "4", memory: "16Gi", pods: "110", "ephemeral-storage": "100Gi" },
            conditions: [
              {
                type: "Ready",
                status: ready ? "True" : "False",
                reason: ready ? "KubeletReady" : "KubeletNotReady",
                message,
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
            nodeInfo: {
              osImage: `Talos (${node.version})`,
              kubeletVersion: this.kubeletVersion(node),
              kubeProxyVersion: "",
              kernelVersion: "6.12.0-talos",
              containerRuntimeVersion: "containerd://2.1.0",
              operatingSystem: "linux",
              architecture: "amd64",
              machineID: node.identity.hostname,
              systemUUID: node.identity.hostname,
              bootID: node.bootId,
            },
          },
        },
      ],
    });
  }

  private renewLeases(): void {
    for (const node of this.fleet.nodes()) {
      if (node.up) void this.serial(node.hostname, () => this.renewLease(node));
    }
  }

  private async renewLease(node: SimNode): Promise<void> {
    const namespace = "kube-node-lease";
    // Lease times are MicroTime: microsecond precision, which a plain Date does not serialize.
    const spec = {
      holderIdentity: node.hostname,
      leaseDurationSeconds: 40,
      renewTime: new V1MicroTime(),
    };
    try {
      const lease = await this.leases.readNamespacedLease({ namespace, name: node.hostname });
      await this.leases.replaceNamespacedLease({
        namespace,
        name: node.hostname,
        body: { ...lease, spec: { ...lease.spec, ...spec } },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.leases.createNamespacedLease({
        namespace,
        body: { metadata: { name: node.hostname }, spec },
      });
    }
  }

  private async shutDown(node: SimNode): Promise<void> {
    // Graceful node shutdown: the kubelet reports NotReady and its containers stop.
    await this.postStatus(node, false, "node is shutting down");
    await this.loseRuns(node);
    for (const pod of this.podsOn(node)) await this.setPodReady(pod, false);
  }

  /**
   * A machine going down for a reboot or an upgrade kills the containers of the Job pods it runs
   * (Talos stops every pod first). An apid outage leaves the machine, and its pods, running.
   */
  private async loseRuns(node: SimNode): Promise<void> {
    if (node.stage === "RUNNING") return;
    const lost = [...this.runs.entries()].filter(([, run]) => run.node === node);
    for (const [uid] of lost) this.runs.delete(uid);
    await Promise.all(
      lost.map(([, run]) =>
        this.serial(podKey(run.pod), () =>
          this.setPodEnded(run, killedExitCode, {
            reason: "Terminated",
            message: "Pod was terminated in response to imminent node shutdown.",
          }),
        ),
      ),
    );
  }

  private async bootUp(node: SimNode): Promise<void> {
    const ready = node.ready;
    // A Node deleted while its machine was down comes back with the kubelet.
    await this.ensureNode(node);
    await this.postStatus(node, ready, ready ? undefined : "container runtime network not ready");
    await this.renewLease(node);
    if (!ready) return;
    await this.machined.uncordonOwn(node.hostname);
    for (const pod of this.podsOn(node)) {
      if (pod.metadata?.deletionTimestamp) await this.finishDeletion(pod);
      // A Job's pod runs once: one that ended, or runs still (an apid outage), is not started again.
      else if (ownedByJob(pod) && (terminal(pod) || this.started.has(uidOf(pod)))) {
        if (this.runs.has(uidOf(pod))) this.readyLater(pod, node);
      }
      // A pod bound while the machine was down (a DaemonSet's) starts now; the others start again.
      else if (pod.status?.phase !== "Running") this.start(pod, node);
      else this.readyLater(pod, node);
    }
    if (node.isControlPlane) await this.ensureMirrorPods(node);
  }

  /** After ApplyConfiguration: new static pods, and the kubelet's new version once it restarted. */
  private async reconfigure(node: SimNode): Promise<void> {
    if (!node.up) return;
    if (node.isControlPlane) await this.ensureMirrorPods(node);
    this.later(
      this.fleet.timing.kubeletRestartMs,
      // A kubelet that comes back from its restart unable to get Ready (the kubeletNotReady fault).
      () =>
        void this.serial(node.hostname, () =>
          this.postStatus(node, node.up && node.ready && !node.faults.kubeletNotReady),
        ),
    );
  }

  private podsOn(node: SimNode): V1Pod[] {
    return this.informer.list().filter((pod) => pod.spec?.nodeName === node.hostname);
  }

  private onPod(pod: V1Pod): void {
    const node = this.byName.get(pod.spec?.nodeName ?? "");
    if (!node?.up || this.stopped) return;
    const key = podKey(pod);
    if (pod.metadata?.deletionTimestamp) {
      void this.serial(key, () => this.finishDeletion(pod));
      return;
    }
    // By UID: a mirror pod replaced after a config change has the same name but is a new pod.
    const uid = pod.metadata?.uid ?? key;
    // A pod that ended is never started again, as a real kubelet does not.
    if (this.started.has(uid) || pod.status?.phase === "Running" || terminal(pod)) return;
    this.start(pod, node);
  }

  private start(pod: V1Pod, node: SimNode): void {
    this.started.add(pod.metadata?.uid ?? podKey(pod));
    void this.serial(podKey(pod), async () => {
      await this.setPodRunning(pod, node);
      this.readyLater(pod, node);
      if (ownedByJob(pod)) this.runToEnd(pod, node);
    });
  }

  /** A Job's pod: its containers exit after the time its annotations give, with their exit code. */
  private runToEnd(pod: V1Pod, node: SimNode): void {
    const uid = uidOf(pod);
    const planned = plannedEnd(pod);
    if ("error" in planned) this.errors.push(new Error(planned.error));
    const { runMs, exitCode } = "error" in planned ? { runMs: defaultRunMs, exitCode: 1 } : planned;
    const run: Run = { pod, node, bootId: node.bootId, startedAt: new Date() };
    this.runs.set(uid, run);
    this.later(runMs, () => {
      // Ended already: its machine went down, or the pod was deleted.
      if (this.runs.get(uid) !== run) return;
      this.runs.delete(uid);
      // A shutdown the pod did not see (it started while the machine was going down): the
      // machine is down, or has booted since. A failed sequence leaves the stage at REBOOTING
      // with its pods running: the stage says nothing here.
      const lost = node.bootId !== run.bootId || !node.up;
      void this.serial(podKey(pod), () => this.setPodEnded(run, lost ? killedExitCode : exitCode));
    });
  }

  /** Containers terminated with `exitCode`: the pod Succeeded on 0, else Failed. */
  private async setPodEnded(
    run: Run,
    exitCode: number,
    why: { reason?: string; message?: string } = {},
  ): Promise<void> {
    const now = new Date();
    const succeeded = exitCode === 0;
    const notReady = {
      status: "False",
      reason: succeeded ? "PodCompleted" : "PodFailed",
      lastTransitionTime: now,
    };
    const terminated = (c: { name: string; image?: string }) => ({
      name: c.name,
      image: c.image,
      imageID: "",
      ready: false,
      restartCount: 0,
      started: false,
      state: {
        terminated: {
          exitCode,
          reason: succeeded ? "Completed" : "Error",
          startedAt: run.startedAt,
          finishedAt: now,
        },
      },
    });
    const spec = run.pod.spec;
    try {
      await this.core.patchNamespacedPodStatus({
        namespace: run.pod.metadata?.namespace ?? "",
        name: run.pod.metadata?.name ?? "",
        body: [
          { op: "add", path: "/status/phase", value: succeeded ? "Succeeded" : "Failed" },
          ...(why.reason ? [{ op: "add", path: "/status/reason", value: why.reason }] : []),
          ...(why.message ? [{ op: "add", path: "/status/message", value: why.message }] : []),
          {
            op: "add",
            path: "/status/conditions",
            value: [
              { type: "PodScheduled", status: "True", lastTransitionTime: run.startedAt },
              { type: "Initialized", status: "True", lastTransitionTime: run.startedAt },
              { type: "ContainersReady", ...notReady },
              { type: "Ready", ...notReady },
            ],
          },
          { op: "add", path: "/status/containerStatuses", value: (spec?.containers ?? []).map(terminated) },
        ],
      });
    } catch (error) {
      if (!isConflictOrGone(error)) throw error;
    }
  }

  private readyLater(pod: V1Pod, node: SimNode): void {
    this.later(
      this.options.podReadyMs,
      () => void this.serial(podKey(pod), () => this.setPodReady(pod, !crashLooping(pod, node))),
    );
  }

  private async setPodRunning(pod: V1Pod, node: SimNode): Promise<void> {
    const now = new Date();
    const containers = pod.spec?.containers ?? [];
    const podIP = pod.spec?.hostNetwork
      ? node.address
      : `10.244.${this.fleet.nodes().indexOf(node) % 250}.${(this.started.size % 250) + 2}`;
    try {
      await this.core.patchNamespacedPodStatus({
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
        body: [
          {
            op: "add",
            path: "/status",
            value: {
              phase: "Running",
              hostIP: node.address,
              podIP,
              podIPs: [{ ip: podIP }],
              startTime: now,
              conditions: [
                { type: "PodScheduled", status: "True", lastTransitionTime: now },
                { type: "Initialized", status: "True", lastTransitionTime: now },
                { type: "ContainersReady", status: "False", lastTransitionTime: now },
                { type: "Ready", status: "False", lastTransitionTime: now },
              ],
              // Init containers ran to completion before the others started.
              ...(pod.spec?.initContainers?.length
                ? {
                    initContainerStatuses: pod.spec.initContainers.map((c) => ({
                      name: c.name,
                      image: c.image,
                      imageID: "",
                      ready: true,
                      restartCount: 0,
                      started: false,
                      state: {
                        terminated: { exitCode: 0, reason: "Completed", startedAt: now, finishedAt: now },
                      },
                    })),
                  }
                : {}),
              containerStatuses: containers.map((c) => ({
                name: c.name,
                image: c.image,
                imageID: "",
                ready: false,
                restartCount: 0,
                started: true,
                state: { running: { startedAt: now } },
              })),
            },
          },
        ],
      });
    } catch (error) {
      if (!isConflictOrGone(error)) throw error;
    }
  }

  private async setPodReady(pod: V1Pod, ready: boolean): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const status = ready ? "True" : "False";
    // A status written in between (409) means read again: readiness must not be lost.
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await this.writePodReady(pod, namespace, name, status, ready)) return;
    }
  }

  /** One read-and-replace of a pod's readiness; false when another write came in between. */
  private async writePodReady(
    pod: V1Pod,
    namespace: string,
    name: string,
    status: "True" | "False",
    ready: boolean,
  ): Promise<boolean> {
    const now = new Date();
    try {
      const current = await this.core.readNamespacedPod({ namespace, name });
      if (current.metadata?.uid !== pod.metadata?.uid || current.metadata?.deletionTimestamp) return true;
      // A pod that ended keeps its end: readiness written late must not make it Running again.
      if (terminal(current)) return true;
      // A machine that went down since runs no container: shutDown has the pod not Ready.
      const node = this.byName.get(current.spec?.nodeName ?? "");
      if (ready && !(node?.up && node.ready)) return true;
      const conditions = (current.status?.conditions ?? []).map((c) =>
        c.type === "Ready" || c.type === "ContainersReady" ? { ...c, status, lastTransitionTime: now } : c,
      );
      const containerStatuses = (current.status?.containerStatuses ?? []).map((c) => ({ ...c, ready }));
      await this.core.replaceNamespacedPodStatus({
        namespace,
        name,
        body: { ...current, status: { ...current.status, phase: "Running", conditions, containerStatuses } },
      });
      return true;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 404) return true;
      if (code === 409) return false;
      throw error;
    }
  }

  /** The kubelet's side of graceful deletion: containers stopped, the pod object is removed. */
  private async finishDeletion(pod: V1Pod): Promise<void> {
    const node = this.byName.get(pod.spec?.nodeName ?? "");
    if (!node?.up) return;
    const graceMs = (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const stopMs = Math.min(this.options.podTerminationMs, graceMs);
    if (stopMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, stopMs));
      // Gone down meanwhile: the shutdown ended the pod.
      if (!node.up || this.stopped) return;
    }
    await this.killJobPod(pod, node);
    try {
      await this.core.deleteNamespacedPod({
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
        // In the body: the apiserver takes the options from the body when there is one.
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? "" } },
      });
    } catch (error) {
      if (!isConflictOrGone(error)) throw error;
    }
    this.started.delete(pod.metadata?.uid ?? podKey(pod));
  }

  /**
   * A Job's pod being deleted (its Job past its deadline, or deleted) ends Failed before it goes,
   * its containers killed, as a kubelet puts a pod it stops into a terminal phase.
   */
  private async killJobPod(pod: V1Pod, node: SimNode): Promise<void> {
    const uid = uidOf(pod);
    // Started and no longer running: it ended already, whatever an older copy of the pod says.
    if (!ownedByJob(pod) || terminal(pod) || (this.started.has(uid) && !this.runs.has(uid))) return;
    const run = this.runs.get(uid) ?? { pod, node, bootId: node.bootId, startedAt: new Date() };
    this.runs.delete(uid);
    await this.setPodEnded(run, killedExitCode);
  }

  /** Static pods of a control plane node, reflected as mirror pods that carry Talos' config version. */
  private async ensureMirrorPods(node: SimNode): Promise<void> {
    for (const component of mirrorComponents) {
      const name = `${component}-${node.hostname}`;
      const image = staticPodImage(node, this.fleet, component);
      const configVersion = staticPodConfigVersion(node, this.fleet, component);
      try {
        const current = await this.core.readNamespacedPod({ namespace: "kube-system", name });
        if (current.metadata?.annotations?.["talos.dev/config-version"] === configVersion) continue;
        // A changed static pod is a new pod: the kubelet replaces the mirror pod.
        await this.core.deleteNamespacedPod({
          namespace: "kube-system",
          name,
          body: { gracePeriodSeconds: 0 },
        });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      await this.core.createNamespacedPod({
        namespace: "kube-system",
        body: {
          metadata: {
            name,
            labels: { "k8s-app": component, tier: "control-plane" },
            annotations: {
              "kubernetes.io/config.mirror": `${component}-${configVersion}`,
              "kubernetes.io/config.source": "file",
              "talos.dev/config-version": configVersion,
            },
          },
          spec: {
            nodeName: node.hostname,
            priorityClassName: "system-node-critical",
            tolerations: [{ operator: "Exists" }],
            containers: [{ name: component, image }],
          },
        },
      });
    }
  }
}
