// A drain's evictions on the real apiserver, under a real PodDisruptionBudget: when the budget
// refuses one pod, the other pods of the same owner wait for a later pass instead of being
// refused one by one; pods of other owners, and bare pods, are evicted in the same pass.
import { CoreV1Api, PolicyV1Api, type V1Pod } from "@kubernetes/client-node";
import { planSpecSchema } from "../../src/api/v1alpha1/plan.ts";
import { act } from "../../src/controller/act.ts";
import { newShellMemory } from "../../src/controller/observe.ts";
import { Evictions } from "../../src/kube/evictions.ts";
import type { ManifestSync } from "../../src/kube/manifest-sync.ts";
import { NodeControl } from "../../src/kube/nodes.ts";
import { defaultServiceAccount } from "../../testkit/control-plane/service-accounts.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const namespace = uniqueName("drain");
const node = uniqueName("drain-node");

/** The pods' owners: ConfigMaps, which no controller acts on, so that the garbage collector keeps the pods. */
const owners = new Map<string, string>();

const pod = (name: string, labels: Record<string, string>, ownedBy?: string): V1Pod => ({
  metadata: {
    name,
    namespace,
    labels,
    ...(ownedBy
      ? {
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              name: ownedBy,
              uid: owners.get(ownedBy) ?? "",
              controller: true,
            },
          ],
        }
      : {}),
  },
  spec: { nodeName: node, containers: [{ name: "c", image: "app:1" }] },
});

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await defaultServiceAccount(core, namespace);
  await core.createNode({ body: { metadata: { name: node } } });
  for (const name of ["web", "api"]) {
    const made = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
    owners.set(name, made.metadata?.uid ?? "");
  }
  // Three healthy pods of which the budget lets none go: every eviction it covers is refused.
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name: "web" }, spec: { minAvailable: 3, selector: { matchLabels: { app: "web" } } } },
  });
  for (const p of [
    pod("web-1", { app: "web" }, "web"),
    pod("web-2", { app: "web" }, "web"),
    pod("web-3", { app: "web" }, "web"),
    pod("api-1", { app: "api" }, "api"),
    pod("bare", { app: "bare" }),
  ]) {
    await core.createNamespacedPod({ namespace, body: p });
    // Running and Ready, as a kubelet would report: a pending pod is evicted whatever its budget.
    await core.patchNamespacedPodStatus({
      namespace,
      name: p.metadata?.name ?? "",
      body: [
        { op: "add", path: "/status/phase", value: "Running" },
        { op: "add", path: "/status/conditions", value: [{ type: "Ready", status: "True" }] },
      ],
    });
  }
  // The real disruption controller counts them.
  await waitUntil(
    "the budget counts three healthy pods",
    async () => {
      const { status } = await policy.readNamespacedPodDisruptionBudget({ namespace, name: "web" });
      return status?.currentHealthy === 3 && status.disruptionsAllowed === 0;
    },
    { timeoutMs: 30_000 },
  );
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
  await core.deleteNode({ name: node });
});

it("a refused pod holds back its siblings for the pass; other pods are evicted", async () => {
  const memory = newShellMemory();
  const pods = async () => (await core.listNamespacedPod({ namespace })).items;
  await act(
    { kind: "drain", node },
    {
      nodes: new NodeControl(kc),
      evictions: new Evictions(kc),
      manifests: {} as ManifestSync,
      talosClient: undefined,
      pods,
      memory,
      planName: "drain-test",
      drain: planSpecSchema.parse({ talos: { version: "v1.12.4" } }).drain,
      offPassEnded: () => undefined,
    },
  );
  const blocked = memory.drainBlocked.get(node) ?? "";
  // One refusal, naming one web pod: the other two were not asked for.
  expect(blocked.match(/\/web-\d/g)).toHaveLength(1);
  const left = await pods();
  const terminating = left.filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
  const gone = ["api-1", "bare"].filter((name) => !left.some((p) => p.metadata?.name === name));
  // Evicted: deleted, or terminating where no kubelet confirms the deletion.
  expect([...gone, ...terminating].sort()).toEqual(["api-1", "bare"]);
  expect(
    left.filter((p) => p.metadata?.name?.startsWith("web-") && !p.metadata.deletionTimestamp),
  ).toHaveLength(3);
});
