// The Kubernetes phase decided from observations: pre-flight refusals, pre-pull, the task order
// and its one-at-a-time rule on control planes, waiting on the rendered config and mirror pod,
// resuming without a second patch, failures and retries.

import type { KubeComponent, KubernetesTask } from "../../../src/api/v1alpha1/kubernetes-status.ts";
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { type Decision, decide } from "../../../src/core/decide.ts";
import { nodesToInspect } from "../../../src/core/kubernetes-phase.ts";
import type { KubernetesFacts, NodeView, Observation } from "../../../src/model/observation.ts";
import { apply, readManifests } from "../builders/kubernetes-world.ts";
import { aK8sNode, kubeImage, kubeRepositories } from "../builders/nodes.ts";
import { anObservation, condition, drive, t0 } from "../builders/observations.ts";
import { anS3Destination, aPlan } from "../builders/plans.ts";

/** The order of `talosctl upgrade-k8s` on the fleet below: component by component, node by node. */
const upgradeK8sOrder = [
  "kube-apiserver@cp-1",
  "kube-apiserver@cp-2",
  "kube-controller-manager@cp-1",
  "kube-controller-manager@cp-2",
  "kube-scheduler@cp-1",
  "kube-scheduler@cp-2",
  "kube-proxy@cp-1",
  "kube-proxy@cp-2",
  "kubelet@cp-1",
  "kubelet@cp-2",
  "kubelet@worker-a",
];

const fleet = (k8s = "v1.34.2") => [aK8sNode("cp-1", k8s), aK8sNode("cp-2", k8s), aK8sNode("worker-a", k8s)];
const k8sPlan = (
  status?: PlanStatus,
  spec: Record<string, unknown> = {},
  annotations?: Record<string, string>,
) => aPlan({ talos: undefined, kubernetes: { version: "v1.35.0" }, ...spec }, status, annotations);

/** `passes` passes a second apart, `world` answering each one's actions (the shared driver, set for this phase). */
const run = (obs: Observation, passes: number, world: (nodes: NodeView[], d: Decision) => NodeView[]) =>
  drive(obs, passes, { world, stepMs: 1_000, read: readManifests });

const tasksOf = (d: Decision) => d.status.kubernetes?.tasks ?? [];

