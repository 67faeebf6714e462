// Talos' bootstrap manifests in the fleet simulator: the real talosctl reads them from a control
// plane (none from a worker); bootstrap creates what is missing as machined does, with Talos' field
// manager, annotation and inventory; the real DaemonSet and Deployment controllers roll them out to
// Ready pods on the simulated kubelets, also after an image change; cleanup leaves nothing behind.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AppsV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { kubectl } from "../control-plane/kubectl.ts";
import { adminKubeConfig, uniqueName } from "../control-plane/shared-control-plane.ts";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet } from "./fleet.ts";
import { Kubelets } from "./kubelet.ts";
import { inventoryAnnotation, inventoryKey, inventoryName } from "./manifest-apply.ts";

const run = promisify(execFile);
const namespace = "kube-system";
const ready = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);

describe("the fleet simulator's bootstrap manifests", () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const talosctl = tool("talosctl", "talosctl");
  let fleet: Fleet;
  let kubelets: Kubelets;
  const admin = (args: string[]) => run(talosctl, ["--talosconfig", fleet.talosconfig.admin, ...args]);
  const pods = async (selector: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter((p) =>
      fleet.nodes().some((n) => n.hostname === p.spec?.nodeName),
    );

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.35.2",
      namePrefix: `${uniqueName("manifests")}-`,
      manifests: true,
      timing: { rebootMs: 300 },
    });
    kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 1_000, podReadyMs: 50 });
    // Already there before Talos bootstraps: left as it is, only recorded in the inventory.
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "coredns" }, data: { Corefile: "# by hand\n" } },
    });
    await fleet.bootstrapManifests(kc);
  });

  afterAll(async () => {
    await fleet.removeManifests(kc);
    await kubelets.stop();
    await fleet.stop();
    for (const node of fleet.nodes()) await core.deleteNode({ name: node.hostname }).catch(() => undefined);
  });

  it("talosctl lists the manifests of a control plane, none of a worker, and prints their objects", async () => {
    const [cp] = fleet.controlPlanes();
    const [worker] = fleet.workers();
    const listed = (await admin(["-n", cp?.address ?? "", "get", "manifests"])).stdout;
    for (const id of [
      "05-flannel",
      "10-kube-proxy",
      "11-core-dns",
      "11-core-dns-svc",
      "11-talos-node-rbac-template",
    ])
      expect(listed).toMatch(new RegExp(`controlplane\\s+Manifest\\s+${id}\\s+\\d+`));
    const none = await admin(["-n", worker?.address ?? "", "get", "manifests"]);
    expect(none.stdout).not.toContain("Manifest ");
    const yaml = (await admin(["-n", cp?.address ?? "", "get", "manifests", "10-kube-proxy", "-o", "yaml"]))
      .stdout;
    expect(yaml).toContain("image: registry.k8s.io/kube-proxy:v1.35.2");
    expect(yaml).toMatch(/spec:\n\s*- apiVersion: v1\n\s+data:/);
  });

  it("bootstrap creates what is missing with field manager talos and the inventory annotation, and records everything", async () => {
    const daemonSet = await apps.readNamespacedDaemonSet({ namespace, name: "kube-proxy" });
    expect(daemonSet.metadata?.annotations?.[inventoryAnnotation]).toBe(inventoryName);
    expect(daemonSet.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toContainEqual([
      "talos",
      "Apply",
    ]);
    const untouched = await core.readNamespacedConfigMap({ namespace, name: "coredns" });
    expect(untouched.data).toEqual({ Corefile: "# by hand\n" });
    expect(untouched.metadata?.annotations?.[inventoryAnnotation]).toBeUndefined();
    const inventory = await core.readNamespacedConfigMap({ namespace, name: inventoryName });
    const cp = fleet.controlPlanes()[0];
    const rendered = cp ? Object.values(fleet.manifests(cp)).flat().map(inventoryKey) : [];
    expect(Object.keys(inventory.data ?? {}).sort()).toEqual(rendered.sort());
    expect(new Set(Object.values(inventory.data ?? {}))).toEqual(new Set([""]));
    expect(inventory.data).toHaveProperty(["_system__talos-nodes_rbac.authorization.k8s.io_ClusterRole"]);
  });

  it("the real controllers roll the DaemonSets and CoreDNS out to Ready pods; hostNetwork pods have the node's IP", async () => {
    await kubectl(["-n", namespace, "rollout", "status", "ds/kube-proxy", "--timeout=30s"]);
    await kubectl(["-n", namespace, "rollout", "status", "ds/kube-flannel", "--timeout=30s"]);
    await kubectl(["-n", namespace, "rollout", "status", "deployment/coredns", "--timeout=30s"]);
    const proxies = await pods("k8s-app=kube-proxy");
    expect(
      proxies
        .filter(ready)
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual(
      fleet
        .nodes()
        .map((n) => n.hostname)
        .sort(),
    );
    for (const pod of proxies) expect(pod.status?.podIP).toBe(fleet.node(pod.spec?.nodeName ?? "").address);
    expect((await pods("k8s-app=kube-dns")).filter(ready)).toHaveLength(2);
  });

  it("a machine that is down has its pods not Ready, until it is back", async () => {
    const worker = fleet.workers()[0];
    if (!worker) throw new Error("no worker");
    const onWorker = async () =>
      (await pods("k8s-app=kube-proxy")).filter((p) => p.spec?.nodeName === worker.hostname);
    worker.apidOutage(3_000);
    await waitUntil("the pod is not Ready", async () => !(await onWorker()).some(ready), {
      timeoutMs: 5_000,
    });
    await waitUntil("the pod is Ready again", async () => (await onWorker()).some(ready), {
      timeoutMs: 10_000,
    });
  });

  it("a new kube-proxy image rolls out to completion: old pods gone, new ones Ready", async () => {
    const image = "registry.k8s.io/kube-proxy:v1.35.3";
    await kubectl(["-n", namespace, "set", "image", "ds/kube-proxy", `kube-proxy=${image}`]);
    await kubectl(["-n", namespace, "rollout", "status", "ds/kube-proxy", "--timeout=40s"]);
    const proxies = await pods("k8s-app=kube-proxy");
    expect(proxies.map((p) => [p.spec?.containers[0]?.image, ready(p)])).toEqual(
      fleet.nodes().map(() => [image, true]),
    );
  });

  it("cleanup deletes every rendered object and the inventory, and waits for their pods to go", async () => {
    await fleet.removeManifests(kc);
    await expect(apps.readNamespacedDaemonSet({ namespace, name: "kube-proxy" })).rejects.toMatchObject({
      code: 404,
    });
    await expect(core.readNamespacedConfigMap({ namespace, name: inventoryName })).rejects.toMatchObject({
      code: 404,
    });
    expect(await pods("k8s-app in (kube-proxy, flannel, kube-dns)")).toEqual([]);
  });
});
