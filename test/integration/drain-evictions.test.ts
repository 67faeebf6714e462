// A drain's evictions on the real apiserver, under a real PodDisruptionBudget: when the budget
// refuses one pod, the other pods of the same owner wait for the next round instead of being
// refused one by one; pods of other owners, and bare pods, are evicted in the same round. A round
// runs off the pass, one at a time per node, stops evicting once the plan no longer drains its
// node, and gives its slot back if it hangs.
import { CoreV1Api, PolicyV1Api, type V1Pod } from "@kubernetes/client-node";
import { planSpecSchema } from "../../src/api/v1alpha1/plan.ts";
import { type ActPorts, act, releaseRounds } from "../../src/controller/act.ts";
import { newShellMemory, type ShellMemory } from "../../src/controller/observe.ts";
import { Slots } from "../../src/controller/slots.ts";
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
  for (const name of ["web", "api", "batch"]) {
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

/** The real evictions, with the names of the pods each round asked for. */
function countedEvictions(then?: (pod: V1Pod) => void): { evictions: Evictions; asked: string[] } {
  const real = new Evictions(kc);
  const asked: string[] = [];
  const evictions = {
    evict: async (p: V1Pod) => {
      asked.push(p.metadata?.name ?? "");
      const result = await real.evict(p);
      then?.(p);
      return result;
    },
  } as Evictions;
  return { evictions, asked };
}

/** The ports a drain round uses, on the real apiserver. */
function drainPorts(memory: ShellMemory, evictions: Evictions, drainSlots = new Slots(4)): ActPorts {
  return {
    nodes: new NodeControl(kc),
    evictions,
    manifests: {} as ManifestSync,
    talosClient: undefined,
    pods: async () =>
      (await core.listNamespacedPod({ namespace })).items.filter((p) => p.spec?.nodeName === node),
    memory,
    planName: "drain-test",
    drain: planSpecSchema.parse({ talos: { version: "v1.12.4" } }).drain,
    offPassEnded: () => undefined,
    drainSlots,
  };
}

/** A round runs off the pass: its end is when the node is no longer marked draining. */
const roundEnded = (memory: ShellMemory) =>
  waitUntil("the drain round ends", async () => !memory.draining.has(node), { timeoutMs: 10_000 });

const names = async (prefix: string) =>
  (await core.listNamespacedPod({ namespace })).items
    .filter((p) => p.metadata?.name?.startsWith(prefix) && !p.metadata.deletionTimestamp)
    .map((p) => p.metadata?.name);

it("a refused pod holds back its siblings for the round; other pods are evicted", async () => {
  const memory = newShellMemory();
  const { evictions, asked } = countedEvictions();
  const ports = drainPorts(memory, evictions);
  await act({ kind: "drain", node }, ports);
  // Under way off the pass; a second ask while it runs starts nothing.
  expect(memory.draining.has(node)).toBe(true);
  await act({ kind: "drain", node }, ports);
  await roundEnded(memory);
  // Each pod asked once: api-1, bare and one web pod, refused, whose siblings were not asked.
  expect(asked).toHaveLength(3);
  const blocked = memory.drainBlocked.get(node) ?? "";
  expect(blocked.match(/\/web-\d/g)).toHaveLength(1);
  // Evicted: deleted, or terminating where no kubelet confirms the deletion.
  expect(await names("api-")).toEqual([]);
  expect(await names("bare")).toEqual([]);
  expect(await names("web-")).toHaveLength(3);
});

it("a round stops evicting once the plan no longer drains its node", async () => {
  for (const name of ["batch-1", "batch-2", "batch-3"]) {
    await core.createNamespacedPod({ namespace, body: pod(name, { app: "batch" }, "batch") });
  }
  const memory = newShellMemory();
  // After the first batch pod, a pass finds the node no longer draining (given back, failed).
  const { evictions, asked } = countedEvictions((p) => {
    if (p.metadata?.name === "batch-1") releaseRounds(memory, new Set());
  });
  await act({ kind: "drain", node }, drainPorts(memory, evictions));
  await roundEnded(memory);
  // The pods of one owner go one after another: one was evicted, two are left where they run.
  expect(asked.filter((n) => n.startsWith("batch-"))).toEqual(["batch-1"]);
  expect(await names("batch-")).toHaveLength(2);
  // A released round leaves no verdict on the node.
  expect(memory.drainBlocked.has(node)).toBe(false);
});

it("a round released while it waits for a slot reads and evicts nothing", async () => {
  const memory = newShellMemory();
  const { evictions, asked } = countedEvictions();
  const slots = new Slots(1);
  let free!: () => void;
  const held = slots.run(() => new Promise<void>((resolve) => (free = resolve)));
  let listed = 0;
  const ports = drainPorts(memory, evictions, slots);
  const counted = async (n: string) => {
    listed++;
    return ports.pods(n);
  };
  await act({ kind: "drain", node }, { ...ports, pods: counted });
  releaseRounds(memory, new Set());
  free();
  await held;
  await roundEnded(memory);
  expect(listed).toBe(0);
  expect(asked).toEqual([]);
});

it("a round that hangs gives its slot back at its limit, and says so", async () => {
  const memory = newShellMemory();
  const hung = { evict: () => new Promise(() => undefined) } as unknown as Evictions;
  const slots = new Slots(1);
  await act({ kind: "drain", node }, { ...drainPorts(memory, hung, slots), drainRoundLimitMs: 500 });
  await roundEnded(memory);
  expect(memory.drainBlocked.get(node)).toBe("drain failed: the round of evictions did not end within 0.5 s");
  // The slot is free again: the next round runs.
  expect(await slots.run(async () => "next")).toBe("next");
});