describe("Kubernetes phase pre-flight", () => {
  it("plans the tasks in upgrade-k8s order once Talos is done, and starts nothing before the images are pulled", () => {
    // The first pass has no Kubernetes facts yet (the shell reads them once the phase begins).
    const unread = fleet().map((n) => ({ ...n, kubernetes: undefined }));
    const first = decide(anObservation(k8sPlan(), unread));
    expect(first.status.kubernetes).toMatchObject({ step: "Preflight", tasks: [] });
    expect(nodesToInspect(k8sPlan(first.status))).toBe("all");
    const d = decide(anObservation(k8sPlan(first.status), fleet()));
    expect(tasksOf(d).map((t) => `${t.component}@${t.node}`)).toEqual(upgradeK8sOrder);
    expect(tasksOf(d).every((t) => t.state === "Pending")).toBe(true);
    expect(d.status.phase).toBe("UpgradingKubernetes");
    expect(d.status.kubernetes).toMatchObject({
      fromVersion: "v1.34.2",
      version: "v1.35.0",
      step: "PrePull",
    });
    expect(d.actions.every((a) => a.kind === "prepull")).toBe(true);
    expect(d.actions).toContainEqual({
      kind: "prepull",
      node: "cp-1",
      address: "10.0.0.4",
      image: kubeImage("kube-apiserver", "v1.35.0"),
      api: "legacy",
      namespace: "NS_CRI",
    });
    expect(d.actions).toContainEqual(
      expect.objectContaining({
        node: "worker-a",
        image: kubeImage("kubelet", "v1.35.0"),
        namespace: "NS_SYSTEM",
      }),
    );
    expect(d.events.map((e) => e.reason)).toContain("KubernetesUpgradeStarted");
  });

  it("refuses a target the nodes' Talos does not support, naming the node, before touching anything", () => {
    const nodes = [
      aK8sNode("cp-1", "v1.35.2"),
      aK8sNode("worker-a", "v1.35.2", { talos: { reachable: true, version: "v1.11.6" } }),
    ];
    const plan = aPlan({ talos: undefined, kubernetes: { version: "v1.36.0" } });
    const d = decide(anObservation(plan, nodes));
    expect(d.actions).toEqual([]);
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "UnsupportedKubernetesVersion" });
    expect(condition(d, "Stalled")?.message).toContain(
      "cp-1: Talos v1.12.4 supports Kubernetes v1.30 to v1.35",
    );
    expect(condition(d, "Stalled")?.message).toContain("worker-a: Talos v1.11.6");
  });

  it("checks a combined plan against the Talos target, up front", () => {
    const nodes = [aK8sNode("cp-1", "v1.35.2", { talos: { reachable: true, version: "v1.12.4" } })];
    const refused = decide(
      anObservation(aPlan({ talos: { version: "v1.12.4" }, kubernetes: { version: "v1.36.0" } }), nodes),
    );
    expect(condition(refused, "Stalled")?.reason).toBe("UnsupportedKubernetesVersion");
    const accepted = decide(
      anObservation(
        aPlan({ talos: { version: "v1.13.0" }, kubernetes: { version: "v1.36.0" } }),
        nodes.map((n) => ({ ...n, pulls: {} })),
      ),
    );
    expect(condition(accepted, "Stalled")?.status).toBe("False");
    expect(accepted.actions.map((a) => a.kind)).toEqual(["prepull"]);
  });

  it("refuses a Talos target that cannot run the cluster's Kubernetes", () => {
    const node = aK8sNode("cp-1", "v1.31.4", { talos: { reachable: true, version: "v1.13.1" } });
    const d = decide(anObservation(aPlan({ talos: { version: "v1.14.0" } }), [node]));
    expect(condition(d, "Stalled")?.message).toBe(
      "Talos v1.14.0 supports Kubernetes v1.32 to v1.37, not v1.31.4: upgrade Kubernetes first",
    );
  });

  it("refuses a two-minor jump, naming the missing minor, and takes listed intermediate versions in order", () => {
    const plan = (intermediateVersions: string[]) =>
      k8sPlan(undefined, { kubernetes: { version: "v1.35.0", intermediateVersions } });
    const refused = decide(anObservation(plan([]), fleet("v1.33.5")));
    expect(condition(refused, "Stalled")).toMatchObject({ reason: "UpgradePathTooLong" });
    expect(condition(refused, "Stalled")?.message).toContain(
      "add the latest v1.34.x to intermediateVersions",
    );
    const first = decide(anObservation(plan(["v1.34.2"]), fleet("v1.33.5")));
    const d = decide(anObservation({ ...plan(["v1.34.2"]), status: first.status }, fleet("v1.33.5")));
    expect(d.status.kubernetes).toMatchObject({ version: "v1.34.2", targetVersion: "v1.35.0" });
  });

  it("lists removed flags, feature gates and served APIs in use, and stops there", () => {
    const nodes = fleet("v1.34.2");
    const cp = nodes[0] as NodeView;
    cp.kubernetes = {
      ...(cp.kubernetes as KubernetesFacts),
      kubeletArgs: [
        "--pod-infra-container-image=pause:3.9",
        "--feature-gates=SizeMemoryBackedVolumes=true,Other=true",
      ],
      staticPodArgs: {
        "kube-apiserver": [
          "/usr/local/bin/kube-apiserver",
          "--feature-gates=UserNamespacesHostNetworkSupport=false",
        ],
      },
    };
    const first = decide(anObservation(k8sPlan(), nodes));
    const d = decide(anObservation(k8sPlan(first.status), nodes));
    const stalled = condition(d, "Stalled");
    expect(stalled?.reason).toBe("RemovedItemsInUse");
    expect(stalled?.message).toContain("flag --pod-infra-container-image on the kubelet of cp-1");
    expect(stalled?.message).toContain("feature gate SizeMemoryBackedVolumes on the kubelet of cp-1");
    expect(stalled?.message).toContain(
      "feature gate UserNamespacesHostNetworkSupport on kube-apiserver of cp-1",
    );
    expect(stalled?.message).not.toContain("Other");
    expect(d.actions).toEqual([]);
    // It keeps looking, so that removing them lets the plan go on without a new apply.
    expect(d.requeueAfterMs).toBeGreaterThan(0);

    const apis = decide(
      anObservation(k8sPlan(first.status, { kubernetes: { version: "v1.32.0" } }), fleet("v1.31.4"), {
        removedApis: [{ resource: "podschedulingcontexts.v1alpha3.resource.k8s.io", count: 2 }],
      }),
    );
    expect(condition(apis, "Stalled")?.message).toContain(
      "2 object(s) of podschedulingcontexts.v1alpha3.resource.k8s.io, which v1.32.0 no longer serves",
    );
  });

  it("waits, without starting, while a node's machine configuration cannot be read", () => {
    const nodes = fleet();
    (nodes[2] as NodeView).kubernetes = undefined;
    const first = decide(anObservation(k8sPlan(), nodes));
    const d = decide(anObservation(k8sPlan(first.status), nodes));
    expect(d.actions).toEqual([]);
    expect(condition(d, "Ready")?.message).toContain("worker-a: not read yet");
    expect(d.status.kubernetes?.step).toBe("Preflight");
  });
});

