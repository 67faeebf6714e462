// A large fleet's status on the real apiserver: 1000 nodes with 60-character names, in states whose
// messages name nodes, written by the operator's own store and accepted by the CRD's limits.
import { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesTask } from "../../src/api/v1alpha1/kubernetes-status.ts";
import type { PlanStatus } from "../../src/api/v1alpha1/plan.ts";
import { decide } from "../../src/core/decide.ts";
import { PlanStore, parsePlan } from "../../src/kube/plans.ts";
import type { NodeView } from "../../src/model/observation.ts";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { sharedKubeconfigPath, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { installCrd, planManifest } from "../../testkit/e2e/plans.ts";
import { aNode } from "../unit/builders/nodes.ts";
import { anObservation, next } from "../unit/builders/observations.ts";

beforeAll(installCrd);

/** A cloud-style node name of exactly `length` characters (60 unless told). */
const longName = (role: string, i: number, length = 60) =>
  `${role}-${String(i).padStart(4, "0")}-`.padEnd(length, "abcdefghij-compute-internal-").slice(0, length);

/** Control planes on the way, workers behind, ahead of the target, and unreachable. */
function fleet(): NodeView[] {
  const nodes: NodeView[] = [];
  for (let i = 0; i < 3; i++) nodes.push(aNode(longName("cp", i), { role: "controlplane" }));
  for (let i = 0; i < 997; i++) {
    const name = longName("worker", i);
    if (i % 3 === 0) nodes.push(aNode(name, { version: "v1.12.5" }));
    else if (i % 3 === 1)
      nodes.push(
        aNode(name, { talos: { reachable: false, error: `dial tcp 10.0.${i}.1:50000: i/o timeout` } }),
      );
    else nodes.push(aNode(name, { ready: false }));
  }
  return nodes;
}

it("a 1000-node plan with 60-character names: every status write is accepted, every message bounded", async () => {
  const name = uniqueName("large");
  await kubectl(["apply", "-f", "-"], planManifest(name, { talos: { version: "v1.12.4" } }));
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  const store = new PlanStore(kc);
  const read = async () => {
    const parsed = parsePlan(await store.get(name));
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.plan;
  };

  // Three passes, each written as the reconciler writes it: the first lists every node, the next
  // ones start work and carry the messages of nodes that wait.
  let observation = anObservation(await read(), fleet());
  for (let pass = 0; pass < 3; pass++) {
    const decision = decide(observation);
    const plan = await read();
    await store.writeStatus(plan, decision.status);
    const stored = (await read()).status as PlanStatus;
    expect(stored.nodes).toHaveLength(1000);
    expect(stored.nodes.filter((n) => n.name.length === 60)).toHaveLength(1000);
    for (const text of [...stored.conditions, ...stored.nodes].map((c) => c.message))
      expect(text.length).toBeLessThanOrEqual(2048);
    observation = next(decision, observation, { plan: { ...observation.plan, metadata: plan.metadata } });
  }
  const stored = (await read()).status as PlanStatus;
  // Messages that name nodes name a few and count the rest.
  const upToDate = stored.conditions.find((c) => c.type === "TalosUpToDate")?.message ?? "";
  expect(upToDate).toMatch(
    /^not on v1\.12\.4 yet: .* and 657 more; ahead of the target, left alone: .* and 323 more$/,
  );
  expect(stored.nodes.filter((n) => n.state === "Skipped" && n.reason === "AheadOfTarget")).toHaveLength(333);
});

/**
 * A node entry as the operator leaves it once the node is verified and its install image written:
 * state, versions, times, attempts and the pool that chose its installer, nothing only a node in
 * flight needs.
 */
const at = (i: number, minute: number) => new Date(Date.UTC(2026, 10, 28, 2, minute, i % 60)).toISOString();

function doneEntry(name: string, i: number): PlanStatus["nodes"][number] {
  return {
    name,
    role: i < 3 ? "controlplane" : "worker",
    state: "Done",
    fromVersion: "v1.11.6",
    version: "v1.12.4",
    startedAt: at(i, 1),
    finishedAt: at(i, 5),
    override: "gpu-workers",
    attempts: 1,
    message: "",
  };
}

// A Done entry with a 60-character name is about 270 bytes of JSON: 5000 of them whole were about
// 1.3 MiB with the managed fields, under etcd's 1.5 MiB by little. Past 256 KiB of entries, a plain
// worker entry is stored as its name, and the plan reads back every entry in its place.
it("a completed 5000-node plan with 60-character names: the stored object, managed fields included, stays under 512 KiB, and parses back whole", async () => {
  const name = uniqueName("huge");
  await kubectl(["apply", "-f", "-"], planManifest(name, { talos: { version: "v1.12.4" } }));
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  const store = new PlanStore(kc);
  const plan = parsePlan(await store.get(name));
  if (!plan.ok) throw new Error(plan.message);
  const nodes = Array.from({ length: 5000 }, (_, i) =>
    doneEntry(i < 3 ? longName("cp", i) : longName("worker", i - 3), i),
  );
  const status = { ...(decide(anObservation(plan.plan, [])).status as PlanStatus), nodes };
  await store.writeStatus(plan.plan, status);
  const stored = JSON.stringify(await store.get(name));
  const managed = JSON.stringify(
    (JSON.parse(stored) as { metadata: { managedFields?: unknown } }).metadata.managedFields,
  );
  console.log(`5000 Done nodes: object ${stored.length} bytes, of which managedFields ${managed.length}`);
  expect(stored.length).toBeLessThan(512 * 1024);
  const read = parsePlan(JSON.parse(stored));
  if (!read.ok) throw new Error(read.message);
  const back = read.plan.status?.nodes ?? [];
  expect(
    back.map((e) => `${e.name}:${e.role}:${e.state}:${e.fromVersion}:${e.version}:${e.override}`),
  ).toEqual(nodes.map((e) => `${e.name}:${e.role}:${e.state}:${e.fromVersion}:${e.version}:${e.override}`));
  // Whole: the control planes (the first of them the first node to start), the last ten to finish.
  expect(back.filter((e) => e.finishedAt !== undefined)).toHaveLength(3 + 10);
});

/**
 * The Kubernetes phase half-way through the worker kubelets: control plane tasks done, a tenth of
 * the workers applying (each with the message a waiting kubelet has), the ones before them done and
 * the ones after pending.
 */
function kubeletTasks(names: string[]): KubernetesTask[] {
  const image = "ghcr.io/siderolabs/kubelet:v1.35.2";
  const controlPlanes = names.slice(0, 3);
  const workers = names.slice(3);
  const done = (component: KubernetesTask["component"], node: string, i: number): KubernetesTask => ({
    component,
    node,
    role: "controlplane",
    state: "Done",
    image: `registry.k8s.io/${component}:v1.35.2`,
    startedAt: at(i, 10),
    finishedAt: at(i, 11),
    message: "running v1.35.2",
  });
  const applyingFrom = Math.floor(workers.length / 2);
  const applyingTo = applyingFrom + Math.floor(workers.length / 10);
  return [
    ...(["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"] as const).flatMap(
      (component) => controlPlanes.map((node, i) => done(component, node, i)),
    ),
    ...controlPlanes.map((node, i) => ({ ...done("kubelet", node, i), image })),
    ...workers.map((node, i): KubernetesTask => {
      const base = { component: "kubelet" as const, node, role: "worker" as const, image };
      if (i < applyingFrom)
        return {
          ...base,
          state: "Done",
          startedAt: at(i, 20),
          finishedAt: at(i, 22),
          message: "running v1.35.2",
        };
      if (i < applyingTo)
        return {
          ...base,
          state: "Applying",
          startedAt: at(i, 30),
          message: "waiting for the Node to be Ready on kubelet v1.35.2 (reports v1.34.2)",
        };
      return { ...base, state: "Pending", message: "" };
    }),
  ];
}

// With both phases every node is named twice: by its Talos entry and by its kubelet task. Stored as
// entries, the tasks took the object past 1.5 MiB even with 11-character names; stored by name where
// they have nothing else to say, both fit 5000 nodes with 60-character names in under 1 MiB.
it("a 5000-node plan half-way through its worker kubelets, 60-character names: under 1 MiB, and every entry and task parsed back in order", async () => {
  const name = uniqueName("both");
  const spec = { talos: { version: "v1.12.4" }, kubernetes: { version: "v1.35.2" } };
  await kubectl(["apply", "-f", "-"], planManifest(name, spec));
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  const store = new PlanStore(kc);
  const plan = parsePlan(await store.get(name));
  if (!plan.ok) throw new Error(plan.message);
  const names = Array.from({ length: 5000 }, (_, i) =>
    i < 3 ? longName("cp", i) : longName("worker", i - 3),
  );
  const tasks = kubeletTasks(names);
  const status: PlanStatus = {
    ...(decide(anObservation(plan.plan, [])).status as PlanStatus),
    phase: "UpgradingKubernetes",
    nodes: names.map(doneEntry),
    kubernetes: {
      fromVersion: "v1.34.2",
      targetVersion: "v1.35.2",
      version: "v1.35.2",
      step: "kubelet",
      tasks,
    },
  };
  const unstored = JSON.stringify({ ...plan.plan, status }).length;
  await store.writeStatus(plan.plan, status);
  const object = await store.get(name);
  const bytes = JSON.stringify(object).length;
  console.log(
    `5000 nodes in the Kubernetes phase: object ${bytes} bytes (as entries, the status alone: ${unstored})`,
  );
  expect(bytes).toBeLessThan(1024 * 1024);
  expect(unstored).toBeGreaterThan(1.5 * 1024 * 1024);
  const read = parsePlan(object);
  if (!read.ok) throw new Error(read.message);
  expect(read.plan.status?.nodes.map((e) => e.name)).toEqual(names);
  const back = read.plan.status?.kubernetes?.tasks ?? [];
  const key = (t: KubernetesTask) => `${t.component}@${t.node}:${t.state}:${t.image}`;
  expect(back.map(key)).toEqual(tasks.map(key));
  // Whole: every task in flight, and the last kubelets to finish, with their times.
  expect(back.filter((t) => t.state === "Applying" && t.startedAt)).toHaveLength(499);
  expect(back.filter((t) => t.component === "kubelet" && t.role === "worker" && t.finishedAt)).toHaveLength(
    10,
  );
});
