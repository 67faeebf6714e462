// A large fleet's status on the real apiserver: 1000 nodes with 60-character names, in states whose
// messages name nodes, written by the operator's own store and accepted by the CRD's limits.
import { KubeConfig } from "@kubernetes/client-node";
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

/** A cloud-style node name of exactly 60 characters. */
const longName = (role: string, i: number) =>
  `${role}-${String(i).padStart(4, "0")}-`.padEnd(60, "abcdefghij-compute-internal-").slice(0, 60);

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
function doneEntry(name: string, i: number): PlanStatus["nodes"][number] {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 28, 2, minute, i % 60)).toISOString();
  return {
    name,
    role: i < 3 ? "controlplane" : "worker",
    state: "Done",
    fromVersion: "v1.11.6",
    version: "v1.12.4",
    startedAt: at(1),
    finishedAt: at(5),
    override: "gpu-workers",
    attempts: 1,
    message: "",
  };
}

// A Done entry with a 60-character name is about 270 bytes of JSON (the managed fields add about
// 1 KiB in all): 5000 nodes are about 1.3 MiB, under etcd's 1.5 MiB. While Done entries kept the
// installer twice, the boot ID, the call's time and the schematic, one was about 700 bytes and a
// plan stopped fitting past about 2,200 nodes.
it("a completed 5000-node plan with 60-character names: the stored object, managed fields included, stays under 1.5 MiB", async () => {
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
  expect(stored.length).toBeLessThan(1.5 * 1024 * 1024);
});