describe("Kubernetes phase rollout", () => {
  it("upgrades one control plane task at a time, patches each node once, and completes", () => {
    const patches: string[] = [];
    let maxActive = 0;
    const { d } = run(anObservation(k8sPlan(), fleet()), 40, (nodes, decision) => {
      for (const a of decision.actions)
        if (a.kind === "patchConfig") patches.push(`${a.component}@${a.node}`);
      const active = tasksOf(decision).filter((t) => t.state === "Applying");
      maxActive = Math.max(maxActive, active.length);
      return apply(nodes, decision);
    });
    expect(maxActive).toBe(1);
    expect(patches).toEqual(upgradeK8sOrder);
    expect(d.status.phase).toBe("Completed");
    expect(d.status.kubernetes).toMatchObject({ step: "Done", nodesDone: 3 });
    expect(condition(d, "KubernetesUpToDate")).toMatchObject({ status: "True" });
    expect(condition(d, "Ready")?.message).toBe("every node runs Kubernetes v1.35.0");
  });

  it("waits for the mirror pod with the new config version to be Ready before the next node", () => {
    const { d, obs } = run(anObservation(k8sPlan(), fleet()), 4, (nodes, decision) => {
      const after = apply(nodes, decision);
      // cp-1's new kube-apiserver pod is there but not Ready.
      const cp1 = after[0] as NodeView;
      const pod = cp1.mirrorPods["kube-apiserver"];
      if (pod?.image?.endsWith("v1.35.0")) cp1.mirrorPods["kube-apiserver"] = { ...pod, ready: false };
      return after;
    });
    const apiserver = tasksOf(d).find((t) => t.component === "kube-apiserver" && t.node === "cp-1");
    expect(apiserver?.state).toBe("Applying");
    expect(apiserver?.message).toContain("mirror pod with config version 2 to be Ready");
    expect(tasksOf(d).filter((t) => t.state === "Applying")).toHaveLength(1);
    expect(d.actions).toEqual([]);
    // Past the node timeout it fails, naming node and component.
    const late = decide({
      ...obs,
      plan: { ...obs.plan, status: d.status },
      now: new Date(obs.now.getTime() + 31 * 60_000),
    });
    expect(condition(late, "Stalled")).toMatchObject({ status: "True", reason: "ComponentTimeout" });
    expect(condition(late, "Stalled")?.message).toContain("kube-apiserver on cp-1");
    expect(late.status.phase).toBe("Failed");
  });

  it("resumes an applying task after a restart without patching again", () => {
    const { d, obs } = run(anObservation(k8sPlan(), fleet()), 3, apply);
    const applying = tasksOf(d).find((t) => t.state === "Applying") as KubernetesTask;
    expect(d.actions).toContainEqual(expect.objectContaining({ kind: "patchConfig", node: applying.node }));
    // The patch landed, then the operator died; a new process sees the status and the patched node.
    const world = apply(obs.nodes, d);
    const again = decide({ ...obs, nodes: world, plan: { ...obs.plan, status: d.status } });
    expect(
      again.actions.filter(
        (a) => a.kind === "patchConfig" && a.node === applying.node && a.component === applying.component,
      ),
    ).toEqual([]);
    // And one that died before its patch landed makes it, once.
    const lost = decide({ ...obs, plan: { ...obs.plan, status: d.status } });
    expect(lost.actions.filter((a) => a.kind === "patchConfig")).toHaveLength(1);
  });

  it("a task applying goes on whatever the pre-flight would say now: no running version readable", () => {
    const { d, obs } = run(anObservation(k8sPlan(), fleet()), 3, apply);
    const applying = tasksOf(d).find((t) => t.state === "Applying") as KubernetesTask;
    // Every kubelet version and mirror pod gone from view (the Nodes' status being rewritten).
    const unread = apply(obs.nodes, d).map((n) => {
      const { kubeletVersion: _version, ...rest } = n;
      return { ...rest, mirrorPods: {} };
    });
    const next = decide({ ...obs, nodes: unread, plan: { ...obs.plan, status: d.status } });
    expect(condition(next, "Stalled")?.status).toBe("False");
    const same = tasksOf(next).find((t) => t.node === applying.node && t.component === applying.component);
    expect(same).toMatchObject({ state: "Applying" });
    expect(same?.message).toContain("waiting for the mirror pod");
  });

  it("fails on a refused patch, and a retry tries that task again", () => {
    const { d, obs } = run(anObservation(k8sPlan(), fleet()), 3, apply);
    const applying = tasksOf(d).find((t) => t.state === "Applying") as KubernetesTask;
    const nodes = obs.nodes.map((n) =>
      n.name === applying.node ? { ...n, patchErrors: { [applying.component]: "bad config" } } : n,
    );
    const failed = decide({ ...obs, nodes, plan: { ...obs.plan, status: d.status } });
    expect(condition(failed, "Stalled")).toMatchObject({ reason: "ConfigPatchRefused" });
    expect(failed.status.phase).toBe("Failed");
    const retried = decide({
      ...obs,
      plan: {
        ...obs.plan,
        metadata: { ...obs.plan.metadata, annotations: { "upgrade.talos-operator.dev/retry": "1" } },
        status: failed.status,
      },
    });
    expect(retried.actions).toContainEqual(
      expect.objectContaining({ kind: "patchConfig", node: applying.node }),
    );
    expect(retried.status.phase).toBe("UpgradingKubernetes");
  });

  it("fails on an image that cannot be pulled, before any patch", () => {
    const first = decide(anObservation(k8sPlan(), fleet()));
    const nodes = fleet().map((n) => ({
      ...n,
      pulls: { [kubeImage("kubelet", "v1.35.0")]: { error: "not found" } },
    }));
    const d = decide(anObservation(k8sPlan(first.status), nodes));
    expect(condition(d, "Stalled")).toMatchObject({ reason: "ImagePullFailed" });
    expect(d.actions.filter((a) => a.kind === "patchConfig")).toEqual([]);
  });

  it("keeps a kubelet's -fat flavour and a mirrored repository", () => {
    const nodes = fleet();
    const worker = nodes[2] as NodeView;
    worker.kubernetes = {
      ...(worker.kubernetes as KubernetesFacts),
      images: { kubelet: "mirror.example/kubelet:v1.34.2-fat" },
    };
    const first = decide(anObservation(k8sPlan(), nodes));
    const d = decide(anObservation(k8sPlan(first.status), nodes));
    expect(tasksOf(d).find((t) => t.node === "worker-a")?.image).toBe("mirror.example/kubelet:v1.35.0-fat");
  });

  it("takes each image from the repository the plan names, keeping the kubelet's flavour", () => {
    const nodes = fleet();
    const worker = nodes[2] as NodeView;
    worker.kubernetes = {
      ...(worker.kubernetes as KubernetesFacts),
      images: { kubelet: "ghcr.io/siderolabs/kubelet:v1.34.2-fat" },
    };
    const repositories = {
      apiServer: "mirror.example:5000/k8s/kube-apiserver",
      kubelet: "mirror.example:5000/siderolabs/kubelet",
    };
    const plan = (status?: PlanStatus) =>
      k8sPlan(status, { kubernetes: { version: "v1.35.0", repositories } });
    const first = decide(anObservation(plan(), nodes));
    const d = decide(anObservation(plan(first.status), nodes));
    const imageOf = (component: string, node: string) =>
      tasksOf(d).find((t) => t.component === component && t.node === node)?.image;
    expect(imageOf("kube-apiserver", "cp-1")).toBe("mirror.example:5000/k8s/kube-apiserver:v1.35.0");
    expect(imageOf("kubelet", "worker-a")).toBe("mirror.example:5000/siderolabs/kubelet:v1.35.0-fat");
    // Components the plan names no repository for stay where they are.
    expect(imageOf("kube-scheduler", "cp-1")).toBe("registry.k8s.io/kube-scheduler:v1.35.0");
  });

  it("skips tasks whose component already runs the target", () => {
    const nodes = fleet().map((n) => (n.role === "worker" ? aK8sNode("worker-a", "v1.35.0") : n));
    const first = decide(anObservation(k8sPlan(), nodes));
    const d = decide(anObservation(k8sPlan(first.status), nodes));
    expect(tasksOf(d).find((t) => t.node === "worker-a")).toMatchObject({
      state: "Done",
      message: "already at v1.35.0",
    });
  });

  it("upgrades worker kubelets maxUnavailable at a time", () => {
    const nodes = [
      aK8sNode("cp-1", "v1.34.2"),
      ...["a", "b", "c", "d", "e"].map((w) => aK8sNode(`worker-${w}`, "v1.34.2")),
    ];
    let maxWorkers = 0;
    const { d } = run(
      anObservation(k8sPlan(undefined, { rollout: { maxUnavailable: 2 } }), nodes),
      40,
      (n, decision) => {
        const active = tasksOf(decision).filter((t) => t.state === "Applying" && t.role === "worker").length;
        maxWorkers = Math.max(maxWorkers, active);
        return apply(n, decision);
      },
    );
    expect(maxWorkers).toBe(2);
    expect(d.status.phase).toBe("Completed");
  });

  it("counts kube-proxy done only once its pods run the version everywhere, when the plan syncs the manifests", () => {
    const proxyAt = (v: string) => ({ proxyImages: [kubeImage("kube-proxy", v)] });
    const withProxies = (v: string) => fleet().map((n) => ({ ...n, ...proxyAt(v) }));
    // The components move; the kube-proxy pods stay where the DaemonSet has them.
    const stuck = run(anObservation(k8sPlan(), withProxies("v1.34.2")), 40, (nodes, d) =>
      apply(nodes, d).map((n) => ({ ...n, ...proxyAt("v1.34.2") })),
    );
    expect(stuck.d.status.phase).toBe("UpgradingKubernetes");
    expect(stuck.d.status.kubernetes?.step).toBe("Manifests");
    expect(condition(stuck.d, "Ready")?.message).toContain(
      "waiting for the kube-proxy pods to run v1.35.0 on cp-1, cp-2, worker-a",
    );
    expect(condition(stuck.d, "KubernetesUpToDate")).toMatchObject({ status: "False" });
    const events = (d: Decision) => d.events.map((e) => e.reason);
    expect(events(stuck.d)).not.toContain("KubernetesStepDone");
    // The rollout reaches every node: the plan completes.
    const rolled = stuck.obs.nodes.map((n) => ({ ...n, ...proxyAt("v1.35.0") }));
    const next = decide({ ...stuck.obs, nodes: rolled, plan: { ...stuck.obs.plan, status: stuck.d.status } });
    expect(next.status.phase).toBe("Completed");
    expect(events(next)).toContain("Succeeded");
    // With the manifests left alone, kube-proxy pods do not hold the plan.
    const skipped = run(
      anObservation(
        k8sPlan(undefined, { kubernetes: { version: "v1.35.0", manifests: { mode: "Skip" } } }),
        withProxies("v1.34.2"),
      ),
      40,
      (nodes, d) => apply(nodes, d),
    );
    expect(skipped.d.status.phase).toBe("Completed");
  });

  it("leaves every kubelet on its version with upgradeKubelet false, and completes on the control plane", () => {
    const plan = k8sPlan(undefined, { kubernetes: { version: "v1.35.0", upgradeKubelet: false } });
    const { d, obs } = run(anObservation(plan, fleet()), 40, apply);
    expect(d.status.phase).toBe("Completed");
    expect(tasksOf(d).filter((t) => t.component === "kubelet")).toEqual([]);
    expect(obs.nodes.map((n) => n.kubeletVersion)).toEqual(["v1.34.2", "v1.34.2", "v1.34.2"]);
    expect(condition(d, "KubernetesUpToDate")?.status).toBe("True");
    // The phase counts the nodes it worked on: the two control planes.
    expect(d.status.kubernetes?.nodesDone).toBe(2);
  });

  it("patches a kubelet only while it runs healthy, and says so while it waits", () => {
    const sick = (nodes: NodeView[]) =>
      nodes.map((n) =>
        n.name === "worker-a"
          ? { ...n, kubernetes: { ...(n.kubernetes as KubernetesFacts), kubeletHealthy: false } }
          : n,
      );
    const { d, obs } = run(anObservation(k8sPlan(), sick(fleet())), 40, (nodes, decision) =>
      sick(apply(nodes, decision)),
    );
    const waiting = tasksOf(d).find((t) => t.component === "kubelet" && t.node === "worker-a");
    expect(waiting).toMatchObject({ state: "Pending" });
    expect(waiting?.message).toContain("kubelet service to be healthy");
    expect(d.actions.filter((a) => a.node === "worker-a")).toEqual([]);
    // Healthy again: it is patched, and the phase completes.
    const well = obs.nodes.map((n) => ({
      ...n,
      kubernetes: { ...(n.kubernetes as KubernetesFacts), kubeletHealthy: true },
    }));
    const healed = run({ ...obs, nodes: well, plan: { ...obs.plan, status: d.status } }, 20, apply);
    expect(healed.d.status.phase).toBe("Completed");
  });

  it("starts afresh when the target changes after a completed run", () => {
    const { d, obs } = run(anObservation(k8sPlan(), fleet()), 40, apply);
    expect(d.status.phase).toBe("Completed");
    const moved = k8sPlan(d.status, { kubernetes: { version: "v1.35.2" } });
    const next = decide({ ...obs, plan: moved });
    expect(next.status.kubernetes).toMatchObject({
      fromVersion: "v1.35.0",
      targetVersion: "v1.35.2",
      version: "v1.35.2",
      step: "PrePull",
    });
    expect(tasksOf(next).every((t) => t.state === "Pending" && t.image?.endsWith(":v1.35.2"))).toBe(true);
  });

  it("holds new tasks while health checks fail", () => {
    const first = decide(anObservation(k8sPlan(), fleet()));
    const pulled = apply(fleet(), decide(anObservation(k8sPlan(first.status), fleet())));
    const d = decide(
      anObservation(k8sPlan(decide(anObservation(k8sPlan(first.status), fleet())).status), pulled, {
        gates: [{ name: "Etcd", passing: false, message: "alarm" }],
      }),
    );
    expect(d.actions).toEqual([]);
    expect(condition(d, "Ready")).toMatchObject({ reason: "WaitingForHealthChecks" });
  });
});

