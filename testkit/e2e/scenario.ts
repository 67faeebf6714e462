// One e2e scenario's world: a simulated fleet whose Nodes live in the e2e control plane, the
// kubelet stand-in, the invariant recorder and the operator process; plans applied with kubectl.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type KubernetesStatus, kubernetesStatusSchema } from "../../src/api/v1alpha1/kubernetes-status.ts";
import { type E2eCluster, sharedE2eCluster } from "../control-plane/e2e-cluster.ts";
import { kubectl as kubectlOn, waitEstablished } from "../control-plane/kubectl.ts";
import { uniqueName } from "../control-plane/shared-control-plane.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet, type FleetOptions } from "../fleet/fleet.ts";
import { fleetLabel, Kubelets } from "../fleet/kubelet.ts";
import { type OperatorProcess, startOperator } from "./operator-process.ts";
import { budgetOf, inFlightStates } from "./oracles.ts";
import { crdPath, planManifest } from "./plans.ts";
import { Recorder } from "./recorder.ts";

export interface PlanStatusView {
  phase?: string;
  progress?: string;
  estimate?: { completionTime: string; timeLeft: string; message: string };
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    observedGeneration?: number;
  }[];
  nodes?: {
    name: string;
    role?: string;
    state: string;
    startedAt?: string;
    bootIdBefore?: string;
    installedAt?: string;
    upgradeCalledAt?: string;
    reason?: string;
    message: string;
    attempts: number;
    schematic?: string;
    override?: string;
  }[];
  kubernetes?: KubernetesStatus;
}

export class Scenario {
  readonly name = uniqueName("e2e");
  readonly cluster: E2eCluster;
  readonly kc = new KubeConfig();
  fleet!: Fleet;
  kubelets!: Kubelets;
  recorder!: Recorder;
  operator!: OperatorProcess;
  private operatorEntry?: string;

  /** By default the run's e2e cluster (the jest global setup's); a test may bring its own. */
  constructor(cluster: E2eCluster = sharedE2eCluster()) {
    this.cluster = cluster;
    this.kc.loadFromFile(cluster.kubeconfig);
  }

