// A plan done with the spec it has polls no machine: the operator reads Talos again only for a
// node whose kubelet reports another boot, a node it has never seen, or once the plan is edited.
// A plan under way reads, besides its nodes in flight, only those it may start next and those
// with a problem. Counted on the simulated machines' own call logs, over the wire.
import type { V1Node } from "@kubernetes/client-node";
import { type Plan, planSpecSchema } from "../../src/api/v1alpha1/plan.ts";
import { newShellMemory, observe, type ShellMemory } from "../../src/controller/observe.ts";
import type { TalosClient } from "../../src/talos/client.ts";
import type { WatchedMachine } from "../../src/talos/machine-status.ts";
import { adminKubeConfig } from "../../testkit/control-plane/shared-control-plane.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import type { SimNode } from "../../testkit/fleet/node.ts";
import { clientFor } from "../harness/talos-client.ts";

describe("observing a settled plan", () => {
  let fleet: Fleet;
  let client: TalosClient;

  beforeAll(async () => {
    fleet = await Fleet.start({ controlPlanes: 1, workers: 2, talosVersion: "v1.12.4" });
    client = clientFor(fleet.talosconfig.admin);
  });

  afterAll(async () => {
    client.close();
    await fleet.stop();
  });

  const nodeOf = (n: SimNode, bootID: string = n.bootId): V1Node => ({
    metadata: {
      name: n.hostname,
      labels: n.isControlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {},
    },
    status: {
      addresses: [{ type: "InternalIP", address: n.address }],
      nodeInfo: { bootID } as NonNullable<V1Node["status"]>["nodeInfo"],
      conditions: [{ type: "Ready", status: "True" }],
    },
  });
  const plan = (generation: number): Plan => ({
    apiVersion: "upgrade.talos-operator.dev/v1alpha1",
    kind: "TalosUpgradePlan",
    metadata: { name: "production", generation },
    spec: planSpecSchema.parse({ talos: { version: "v1.12.4" } }),
    status: {
      observedGeneration: 1,
      phase: "Completed",
      conditions: [],
      history: [],
      nodes: fleet.nodes().map((n) => ({
        name: n.hostname,
        role: n.isControlPlane ? "controlplane" : "worker",
        state: "Done",
        version: "v1.12.4",
        attempts: 0,
        message: "",
      })),
    },
  });
  // Calls that read a machine's facts; the etcd view, read for the Etcd gate, is not one.
  const calls = () =>
    Object.fromEntries(
      fleet.nodes().map((n) => [n.hostname, n.calls.filter((c) => !c.method.includes("/Etcd")).length]),
    );
  const callsDuring = async (work: () => Promise<unknown>) => {
    const before = calls();
    await work();
    const after = calls();
    return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  };

  it("reads each machine once, then not again while the boots stay; a reboot or an edit reads again", async () => {
    const memory = newShellMemory();
    const pass = (p: Plan, nodes: V1Node[]) =>
      observe({
        plan: p,
        otherPlans: [],
        nodes,
        systemPods: [],
        // No node of a completed plan drains: asking for its pods is a fault.
        podsOf: () => Promise.reject(new Error("a completed plan read a node's pods")),
        talosClient: client,
        kubeconfig: adminKubeConfig(),
        memory,
        now: new Date(),
        // Every fact is due at once: only the settled rule can spare a call.
        factsTtlMs: 0,
      });
    const nodes = fleet.nodes().map((n) => nodeOf(n));
    const first = await callsDuring(() => pass(plan(1), nodes));
    expect(Object.values(first).every((c) => c > 0)).toBe(true);
    expect(Object.values(await callsDuring(() => pass(plan(1), nodes)))).toEqual([0, 0, 0]);

    const [cp, w1, w2] = fleet.nodes() as [SimNode, SimNode, SimNode];
    const rebooted = [nodeOf(cp), nodeOf(w1, "another-boot"), nodeOf(w2)];
    const afterReboot = await callsDuring(() => pass(plan(1), rebooted));
    expect([afterReboot[cp.hostname], afterReboot[w2.hostname]]).toEqual([0, 0]);
    expect(afterReboot[w1.hostname]).toBeGreaterThan(0);

    const edited = await callsDuring(() => pass(plan(2), nodes));
    expect(Object.values(edited).every((c) => c > 0)).toBe(true);
  });

  // Under way: the control plane done, both workers pending (maxUnavailable 1 starts worker 1 next).
  const midway = (): Plan => {
    const [cp, w1, w2] = fleet.nodes() as [SimNode, SimNode, SimNode];
    return {
      ...plan(1),
      status: {
        observedGeneration: 1,
        phase: "UpgradingTalos",
        conditions: [],
        history: [],
        nodes: [
          {
            name: cp.hostname,
            role: "controlplane",
            state: "Done",
            version: "v1.12.4",
            attempts: 0,
            message: "",
          },
          {
            name: w1.hostname,
            role: "worker",
            state: "Pending",
            version: "v1.12.4",
            attempts: 0,
            message: "",
          },
          {
            name: w2.hostname,
            role: "worker",
            state: "Pending",
            version: "v1.12.4",
            attempts: 0,
            message: "",
          },
        ],
      },
    };
  };

  /** One pass over the plan under way, at `at`, with the watch streams `watched` gives. */
  const passUnderWay = (
    memory: ShellMemory,
    at: Date,
    watched?: (address: string) => WatchedMachine | undefined,
  ) =>
    observe({
      plan: midway(),
      otherPlans: [],
      nodes: fleet.nodes().map((n) => nodeOf(n)),
      systemPods: [],
      podsOf: () => Promise.reject(new Error("no node of this plan drains")),
      talosClient: client,
      kubeconfig: adminKubeConfig(),
      memory,
      now: at,
      factsTtlMs: 60_000,
      ...(watched ? { watched } : {}),
    });

  it("under way, reads the node it starts next and one with a problem, not healthy ones at rest", async () => {
    const [cp, w1, w2] = fleet.nodes() as [SimNode, SimNode, SimNode];
    const memory = newShellMemory();
    const start = Date.now();
    const pass = (afterMs: number) => passUnderWay(memory, new Date(start + afterMs));
    const byName = (counts: Record<string, number>) => [cp, w1, w2].map((n) => counts[n.hostname]);
    const first = byName(await callsDuring(() => pass(0)));
    expect(first.every((c) => (c ?? 0) > 0)).toBe(true);
    // Past every node's TTL (at most 60 s), within the resting one (at least ten times half of it):
    // maxUnavailable 1 makes worker 1 the next to start; the control plane and worker 2 rest.
    const [cpCalls, w1Calls, w2Calls] = byName(await callsDuring(() => pass(61_000)));
    expect(cpCalls).toBe(0);
    expect(w1Calls).toBeGreaterThan(0);
    expect(w2Calls).toBe(0);

    // A machine whose last read showed a diagnostic is read every TTL until it shows none. Past
    // every resting TTL (at most 600 s) all are read, worker 2 with its diagnostic; 61 s later
    // worker 2 is read again although it rests, the healthy control plane is not.
    fleet.inject(w2.hostname, { diagnostics: [{ id: "address-overlap", message: "overlap" }] });
    try {
      // A machine at rest, its kubelet Ready on the boot its facts were read on, has only its
      // diagnostics read: that boot and its status stand.
      const cpBefore = cp.calls.length;
      expect(byName(await callsDuring(() => pass(600_001))).every((c) => (c ?? 0) > 0)).toBe(true);
      const cpRead = cp.calls.slice(cpBefore).filter((c) => !c.method.includes("/Etcd"));
      expect(cpRead.map((c) => c.method.split("/").pop())).toEqual(["List"]);
      expect(memory.facts.get(w2.hostname)?.facts.diagnostics).toEqual(["address-overlap: overlap"]);
      const [cpLater, , w2Later] = byName(await callsDuring(() => pass(661_001)));
      expect(cpLater).toBe(0);
      expect(w2Later).toBeGreaterThan(0);
    } finally {
      fleet.inject(w2.hostname, { diagnostics: [] });
    }
  });

  it("the node the next starts take just now is read once its watch is open: status from the stream, boot proven", async () => {
    const w1 = fleet.nodes()[1] as SimNode;
    const memory = newShellMemory();
    const start = Date.now();
    let stream: WatchedMachine | undefined;
    const pass = (afterMs: number) =>
      passUnderWay(memory, new Date(start + afterMs), (address) =>
        address === w1.address ? stream : undefined,
      );
    const methodsDuring = async (work: () => Promise<unknown>) => {
      const before = w1.calls.length;
      await work();
      return w1.calls.slice(before).map((c) => c.method.split("/").pop());
    };
    await pass(0);
    expect(memory.startsNext).toEqual(new Set([w1.hostname]));
    // Worker 1 was not next to start in the pass before (another node was, say): its facts, past
    // their TTL, are kept while this pass asks for its watch.
    memory.startsNext = new Set();
    expect(await methodsDuring(() => pass(61_000))).toEqual([]);
    expect(memory.startsNext).toEqual(new Set([w1.hostname]));
    // The stream delivered: the read takes the status from it (no Get), reads the boot and the
    // diagnostics, and records the stream that proves the boot from then on.
    stream = { stream: 7, stage: "RUNNING", ready: true };
    expect((await methodsDuring(() => pass(62_000))).sort()).toEqual(["List", "Read"]);
    expect(memory.facts.get(w1.hostname)?.stream).toBe(7);
    // A node that was next in the pass before and has no stream (it failed to open) is read as
    // before, its status too.
    stream = undefined;
    expect((await methodsDuring(() => pass(200_000))).sort()).toEqual(["Get", "List", "Read"]);
  });

  it("reads no image facts of nodes done under a plan that names no schematic; an edit naming one reads them at once", async () => {
    const memory = newShellMemory();
    const nodes = fleet.nodes().map((n) => nodeOf(n));
    const pass = (p: Plan) =>
      observe({
        plan: p,
        otherPlans: [],
        nodes,
        systemPods: [],
        podsOf: () => Promise.reject(new Error("no node of this plan drains")),
        talosClient: client,
        kubeconfig: adminKubeConfig(),
        memory,
        now: new Date(),
        factsTtlMs: 60_000,
      });
    const first = await pass(plan(1));
    expect(first.nodes.map((n) => [n.talos.reachable, n.talos.image])).toEqual(
      nodes.map(() => [true, undefined]),
    );
    // Within every TTL, the plan edited to give every node a schematic: each node's image is read.
    const schematic = { id: "d".repeat(64) };
    const edited = { ...plan(2), spec: planSpecSchema.parse({ talos: { version: "v1.12.4", schematic } }) };
    const second = await pass(edited);
    expect(second.nodes.map((n) => n.talos.image?.extensions)).toEqual(nodes.map(() => []));
  });
});