describe("which nodes the Kubernetes phase reads", () => {
  it("reads none outside the phase, all to plan, then only the busy and the next", () => {
    expect(nodesToInspect(aPlan())).toEqual(new Set());
    const { d } = run(anObservation(k8sPlan(), fleet()), 3, apply);
    expect(nodesToInspect(k8sPlan(d.status))).toEqual(new Set(["cp-1", "cp-2"]));
  });
});

describe("a dry run of the Kubernetes phase", () => {
  const dryPlan = (status?: PlanStatus, kubernetes = "v1.35.0") =>
    k8sPlan(status, { kubernetes: { version: kubernetes }, dryRun: true });

  it("lists the tasks in upgrade-k8s order and pulls, patches and announces nothing; the real run then starts afresh", () => {
    const unread = fleet().map((n) => ({ ...n, kubernetes: undefined }));
    const first = decide(anObservation(dryPlan(), unread));
    expect(nodesToInspect(dryPlan(first.status))).toBe("all");
    const d = decide(anObservation(dryPlan(first.status), fleet()));
    expect(d.actions).toEqual([]);
    expect(d.events).toEqual([]);
    expect(tasksOf(d).map((t) => `${t.component}@${t.node}`)).toEqual(upgradeK8sOrder);
    expect(tasksOf(d).every((t) => t.state === "Pending" && t.startedAt === undefined)).toBe(true);
    expect(d.status.kubernetes).toMatchObject({
      fromVersion: "v1.34.2",
      version: "v1.35.0",
      step: "Preflight",
    });
    expect(d.status.phase).toBe("Pending");
    expect(condition(d, "Ready")).toMatchObject({ status: "False", reason: "DryRun" });
    expect(condition(d, "Ready")?.message).toContain(
      "Kubernetes v1.34.2 → v1.35.0: 11 task(s), in the order of status.kubernetes.tasks (worker kubelets with nothing to report: workerKubelets)",
    );
    // The same status, with dryRun off: the pre-flight runs again and the phase starts as usual.
    const real = decide(anObservation(k8sPlan(d.status), fleet()));
    expect(real.events.map((e) => e.reason)).toContain("KubernetesUpgradeStarted");
    expect(real.actions.length).toBeGreaterThan(0);
    expect(real.actions.every((a) => a.kind === "prepull")).toBe(true);
    expect(real.status.kubernetes?.step).toBe("PrePull");
  });

  it("shows the refusal the real run would meet", () => {
    const d = decide(anObservation(dryPlan(undefined, "v1.36.0"), fleet("v1.35.2")));
    expect(d.actions).toEqual([]);
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "UnsupportedKubernetesVersion" });
    expect(d.status.phase).toBe("Pending");
  });

  it("in a combined plan, lists the Kubernetes tasks only once the Talos phase is done", () => {
    const plan = aPlan({ talos: { version: "v1.13.0" }, kubernetes: { version: "v1.35.0" }, dryRun: true });
    const d = decide(anObservation(plan, fleet()));
    expect(d.actions).toEqual([]);
    expect(d.status.kubernetes).toBeUndefined();
    expect(d.status.nodes.every((e) => e.state === "Pending")).toBe(true);
    expect(condition(d, "Ready")?.message).toBe(
      "dry run: 3 node(s) would be upgraded, in the order of status.nodes; the Kubernetes tasks are listed once the Talos phase is done",
    );
  });
});