  /** kubectl against this scenario's cluster. */
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    return kubectlOn(args, input, { kubeconfig: this.cluster.kubeconfig });
  }

  async start(
    options: Partial<FleetOptions> & {
      operatorEnv?: Record<string, string>;
      /** The operator's script, src/main.ts unless given (`builtOperator`: what the image runs). */
      operatorEntry?: string;
    } = {},
  ): Promise<this> {
    if (options.operatorEntry) this.operatorEntry = options.operatorEntry;
    await this.kubectl(["apply", "--server-side", "-f", crdPath]);
    await waitEstablished("talosupgradeplans.upgrade.talos-operator.dev", {
      kubeconfig: this.cluster.kubeconfig,
    });
    this.fleet = await Fleet.start({
      controlPlanes: 3,
      workers: 3,
      talosVersion: "v1.11.6",
      timing: { rebootMs: 1_500 },
      // Control planes snapshot this cluster's real etcd (MachineService.EtcdSnapshot).
      etcdUrl: this.cluster.etcdUrl,
      ...options,
      namePrefix: `${this.name}-`,
    });
    this.kubelets = await Kubelets.start(this.fleet, this.kc, { leaseRenewMs: 2_000, podReadyMs: 100 });
    if (this.fleet.rendersManifests) await this.fleet.bootstrapManifests(this.kc);
    this.recorder = await Recorder.start(this.fleet, this.kc);
    this.startOperator(options.operatorEnv);
    return this;
  }

  startOperator(env: Record<string, string> = {}, identity?: string): OperatorProcess {
    this.operator = startOperator({
      kubeconfig: this.cluster.operatorKubeconfig,
      talosconfig: this.fleet.talosconfig.admin,
      planSelector: `test=${this.name}`,
      env,
      ...(identity ? { identity } : {}),
      ...(this.operatorEntry ? { entry: this.operatorEntry } : {}),
    });
    return this.operator;
  }

  /**
   * Creates or replaces this scenario's talosconfig Secret (default/<name>-talosconfig, key
   * `config`) from a talosconfig file, as `kubectl apply` would; returns the Secret's name.
   */
  async putTalosconfigSecret(path: string): Promise<string> {
    const secret = `${this.name}-talosconfig`;
    const manifest = await this.kubectl([
      "create",
      "secret",
      "generic",
      secret,
      "-n",
      "default",
      `--from-file=config=${path}`,
      "--dry-run=client",
      "-o",
      "yaml",
    ]);
    await this.kubectl(["apply", "-f", "-"], manifest.stdout);
    return secret;
  }

  /** As a user must for a CEL check: lets the operator `get` one object, by resourceNames. */
  async grantGet(resource: string, name: string, namespace = "default"): Promise<void> {
    await this.kubectl([
      "create",
      "role",
      name,
      "-n",
      namespace,
      "--verb=get",
      `--resource=${resource}`,
      `--resource-name=${name}`,
    ]);
    await this.kubectl([
      "create",
      "rolebinding",
      name,
      "-n",
      namespace,
      `--role=${name}`,
      "--serviceaccount=default:talos-upgrade-operator",
    ]);
  }

  node(short: string): string {
    return `${this.name}-${short}`;
  }

  private maxUnavailable: number | string = 1;

  /**
   * The safety invariants over the whole run: at most one control plane and maxUnavailable workers
   * down at any moment, and no upgrade call beyond the attempts the status records (one, unless a
   * person asked for a retry).
   */
  async assertInvariants(): Promise<void> {
    if (!this.recorder) return;
    const workers = this.fleet.workers().length;
    expect(this.recorder.maxControlPlanesDown).toBeLessThanOrEqual(1);
    expect(this.recorder.maxWorkersDown).toBeLessThanOrEqual(budgetOf(this.maxUnavailable, workers));
    const status = await this.status().catch(() => ({}) as PlanStatusView);
    const calls = this.recorder.upgradeCalls();
    for (const entry of status.nodes ?? []) {
      expect({ node: entry.name, calls: calls[entry.name] ?? 0 }).toEqual({
        node: entry.name,
        calls: entry.attempts,
      });
    }
  }

  /** Applies a plan of this scenario: by default the scenario's own, or another one named `plan`. */
  async apply(
    spec: Record<string, unknown>,
    annotations: Record<string, string> = {},
    plan = this.name,
  ): Promise<void> {
    if (plan === this.name)
      this.maxUnavailable =
        (spec.rollout as { maxUnavailable?: number | string } | undefined)?.maxUnavailable ?? 1;
    const manifest = planManifest(
      plan,
      { nodeSelector: { matchLabels: { [fleetLabel]: this.name } }, ...spec },
      { labels: { test: this.name }, annotations },
    );
    await this.kubectl(["apply", "-f", "-"], manifest);
  }

  async status(plan = this.name): Promise<PlanStatusView> {
    const { stdout } = await this.kubectl(["get", "tup", plan, "-o", "jsonpath={.status}"]);
    if (!stdout) return {};
    const status = JSON.parse(stdout) as PlanStatusView;
    // Read as the operator reads it: the worker kubelets stored by name come back as tasks.
    return status.kubernetes
      ? { ...status, kubernetes: kubernetesStatusSchema.parse(status.kubernetes) }
      : status;
  }

  /** `kubectl wait` on a plan, as a user would; on timeout the error carries status and operator log. */
  async waitFor(condition: string, timeoutSeconds = 120, plan = this.name): Promise<void> {
    try {
      await this.kubectl(["wait", `tup/${plan}`, `--for=${condition}`, `--timeout=${timeoutSeconds}s`]);
    } catch (error) {
      const status = JSON.stringify(await this.status(plan), null, 1);
      throw new Error(
        `${(error as Error).message}\nstatus: ${status}\noperator log:\n${this.operator.logs()}`,
      );
    }
  }

  /**
   * The plan's status once no node and no Kubernetes task is in flight: a plan can stall on its
   * gates while a node it started still finishes, and the outcome is read after that node lands.
   */
  async settledStatus(timeoutMs = 30_000, plan = this.name): Promise<PlanStatusView> {
    let status: PlanStatusView = {};
    await waitUntil(
      "no node in flight",
      async () => {
        status = await this.status(plan);
        return (
          !(status.nodes ?? []).some((n) => inFlightStates.has(n.state)) &&
          !(status.kubernetes?.tasks ?? []).some((t) => t.state === "Applying")
        );
      },
      { timeoutMs, intervalMs: 200, describe: () => JSON.stringify(status, null, 1) },
    );
    return status;
  }

  /** The plan's Events in the order they were written (their resourceVersion; timestamps have one-second resolution). */
  async events(): Promise<{ reason: string; message: string; time: string }[]> {
    const { stdout } = await this.kubectl([
      "get",
      "events",
      "-n",
      "default",
      "--field-selector",
      `involvedObject.name=${this.name}`,
      "-o",
      "json",
    ]);
    const items = (
      JSON.parse(stdout) as {
        items: {
          reason: string;
          message: string;
          metadata: { creationTimestamp: string; resourceVersion: string };
        }[];
      }
    ).items;
    return items
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => ({ reason: e.reason, message: e.message, time: e.metadata.creationTimestamp }));
  }

  /** Waits until the control plane mirror pods of this fleet are Ready (the kubelets start them). */
  async mirrorPodsReady(): Promise<void> {
    const names = new Set(this.fleet.controlPlanes().map((n) => n.hostname));
    const core = this.kc.makeApiClient(CoreV1Api);
    await waitUntil(
      "mirror pods Ready",
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: "kube-system" })).items.filter((p) =>
          names.has(p.spec?.nodeName ?? ""),
        );
        return (
          pods.length === names.size * 3 &&
          pods.every((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        );
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  condition(status: PlanStatusView, type: string) {
    return status.conditions?.find((c) => c.type === type);
  }

  /** This scenario's Nodes that are cordoned now, as the kube-apiserver has them. */
  async cordonedNodes(): Promise<string[]> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode({ labelSelector: `${fleetLabel}=${this.name}` });
    return nodes.items.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name ?? "");
  }

  async stop(): Promise<void> {
    await this.operator?.stop();
    await this.recorder?.stop();
    // While the kubelets still run: they finish the graceful deletion of the manifests' pods. A
    // failure is reported once the rest is cleaned up.
    const removalError: unknown = this.fleet?.rendersManifests
      ? await this.fleet.removeManifests(this.kc).catch((error: unknown) => error)
      : undefined;
    await this.kubelets?.stop();
    await this.fleet?.stop();
    // The operator is gone: the finalizer it put on the plans is taken off by hand, as a person would.
    const { stdout } = await this.kubectl(["get", "tup", "-l", `test=${this.name}`, "-o", "name"]).catch(
      () => ({
        stdout: "",
      }),
    );
    for (const plan of stdout.split("\n").filter(Boolean))
      await this.kubectl(["patch", plan, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(
        () => undefined,
      );
    await this.kubectl(["delete", "tup", "-l", `test=${this.name}`, "--ignore-not-found"]).catch(
      () => undefined,
    );
    const core = this.kc.makeApiClient(CoreV1Api);
    for (const node of this.fleet?.nodes() ?? [])
      await core.deleteNode({ name: node.hostname }).catch(() => undefined);
    if (removalError) throw removalError;
  }
}

/** Registers the per-test cleanup: the invariants are checked after every scenario, then it stops. */
export function checkAndStopAfterEach(current: () => Scenario | undefined): void {
  afterEach(async () => {
    const scenario = current();
    try {
      await scenario?.assertInvariants();
    } finally {
      await scenario?.stop();
    }
  });
}
