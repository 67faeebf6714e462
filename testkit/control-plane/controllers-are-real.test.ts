// The real kube-controller-manager and kube-scheduler run beside the apiserver: a Deployment grows
// a ReplicaSet and pods, the scheduler binds them, the disruption controller fills in PDB status
// and the eviction API refuses what the PDB forbids: exactly what drain logic meets in production.
import { AppsV1Api, CoreV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { adminKubeConfig, uniqueName } from "./shared-control-plane.ts";
import { waitUntil } from "./wait.ts";

describe("the control plane's controllers", () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const namespace = uniqueName("controllers");
  const nodeName = uniqueName("node");

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNode({ body: { metadata: { name: nodeName } } });
    await core.patchNodeStatus({
      name: nodeName,
      body: [
        {
          op: "add",
          path: "/status",
          value: {
            conditions: [
              { type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: new Date() },
            ],
            allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
            capacity: { cpu: "4", memory: "8Gi", pods: "110" },
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await core.deleteNode({ name: nodeName });
  });

  it("creates, schedules and protects pods for a Deployment", async () => {
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
              nodeSelector: { "kubernetes.io/hostname": nodeName },
              tolerations: [{ operator: "Exists" }],
              containers: [{ name: "web", image: "registry.invalid/web:1" }],
            },
          },
        },
      },
    });
    await core.patchNode({
      name: nodeName,
      body: [{ op: "add", path: "/metadata/labels", value: { "kubernetes.io/hostname": nodeName } }],
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: "web" }, spec: { minAvailable: 2, selector: { matchLabels: labels } } },
    });

    const listPods = async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: "app=web" })).items;
    await waitUntil("the ReplicaSet controller creates 2 pods", async () => (await listPods()).length === 2, {
      timeoutMs: 30_000,
    });
    const owners = (await listPods()).map((p) => p.metadata?.ownerReferences?.[0]?.kind);
    expect(owners).toEqual(["ReplicaSet", "ReplicaSet"]);

    await waitUntil(
      "the scheduler binds both pods to the node",
      async () => (await listPods()).every((p) => p.spec?.nodeName === nodeName),
      { timeoutMs: 30_000 },
    );

    // Stand in for the kubelet: report both pods running and ready.
    for (const pod of await listPods()) {
      await core.patchNamespacedPodStatus({
        namespace,
        name: pod.metadata?.name ?? "",
        body: [
          {
            op: "replace",
            path: "/status",
            value: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
          },
        ],
      });
    }

    await waitUntil(
      "the disruption controller computes the PDB status",
      async () => {
        const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace, name: "web" });
        return pdb.status?.expectedPods === 2 && pdb.status.currentHealthy === 2;
      },
      { timeoutMs: 30_000 },
    );
    const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace, name: "web" });
    // minAvailable 2 of 2 healthy: the budget allows no disruption.
    expect(pdb.status?.disruptionsAllowed).toBe(0);

    const victim = (await listPods())[0]?.metadata?.name ?? "";
    const eviction = core.createNamespacedPodEviction({
      namespace,
      name: victim,
      body: { metadata: { name: victim, namespace } },
    });
    await expect(eviction).rejects.toMatchObject({ code: 429 });
    expect(
      (await core.readNamespacedPod({ namespace, name: victim })).metadata?.deletionTimestamp,
    ).toBeUndefined();
  });
});