describe("the etcd snapshot before the Kubernetes phase", () => {
  const s3 = anS3Destination();
  const pullsDone = Object.fromEntries(
    (Object.keys(kubeRepositories) as KubeComponent[]).map((c) => [kubeImage(c, "v1.35.0"), {}]),
  );
  const patches = (obs: Observation) => decide(obs).actions.filter((a) => a.kind === "patchConfig");

  // Pulls go on meanwhile: they change nothing on the node.
  it("patches nothing until a snapshot of the Kubernetes pass is verified, then goes on as without one", () => {
    const pulled = (status: PlanStatus | undefined, spec: Record<string, unknown>) =>
      anObservation(
        k8sPlan(status, spec),
        fleet().map((n) => ({ ...n, pulls: pullsDone })),
      );
    const without = patches(pulled(undefined, {}));
    expect(without.length).toBeGreaterThan(0);

    const held = decide(pulled(undefined, { etcdBackup: { s3 } }));
    expect(held.actions.filter((a) => a.kind === "patchConfig")).toEqual([]);
    const snapshot = held.actions.find((a) => a.kind === "etcdSnapshot");
    expect(held.status.etcdBackup).toMatchObject({ pass: "kubernetes v1.35.0", state: "Running" });
    expect(snapshot).toMatchObject({ kind: "etcdSnapshot", key: held.status.etcdBackup?.key });

    const verified = pulled(held.status, { etcdBackup: { s3 } });
    const reported = {
      ...verified,
      etcdSnapshot: {
        key: held.status.etcdBackup?.key ?? "",
        inFlight: false,
        outcome: {
          ok: true as const,
          finishedAt: t0.toISOString(),
          size: 1056,
          sha256: "cd".repeat(32),
          retained: 1,
        },
      },
    };
    expect(patches(reported)).toEqual(without);
  });

  it("takes none once the control planes run the target: only workers' kubelets are left", () => {
    const nodes = [aK8sNode("cp-1", "v1.35.0"), aK8sNode("cp-2", "v1.35.0"), aK8sNode("worker-a", "v1.34.2")];
    const d = decide(anObservation(k8sPlan(undefined, { etcdBackup: { s3 } }), nodes));
    expect(d.actions.some((a) => a.kind === "etcdSnapshot")).toBe(false);
    expect(d.status.etcdBackup).toBeUndefined();
  });
});
