// The Kubernetes phase end to end: plans applied with kubectl, the operator as a process, the real
// control plane, a simulated fleet whose machine configurations the operator patches through the
// Talos API, and mirror pods and kubelets that follow those configurations.
import { jest } from "@jest/globals";
import type { KubernetesStatus } from "../../src/api/v1alpha1/kubernetes-status.ts";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { componentImages } from "../../testkit/fleet/machine-config.ts";

const applyConfiguration = "/machine.MachineService/ApplyConfiguration";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const kubernetesStatus = async (scenario: Scenario): Promise<Partial<KubernetesStatus>> =>
  (await scenario.status()).kubernetes ?? {};

/** Every node's component images and kubelet version, as the machines and the Nodes show them. */
async function clusterVersions(scenario: Scenario): Promise<Record<string, string[]>> {
  const { stdout } = await kubectl([
    "get",
    "nodes",
    "-l",
    `fleet.talos-operator.dev/name=${scenario.name}`,
    "-o",
    "json",
  ]);
  const nodes = JSON.parse(stdout) as {
    items: { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } } }[];
  };
  const kubelets = new Map(nodes.items.map((n) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]));
  return Object.fromEntries(
    scenario.fleet.nodes().map((node) => {
      const images = componentImages(scenario.fleet.machineConfig(node));
      return [
        node.hostname,
        [
          ...Object.values(images).filter((i): i is string => i !== undefined),
          `node ${kubelets.get(node.hostname)}`,
        ].map((i) => i.replace(/^.*\//, "")),
      ];
    }),
  );
}

const patchesPerNode = (scenario: Scenario) => scenario.recorder.configPatches();

/** Every component of every node at `version`: five images on a control plane, the kubelet on a worker. */
function allAt(scenario: Scenario, version: string): Record<string, string[]> {
  return Object.fromEntries(
    scenario.fleet
      .nodes()
      .map((n) => [
        n.hostname,
        n.isControlPlane
          ? [
              `kubelet:${version}`,
              `kube-apiserver:${version}`,
              `kube-controller-manager:${version}`,
              `kube-scheduler:${version}`,
              `kube-proxy:${version}`,
              `node ${version}`,
            ]
          : [`kubelet:${version}`, `node ${version}`],
      ]),
  );
}

/** The bootstrap manifests' workloads, pods, inventory and field managers as the cluster has them. */
async function manifestObjects(scenario: Scenario) {
  const get = async (args: string[]) => JSON.parse((await scenario.kubectl([...args, "-o", "json"])).stdout);
  const workloads = [
    ...(await get(["get", "daemonsets", "-n", "kube-system", "--show-managed-fields"])).items,
    ...(await get(["get", "deployments", "-n", "kube-system", "--show-managed-fields"])).items,
  ] as {
    kind: string;
    metadata: { name: string; managedFields?: { manager: string; operation: string }[] };
    spec: { template: { spec: { containers: { image: string }[] } } };
  }[];
  const ref = (w: (typeof workloads)[number]) => `${w.kind}/${w.metadata.name}`;
  const podImages: Record<string, string[]> = {};
  for (const selector of ["k8s-app=kube-proxy", "k8s-app=kube-dns"]) {
    const pods = (await get(["get", "pods", "-n", "kube-system", "-l", selector])).items as {
      spec: { containers: { image: string }[] };
    }[];
    podImages[selector] = pods.map((p) => p.spec.containers[0]?.image ?? "");
  }
  const inventory = await scenario
    .kubectl(["get", "configmap", "-n", "kube-system", "talos-bootstrap-manifests-inventory", "-o", "json"])
    .then((r) => Object.keys((JSON.parse(r.stdout) as { data?: object }).data ?? {}))
    .catch(() => undefined);
  const legacy = await scenario
    .kubectl(["get", "configmap", "-n", "kube-system", "kube-proxy-legacy"])
    .then(() => true)
    .catch(() => false);
  return {
    images: Object.fromEntries(workloads.map((w) => [ref(w), w.spec.template.spec.containers[0]?.image])),
    podImages,
    inventory,
    legacy,
    managers: Object.fromEntries(
      workloads.map((w) => [
        ref(w),
        (w.metadata.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`),
      ]),
    ),
  };
}

async function mirrorPodsReadyAt(scenario: Scenario, version: string): Promise<string[]> {
  const { stdout } = await kubectl(["get", "pods", "-n", "kube-system", "-o", "json"]);
  const pods = JSON.parse(stdout) as {
    items: {
      spec: { nodeName: string; containers: { image: string }[] };
      status: { conditions?: { type: string; status: string }[] };
    }[];
  };
  const names = new Set(scenario.fleet.controlPlanes().map((n) => n.hostname));
  return pods.items
    .filter((p) => names.has(p.spec.nodeName))
    .filter(
      (p) =>
        !p.spec.containers[0]?.image.endsWith(`:${version}`) ||
        !p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    )
    .map((p) => `${p.spec.nodeName}: ${p.spec.containers[0]?.image}`);
}

// A Kubernetes upgrade restarts 18 to 21 components one after another: longer than jest's default.
jest.setTimeout(300_000);

describe("Kubernetes upgrades, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("a Kubernetes-only plan (v1.34 → v1.35), dry run first: every component once, in upgrade-k8s order, Ready at the end", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.34.2",
      workers: 2,
    });
    // A dry run first: the 17 tasks are listed in status, and nothing is pulled or patched.
    const spec = { kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } };
    await scenario.apply({ ...spec, dryRun: true });
    await waitUntil(
      "the dry run lists the tasks",
      async () => ((await kubernetesStatus(scenario)).tasks ?? []).length === 17,
      { timeoutMs: 30_000 },
    );
    const preview = await scenario.status();
    expect(preview.phase).toBe("Pending");
    expect(scenario.condition(preview, "Ready")?.reason).toBe("DryRun");
    expect(preview.kubernetes?.tasks?.every((t) => t.state === "Pending")).toBe(true);
    const touched = scenario.fleet
      .nodes()
      .flatMap((n) => n.calls)
      .filter((c) => c.method === applyConfiguration || c.method === "/machine.MachineService/ImagePull");
    expect(touched).toEqual([]);

    await scenario.apply(spec);
    await scenario.waitFor("condition=Ready", 180);

    expect(await clusterVersions(scenario)).toEqual(allAt(scenario, "v1.35.0"));
    expect(await mirrorPodsReadyAt(scenario, "v1.35.0")).toEqual([]);
    // One patch per component and node: 5 on each control plane, the kubelet on each worker.
    expect(patchesPerNode(scenario)).toEqual(
      Object.fromEntries(scenario.fleet.nodes().map((n) => [n.hostname, n.isControlPlane ? 5 : 1])),
    );
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual(Array(5).fill(0));

    const status = await scenario.status();
    expect(status.phase).toBe("Completed");
    expect(scenario.condition(status, "KubernetesUpToDate")).toMatchObject({ status: "True" });
    expect(await kubernetesStatus(scenario)).toMatchObject({
      fromVersion: "v1.34.2",
      targetVersion: "v1.35.0",
      version: "v1.35.0",
      step: "Done",
      nodesDone: 5,
    });

    // Static pods one control plane at a time and in order, then kube-proxy, then kubelets.
    const upgraded = (await scenario.events())
      .filter((e) => e.reason === "ComponentUpgraded")
      .map((e) => e.message);
    const order = upgraded.map((m) => m.split(" ")[0]);
    expect(order).toEqual([
      ...Array(3).fill("kube-apiserver"),
      ...Array(3).fill("kube-controller-manager"),
      ...Array(3).fill("kube-scheduler"),
      ...Array(3).fill("kube-proxy"),
      ...Array(5).fill("kubelet"),
    ]);
    // Every image was pulled on its node before the first patch.
    for (const node of scenario.fleet.nodes()) {
      const firstPatch = node.calls.find((c) => c.method === applyConfiguration)?.at ?? 0;
      const pulls = node.calls.filter((c) => c.method === "/machine.MachineService/ImagePull");
      expect(pulls.length).toBe(node.isControlPlane ? 4 : 1);
      expect(pulls.every((c) => c.at < firstPatch)).toBe(true);
    }
  });

  it("a combined plan (Talos v1.13 → v1.14, then Kubernetes v1.35 → v1.36) in one apply, Talos first, ends with the bootstrap manifests synced", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.35.2",
      manifests: true,
    });
    // Talos v1.13 bootstrapped the manifests into its inventory; v1.35 still renders this one.
    const bootstrapped = await manifestObjects(scenario);
    expect(bootstrapped.legacy).toBe(true);
    expect(bootstrapped.inventory).toContain("kube-system_kube-proxy-legacy__ConfigMap");
    await scenario.apply({
      talos: { version: "v1.14.0" },
      kubernetes: { version: "v1.36.0" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready", 300);

    expect(scenario.fleet.nodes().map((n) => n.version)).toEqual(Array(6).fill("v1.14.0"));
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual(Array(6).fill(1));
    expect(await clusterVersions(scenario)).toEqual(allAt(scenario, "v1.36.0"));

    // kube-proxy on the new version and CoreDNS and flannel on Talos v1.14's, each rolled out on
    // all six nodes; the object v1.36 no longer renders is gone; the inventory lists what is rendered.
    const synced = await manifestObjects(scenario);
    expect(synced.images).toEqual({
      "DaemonSet/kube-proxy": "registry.k8s.io/kube-proxy:v1.36.0",
      "DaemonSet/kube-flannel": "ghcr.io/siderolabs/flannel:v0.28.0",
      "Deployment/coredns": "registry.k8s.io/coredns/coredns:v1.13.2",
    });
    expect(synced.podImages["k8s-app=kube-proxy"]).toEqual(
      Array(6).fill("registry.k8s.io/kube-proxy:v1.36.0"),
    );
    expect(synced.podImages["k8s-app=kube-dns"]).toEqual(
      Array(2).fill("registry.k8s.io/coredns/coredns:v1.13.2"),
    );
    for (const workload of ["daemonset/kube-proxy", "daemonset/kube-flannel", "deployment/coredns"])
      await scenario.kubectl(["rollout", "status", "-n", "kube-system", workload, "--timeout=5s"]);
    expect(synced.legacy).toBe(false);
    expect(synced.inventory).toEqual(expect.arrayContaining(["kube-system_kube-proxy_apps_DaemonSet"]));
    expect(synced.inventory).not.toContain("kube-system_kube-proxy-legacy__ConfigMap");
    expect(synced.managers["DaemonSet/kube-proxy"]).toContain("talos/Apply");
    const manifests = (await kubernetesStatus(scenario)).manifests;
    expect(manifests).toMatchObject({ method: "ServerSideApply", rollingOut: [] });

    const timeline = await scenario.events();
    const reasons = timeline.map((e) => e.reason);
    const lastTalos = reasons.lastIndexOf("NodeUpgraded");
    const firstKubernetes = reasons.indexOf("KubernetesUpgradeStarted");
    expect(reasons.filter((r) => r === "NodeUpgraded")).toHaveLength(6);
    expect(firstKubernetes).toBeGreaterThan(lastTalos);
    // No Kubernetes component was patched before the last Talos node was back (the Talos phase
    // patches only each verified node's install image).
    const lastReboot = Math.max(
      ...scenario.fleet
        .nodes()
        .flatMap((n) => n.calls.filter((c) => c.method.endsWith("/Reboot")).map((c) => c.at)),
    );
    const firstPatch = Math.min(...scenario.fleet.nodes().flatMap((n) => n.componentPatches));
    expect(firstPatch).toBeGreaterThan(lastReboot);
    const status = await scenario.status();
    expect(scenario.condition(status, "TalosUpToDate")?.status).toBe("True");
    expect(scenario.condition(status, "KubernetesUpToDate")?.status).toBe("True");
    const start = Date.parse(timeline[0]?.time ?? "");
    console.log(
      `combined plan timeline:\n${timeline
        .filter((e) => e.reason !== "ComponentUpgraded" || e.message.startsWith("kube-apiserver"))
        .map((e) => `+${((Date.parse(e.time) - start) / 1000).toFixed(0)}s ${e.reason}: ${e.message}`)
        .join("\n")}`,
    );
  });

  it("refuses a Kubernetes target the nodes' Talos does not support, and touches nothing", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.35.2",
      workers: 1,
    });
    await scenario.apply({ kubernetes: { version: "v1.36.0" } });
    await scenario.waitFor("condition=Stalled");
    const stalled = scenario.condition(await scenario.status(), "Stalled");
    expect(stalled?.reason).toBe("UnsupportedKubernetesVersion");
    expect(stalled?.message).toContain(
      `${scenario.node("cp-1")}: Talos v1.12.4 supports Kubernetes v1.30 to v1.35, not v1.36.0`,
    );
    await sleep(2_000);
    for (const node of scenario.fleet.nodes()) {
      expect(node.calls.filter((c) => c.method === applyConfiguration || c.method.endsWith("Pull"))).toEqual(
        [],
      );
    }
  });

  it("a two-minor jump is refused naming the missing minor, and done in two passes with intermediateVersions", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.34.2",
      workers: 1,
    });
    await scenario.apply({ kubernetes: { version: "v1.36.0" } });
    await scenario.waitFor("condition=Stalled");
    const refused = scenario.condition(await scenario.status(), "Stalled");
    expect(refused?.reason).toBe("UpgradePathTooLong");
    expect(refused?.message).toContain("add the latest v1.35.x to intermediateVersions");
    expect(Object.values(patchesPerNode(scenario))).toEqual([0, 0, 0, 0]);

    await scenario.apply({
      kubernetes: { version: "v1.36.0", intermediateVersions: ["v1.35.0"] },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready", 240);
    expect(await clusterVersions(scenario)).toEqual(allAt(scenario, "v1.36.0"));
    expect(patchesPerNode(scenario)).toEqual(
      Object.fromEntries(scenario.fleet.nodes().map((n) => [n.hostname, n.isControlPlane ? 10 : 2])),
    );
    const started = (await scenario.events()).filter((e) => e.reason === "KubernetesUpgradeStarted");
    expect(started.map((e) => e.message)).toEqual([
      "upgrading Kubernetes v1.34.2 → v1.35.0 (on the way to v1.36.0)",
      "upgrading Kubernetes v1.35.0 → v1.36.0",
    ]);
  });

  it("a control plane component whose pod never becomes Ready stalls the plan, naming node and component", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.34.2",
      workers: 1,
    });
    await scenario.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "15s" } });
    // Once the API servers are done, cp-2's next kube-controller-manager pod will never be Ready.
    await waitUntil(
      "the API servers upgraded",
      async () => (await kubernetesStatus(scenario)).tasks?.[2]?.state === "Done",
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    scenario.fleet.inject(scenario.node("cp-2"), { staticPodNotReady: "kube-controller-manager" });
    await scenario.waitFor("condition=Stalled", 120);
    const status = await scenario.status();
    expect(status.phase).toBe("Failed");
    const stalled = scenario.condition(status, "Stalled");
    expect(stalled?.reason).toBe("ComponentTimeout");
    expect(stalled?.message).toContain(`kube-controller-manager on ${scenario.node("cp-2")}`);
    expect(stalled?.message).toContain("mirror pod");
    // Nothing after it was started: cp-3's controller manager and every scheduler are untouched.
    const tasks = (await kubernetesStatus(scenario)).tasks ?? [];
    expect(tasks.filter((t) => t.state === "Done").map((t) => `${t.component}@${t.node.slice(-4)}`)).toEqual([
      "kube-apiserver@cp-1",
      "kube-apiserver@cp-2",
      "kube-apiserver@cp-3",
      "kube-controller-manager@cp-1",
    ]);
    expect(patchesPerNode(scenario)[scenario.node("cp-3")]).toBe(1);
  });

  it("killed between component patches, a restarted operator resumes and applies nothing twice", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.34.2",
      workers: 2,
    });
    await scenario.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } });
    const patches = () => Object.values(patchesPerNode(scenario)).reduce((a, b) => a + b, 0);
    for (const [index, after] of [2, 7, 13].entries()) {
      for (let i = 0; i < 600 && patches() < after; i++) await sleep(50);
      await scenario.operator.kill();
      await sleep(300);
      scenario.startOperator({}, `operator-${index + 2}`);
    }
    await scenario.waitFor("condition=Ready", 180);
    expect(await clusterVersions(scenario)).toEqual(allAt(scenario, "v1.35.0"));
    expect(patchesPerNode(scenario)).toEqual(
      Object.fromEntries(scenario.fleet.nodes().map((n) => [n.hostname, n.isControlPlane ? 5 : 1])),
    );
  });
});
