// The kubelet stand-in against the real control plane: Nodes and Leases follow the machines, pods
// the real scheduler binds start and become Ready, evictions complete, and the real ReplicaSet
// controller replaces what was evicted; a reboot shows as NotReady, then Ready with a new boot ID.
import { AppsV1Api, CoordinationV1Api, CoreV1Api, PolicyV1Api, type V1Node } from "@kubernetes/client-node";
import { adminKubeConfig, uniqueName } from "../control-plane/shared-control-plane.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet } from "./fleet.ts";
import { Kubelets } from "./kubelet.ts";
import { talosCordonedAnnotation } from "./machined-drain.ts";

const ready = (node: V1Node) => node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

describe("the kubelet stand-in", () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const namespace = uniqueName("kubelet");
  const prefix = `${namespace}-`;
  let fleet: Fleet;
  let kubelets: Kubelets;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.35.2",
      namePrefix: prefix,
      timing: { rebootMs: 300 },
    });
    kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 500, podReadyMs: 50 });
  });

  afterAll(async () => {
    await kubelets.stop();
    await fleet.stop();
    for (const node of fleet.nodes()) await core.deleteNode({ name: node.hostname }).catch(() => undefined);
  });

  it("registers each machine as a Ready Node with Talos' facts, and keeps its Lease", async () => {
    const cp = await core.readNode({ name: `${prefix}cp-1` });
    expect(cp.metadata?.labels?.["node-role.kubernetes.io/control-plane"]).toBe("");
    expect(cp.spec?.taints?.map((t) => t.key)).toContain("node-role.kubernetes.io/control-plane");
    const worker = await core.readNode({ name: `${prefix}worker-1` });
    expect(ready(worker)).toBe(true);
    expect(worker.status?.addresses).toContainEqual({
      type: "InternalIP",
      address: fleet.node(`${prefix}worker-1`).address,
    });
    expect(worker.status?.nodeInfo?.osImage).toBe("Talos (v1.12.4)");
    expect(worker.status?.nodeInfo?.kubeletVersion).toBe("v1.35.2");
    const leases = kc.makeApiClient(CoordinationV1Api);
    const first = await leases.readNamespacedLease({
      namespace: "kube-node-lease",
      name: `${prefix}worker-1`,
    });
    await waitUntil(
      "the lease is renewed",
      async () => {
        const lease = await leases.readNamespacedLease({
          namespace: "kube-node-lease",
          name: `${prefix}worker-1`,
        });
        return String(lease.spec?.renewTime) !== String(first.spec?.renewTime);
      },
      { timeoutMs: 5_000 },
    );
  });

  it("runs control plane mirror pods with Talos' config version", async () => {
    const pod = await core.readNamespacedPod({
      namespace: "kube-system",
      name: `kube-apiserver-${prefix}cp-1`,
    });
    expect(pod.metadata?.annotations?.["talos.dev/config-version"]).toBe("1");
    expect(pod.metadata?.labels?.["k8s-app"]).toBe("kube-apiserver");
    expect(pod.spec?.containers[0]?.image).toBe("registry.k8s.io/kube-apiserver:v1.35.2");
    await waitUntil(
      "the mirror pod is Ready",
      async () => {
        const p = await core.readNamespacedPod({
          namespace: "kube-system",
          name: `kube-apiserver-${prefix}cp-1`,
        });
        return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      },
      { timeoutMs: 10_000 },
    );
  });

  it("runs scheduled pods, completes evictions, and lets the ReplicaSet replace them", async () => {
    const labels = { app: "web" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": `${prefix}worker-1` },
              containers: [{ name: "web", image: "registry.invalid/web:1" }],
            },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: "web" }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    });
    const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: "app=web" })).items;
    const readyPods = async () =>
      (await pods()).filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
    await waitUntil("2 pods Running and Ready", async () => (await readyPods()).length === 2, {
      timeoutMs: 30_000,
    });
    await waitUntil(
      "the PDB sees 2 healthy pods",
      async () =>
        (await policy.readNamespacedPodDisruptionBudget({ namespace, name: "web" })).status
          ?.disruptionsAllowed === 1,
      { timeoutMs: 30_000 },
    );

    const victim = (await readyPods())[0]?.metadata?.name ?? "";
    await core.createNamespacedPodEviction({
      namespace,
      name: victim,
      body: { metadata: { name: victim, namespace } },
    });
    await waitUntil(
      "the evicted pod is gone and a replacement is Ready",
      async () => {
        const names = (await readyPods()).map((p) => p.metadata?.name);
        return (
          names.length === 2 &&
          !names.includes(victim) &&
          !(await pods()).some((p) => p.metadata?.name === victim)
        );
      },
      { timeoutMs: 30_000 },
    );
  });

  it("shows a reboot as NotReady, then Ready again with the new boot ID", async () => {
    const machine = fleet.node(`${prefix}worker-2`);
    const seen: boolean[] = [];
    machine.startReboot("test");
    await waitUntil(
      "the Node goes NotReady",
      async () => {
        const node = await core.readNode({ name: machine.hostname });
        seen.push(ready(node));
        return !ready(node);
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    await waitUntil(
      "the Node is Ready again after boot",
      async () => {
        const node = await core.readNode({ name: machine.hostname });
        return ready(node) && node.status?.nodeInfo?.bootID === machine.bootId;
      },
      { timeoutMs: 10_000 },
    );
    expect(seen).toContain(false);
    expect(kubelets.errors).toEqual([]);
  });
  it("drains in a legacy upgrade as machined does, and lifts only its own cordon at boot", async () => {
    const machine = fleet.node(`${prefix}worker-2`);
    const labels = { app: "moved" };
    const onMachine = { "kubernetes.io/hostname": machine.hostname };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "moved" },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { nodeSelector: onMachine, containers: [{ name: "app", image: "registry.invalid/app:1" }] },
          },
        },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "bare" },
        spec: { nodeName: machine.hostname, containers: [{ name: "app", image: "registry.invalid/app:1" }] },
      },
    });
    const podsOn = async () =>
      (
        await core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${machine.hostname}` })
      ).items.filter((p) => !p.metadata?.deletionTimestamp);
    await waitUntil("both pods run on the machine", async () => (await podsOn()).length === 2, {
      timeoutMs: 30_000,
    });
    const before = new Map((await podsOn()).map((p) => [p.metadata?.labels?.app ?? "bare", p.metadata?.uid]));

    const seen = new Set<string>();
    const watch = setInterval(async () => {
      const node = await core.readNode({ name: machine.hostname }).catch(() => undefined);
      if (node?.spec?.unschedulable)
        seen.add(`cordoned:${node.metadata?.annotations?.[talosCordonedAnnotation]}`);
    }, 50);
    const bootBefore = machine.bootId;
    machine.startLegacyUpgrade("v1.12.5", "test");
    try {
      await waitUntil(
        "the machine booted its upgrade",
        async () => machine.bootId !== bootBefore && machine.up,
        {
          timeoutMs: 30_000,
        },
      );
      await waitUntil(
        "machined lifted its own cordon",
        async () => !(await core.readNode({ name: machine.hostname })).spec?.unschedulable,
        { timeoutMs: 10_000 },
      );
    } finally {
      clearInterval(watch);
    }
    expect([...seen]).toEqual(["cordoned:true"]);
    const after = await core.readNode({ name: machine.hostname });
    expect(after.metadata?.annotations?.[talosCordonedAnnotation]).toBeUndefined();
    // The Deployment's pod was evicted (a replacement may run there since the uncordon); the bare pod stayed.
    const uids = (await podsOn()).map((p) => p.metadata?.uid);
    expect(uids).toContain(before.get("bare"));
    expect(uids).not.toContain(before.get("moved"));
    expect(machine.upgrades.at(-1)?.drainMs).toBeGreaterThan(0);

    // A cordon machined did not set survives the next upgrade's boot.
    await core.patchNode({
      name: machine.hostname,
      body: [{ op: "add", path: "/spec/unschedulable", value: true }],
    });
    const secondBoot = machine.bootId;
    machine.startLegacyUpgrade("v1.12.6", "test");
    await waitUntil("the machine booted again", async () => machine.bootId !== secondBoot && machine.up, {
      timeoutMs: 30_000,
    });
    await waitUntil(
      "the Node is Ready on the new boot",
      async () =>
        (await core.readNode({ name: machine.hostname })).status?.nodeInfo?.bootID === machine.bootId,
      { timeoutMs: 10_000 },
    );
    const kept = await core.readNode({ name: machine.hostname });
    expect(kept.spec?.unschedulable).toBe(true);
    expect(kept.metadata?.annotations?.[talosCordonedAnnotation]).toBeUndefined();
    expect(kubelets.errors).toEqual([]);
  });
});
