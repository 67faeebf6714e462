// Table tests of the decision core: observation in, status and actions out. No I/O, no mocks.
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { type Decision, decide } from "../../../src/core/decide.ts";
import type { NodeView } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import {
  anObservation,
  condition,
  entryOf,
  healthyEtcd,
  kinds,
  minutes,
  next,
  states,
  t0,
} from "../builders/observations.ts";
import { aPlan, aWindow, vanillaImage } from "../builders/plans.ts";

const fleet = () => [aNode("worker-b"), aNode("cp-2"), aNode("worker-a"), aNode("cp-1"), aNode("cp-3")];

describe("ordering and selection", () => {
  it("lists every selected node, control planes first, before touching any, and starts the first control plane", () => {
    const d = decide(anObservation(aPlan(), fleet()));
    expect(d.status.nodes.map((n) => n.name)).toEqual(["cp-1", "cp-2", "cp-3", "worker-a", "worker-b"]);
    expect(d.status.nodes.every((n) => n.fromVersion === "v1.11.6" && n.version === "v1.12.4")).toBe(true);
    expect(states(d)["cp-1"]).toBe("Draining");
    expect(kinds(d)).toEqual(["cordon:cp-1"]);
    expect(d.status.phase).toBe("UpgradingTalos");
  });

  it("marks nodes already at the target Done without touching them", () => {
    const d = decide(anObservation(aPlan(), [aNode("cp-1", { version: "v1.12.4" }), aNode("worker-a")]));
    expect(states(d)).toEqual({ "cp-1": "Done", "worker-a": "Draining" });
    expect(d.status.nodes[0]?.message).toBe("already at v1.12.4");
  });

  it("does not call a plan done while no node's Talos version can be read", () => {
    const unreachable = { talos: { reachable: false, version: undefined, error: "connection refused" } };
    const d = decide(anObservation(aPlan(), [aNode("cp-1", unreachable), aNode("worker-a", unreachable)]));
    expect(states(d)).toEqual({ "cp-1": "Pending", "worker-a": "Pending" });
    expect(d.status.phase).toBe("Pending");
    expect(condition(d, "Ready")).toMatchObject({ status: "False" });
    expect(condition(d, "Ready")?.message).toContain("waiting for the Talos API of cp-1");
    expect(d.status.history).toEqual([]);
  });

  it("honours the node selector and the exclude label", () => {
    const nodes = [
      aNode("cp-1", { version: "v1.12.4" }),
      aNode("worker-a", { labels: { pool: "blue" } }),
      aNode("worker-b", { labels: { pool: "green" } }),
      aNode("worker-c", { labels: { pool: "blue", "upgrade.talos-operator.dev/exclude": "true" } }),
    ];
    const d = decide(anObservation(aPlan({ nodeSelector: { matchLabels: { pool: "blue" } } }), nodes));
    expect(d.status.nodes.map((n) => n.name)).toEqual(["worker-a"]);
  });
});

describe("the installer image pre-flight", () => {
  it("pulls the installer on the next node before cordoning it", () => {
    const d = decide(anObservation(aPlan(), [aNode("cp-1", { pulls: {} })]));
    expect(d.actions).toEqual([
      {
        kind: "prepull",
        node: "cp-1",
        address: "10.0.0.4",
        image: vanillaImage("v1.12.4"),
        api: "legacy",
        namespace: "NS_SYSTEM",
      },
    ]);
    expect(d.status.nodes[0]?.state).toBe("Pending");
  });

  it("pulls the next node's installer ahead while the rules hold it back", () => {
    const d = decide(
      anObservation(aPlan(), [
        aNode("cp-1"),
        aNode("cp-2", { pulls: {} }),
        aNode("cp-3", { pulls: {} }),
        aNode("worker-a", { pulls: {} }),
      ]),
    );
    // cp-1 starts; cp-2 waits its turn with its installer already pulled; the others wait.
    expect(d.actions).toEqual([
      { kind: "cordon", node: "cp-1" },
      {
        kind: "prepull",
        node: "cp-2",
        address: "10.0.0.4",
        image: vanillaImage("v1.12.4"),
        api: "legacy",
        namespace: "NS_SYSTEM",
      },
    ]);
    expect(d.status.nodes.find((n) => n.name === "cp-2")?.state).toBe("Pending");
  });

  it("pulls the first wave of workers ahead once the last control plane is under way", () => {
    const plan = aPlan({ rollout: { maxUnavailable: 2 } });
    const done = { version: "v1.12.4" };
    const workers = ["worker-a", "worker-b", "worker-c"].map((w) => aNode(w, { pulls: {} }));
    // The last control plane starts: the budget's worth of workers pull, so that all of them can
    // start in the pass that settles it.
    const last = decide(
      anObservation(plan, [aNode("cp-1", done), aNode("cp-2", done), aNode("cp-3"), ...workers]),
    );
    expect(kinds(last)).toEqual(["cordon:cp-3", "prepull:worker-a", "prepull:worker-b"]);
    // With another control plane still to go, only that one pulls ahead.
    const notLast = decide(
      anObservation(plan, [
        aNode("cp-1"),
        aNode("cp-2", { pulls: {} }),
        aNode("cp-3", { pulls: {} }),
        ...workers,
      ]),
    );
    expect(kinds(notLast)).toEqual(["cordon:cp-1", "prepull:cp-2"]);
  });

  it("pulls at most the worker budget at once, and never asks again for a pull under way", () => {
    const done = { version: "v1.12.4" };
    const workers = ["worker-a", "worker-b", "worker-c", "worker-d", "worker-e"];
    const plan = aPlan({ rollout: { maxUnavailable: 2 } });
    const first = decide(
      anObservation(plan, [aNode("cp-1", done), ...workers.map((w) => aNode(w, { pulls: {} }))]),
    );
    expect(kinds(first)).toEqual(["prepull:worker-a", "prepull:worker-b"]);
    expect(first.status.nodes.find((n) => n.name === "worker-c")?.message).toContain("waiting to pull");

    // Two pulls under way (started by the pass before, not answered yet): no new one, no repeat.
    const pulling = [vanillaImage("v1.12.4")];
    const busy = decide(
      anObservation(plan, [
        aNode("cp-1", done),
        ...workers.map((w, i) => aNode(w, { pulls: {}, ...(i < 2 ? { pulling } : {}) })),
      ]),
    );
    expect(kinds(busy)).toEqual([]);
    expect(busy.status.nodes.find((n) => n.name === "worker-a")?.message).toContain("pulling");

    // One answered: that worker starts, and one more pull takes the freed slot.
    const oneDone = decide(
      anObservation(plan, [
        aNode("cp-1", done),
        aNode("worker-a"),
        aNode("worker-b", { pulls: {}, pulling }),
        ...workers.slice(2).map((w) => aNode(w, { pulls: {} })),
      ]),
    );
    expect(kinds(oneDone)).toEqual(["cordon:worker-a", "prepull:worker-c"]);
  });

  it("fails the plan before anything is cordoned when the image cannot be pulled", () => {
    const missing = { [vanillaImage("v1.12.4")]: { error: "not found" } };
    const d = decide(anObservation(aPlan(), [aNode("cp-1", { pulls: missing }), aNode("worker-a")]));
    expect(d.actions).toEqual([]);
    expect(d.status.nodes[0]).toMatchObject({ state: "Failed", reason: "ImagePullFailed" });
    expect(d.status.phase).toBe("Failed");
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "ImagePullFailed" });
  });
});

describe("control planes", () => {
  it("works on one control plane at a time", () => {
    const obs = anObservation(aPlan(), fleet());
    const first = decide(obs);
    const second = decide(
      next(first, obs, {
        nodes: obs.nodes.map((n) => (n.name === "cp-1" ? { ...n, unschedulable: true } : n)),
      }),
    );
    expect(states(second)["cp-1"]).toBe("Upgrading");
    expect(states(second)["cp-2"]).toBe("Pending");
    expect(kinds(second)).toEqual(["upgrade:cp-1"]);
  });

  it.each([
    ["etcd reports a problem", { healthy: false, members: 3, healthyMembers: 3, message: "alarm NOSPACE" }],
    [
      "quorum would not survive losing the node",
      { healthy: true, members: 3, healthyMembers: 2, message: "1 member down" },
    ],
  ])("holds when %s", (_case, etcd) => {
    const d = decide(anObservation(aPlan(), fleet(), { etcd }));
    expect(d.actions).toEqual([]);
    expect(condition(d, "Reconciling")).toMatchObject({ status: "True", reason: "WaitingForEtcd" });
  });

  it("takes a control plane down only on an etcd view read in this pass; an earlier one asks for a pass at once", () => {
    const earlier = decide(anObservation(aPlan(), fleet(), { etcd: { ...healthyEtcd(3), earlier: true } }));
    expect(earlier.actions).toEqual([]);
    expect(states(earlier)["cp-1"]).toBe("Pending");
    expect(condition(earlier, "Reconciling")).toMatchObject({ status: "True", reason: "WaitingForEtcd" });
    expect(earlier.requeueAfterMs).toBe(0);
    // The same view, read afresh: the first control plane starts.
    expect(kinds(decide(anObservation(aPlan(), fleet(), { etcd: healthyEtcd(3) })))).toEqual(["cordon:cp-1"]);
  });

  it("lets workers start on an etcd view read in an earlier pass", () => {
    const done = (name: string) => aNode(name, { version: "v1.12.4" });
    const d = decide(
      anObservation(aPlan(), [done("cp-1"), done("cp-2"), done("cp-3"), aNode("worker-a")], {
        etcd: { ...healthyEtcd(3), earlier: true },
      }),
    );
    expect(kinds(d)).toEqual(["cordon:worker-a"]);
  });

  it("upgrades a single-node cluster: there is no quorum to keep", () => {
    const d = decide(anObservation(aPlan(), [aNode("cp-1")], { etcd: healthyEtcd(1) }));
    expect(kinds(d)).toEqual(["cordon:cp-1"]);
  });
});

describe("workers", () => {
  const done = (name: string) => aNode(name, { version: "v1.12.4" });
  const workers = (n: number) => Array.from({ length: n }, (_, i) => aNode(`worker-${i}`));

  it("starts workers only after every control plane is done", () => {
    const d = decide(
      anObservation(aPlan({ rollout: { maxUnavailable: 3 } }), [aNode("cp-1"), ...workers(3)]),
    );
    expect(kinds(d)).toEqual(["cordon:cp-1"]);
  });

  it.each([
    [1, 4, 1],
    [2, 4, 2],
    ["50%", 4, 2],
    ["10%", 4, 1],
    ["100%", 3, 3],
  ])("maxUnavailable %s with %i workers starts %i at once", (maxUnavailable, count, started) => {
    const d = decide(
      anObservation(aPlan({ rollout: { maxUnavailable } }), [done("cp-1"), ...workers(count)]),
    );
    expect(d.actions.filter((a) => a.kind === "cordon")).toHaveLength(started);
  });

  it("counts a worker that is down for another reason against maxUnavailable", () => {
    const nodes = [done("cp-1"), aNode("worker-0", { ready: false }), aNode("worker-1"), aNode("worker-2")];
    const d = decide(anObservation(aPlan({ rollout: { maxUnavailable: 2 } }), nodes));
    expect(kinds(d)).toEqual(["cordon:worker-1"]);
  });
});

describe("one node's way through an upgrade", () => {
  const plan = aPlan({ drain: { timeout: "10m" }, rollout: { nodeTimeout: "30m", soakTime: "5m" } });
  const draining: PlanStatus = {
    conditions: [],
    history: [],
    nodes: [
      {
        name: "cp-1",
        role: "controlplane",
        state: "Draining",
        fromVersion: "v1.11.6",
        version: "v1.12.4",
        startedAt: t0.toISOString(),
        attempts: 0,
        message: "",
      },
    ],
  };
  const withStatus = (status: PlanStatus, node: NodeView, now = t0) =>
    anObservation(aPlan(plan.spec, status), [node], { now });
  const entry = (d: Decision) => entryOf(d, "cp-1");

  it("evicts while pods remain, and fails with the blocking reason when the drain times out", () => {
    const node = aNode("cp-1", {
      unschedulable: true,
      evictablePods: 2,
      drainBlockedBy: "PodDisruptionBudget web allows no disruption",
    });
    expect(kinds(decide(withStatus(draining, node)))).toEqual(["drain:cp-1"]);
    // A round still under way (run off the pass) is not asked for again; the node keeps draining,
    // and is looked at a second later, when the round may have ended having evicted nothing.
    expect(decide(withStatus(draining, node)).requeueAfterMs).toBe(10_000);
    const underWay = decide(withStatus(draining, { ...node, draining: true }));
    expect(kinds(underWay)).toEqual([]);
    expect(underWay.requeueAfterMs).toBe(1_000);
    expect(entry(underWay)).toMatchObject({
      state: "Draining",
      message: expect.stringContaining("2 pod(s) left"),
    });
    const late = decide(withStatus(draining, node, minutes(11)));
    expect(entry(late)?.state).toBe("Failed");
    expect(entry(late)?.message).toContain("PodDisruptionBudget web allows no disruption");
    expect(late.status.phase).toBe("Failed");
    expect(condition(late, "Stalled")).toMatchObject({ status: "True", reason: "DrainTimeout" });
  });

  it("records the intent with the boot ID before the upgrade call, and picks the API by version", () => {
    const legacy = decide(withStatus(draining, aNode("cp-1", { unschedulable: true })));
    expect(entry(legacy)).toMatchObject({ state: "Upgrading", bootIdBefore: "cp-1-boot-0", attempts: 1 });
    expect(entry(legacy)?.upgradeCalledAt).toBeUndefined();
    expect(legacy.actions).toEqual([
      {
        kind: "upgrade",
        node: "cp-1",
        address: "10.0.0.4",
        image:
          "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.4",
        version: "v1.12.4",
        api: "legacy",
        stage: false,
        rebootMode: "Default",
        bootIdBefore: "cp-1-boot-0",
      },
    ]);
    const modern = decide(
      anObservation(
        aPlan(
          { talos: { version: "v1.14.0" } },
          { ...draining, nodes: [{ ...draining.nodes[0], version: "v1.14.0" } as PlanStatus["nodes"][0]] },
        ),
        [
          aNode("cp-1", {
            unschedulable: true,
            version: "v1.13.1",
            talos: {
              reachable: true,
              version: "v1.13.1",
              bootId: "b",
              stage: "RUNNING",
              ready: true,
              platform: "aws",
              image: { schematic: "a".repeat(64), extensions: [] },
            },
          }),
        ],
      ),
    );
    expect(modern.actions[0]).toMatchObject({
      api: "lifecycle",
      image: `factory.talos.dev/aws-installer/${"a".repeat(64)}:v1.14.0`,
    });
  });

  const upgrading = (extra: Partial<PlanStatus["nodes"][0]> = {}): PlanStatus => ({
    ...draining,
    nodes: [
      {
        ...(draining.nodes[0] as PlanStatus["nodes"][0]),
        state: "Upgrading",
        bootIdBefore: "cp-1-boot-0",
        attempts: 1,
        ...extra,
      },
    ],
  });

  it("makes the call again when the intent is recorded but the call was never confirmed", () => {
    const node = aNode("cp-1", { unschedulable: true });
    expect(kinds(decide(withStatus(upgrading(), node)))).toEqual(["upgrade:cp-1"]);
    expect(kinds(decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), node)))).toEqual([]);
  });

  it("makes a call not confirmed on a machine a failed sequence left REBOOTING on its boot (legacy API); not on one whose boot changed", () => {
    const cordoned = aNode("cp-1", { unschedulable: true });
    const stale = { ...cordoned, talos: { ...cordoned.talos, stage: "REBOOTING" as const } };
    expect(kinds(decide(withStatus(upgrading(), stale)))).toEqual(["upgrade:cp-1"]);
    // Confirmed: the machine took the call, and REBOOTING is its sequence.
    const confirmed = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), stale));
    expect(kinds(confirmed)).toEqual([]);
    expect(confirmed.status.nodes[0]?.state).toBe("Rebooting");
  });

  it("takes a new boot for the call's confirmation a crash lost: its timeout runs from there, its installer is written", () => {
    // The intent was written, Talos took the call, and the operator died before writing that it
    // had: the restarted one sees the machine booting its next boot 25 minutes into the node's
    // 30 (most of them the drain's).
    const image =
      "factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.4";
    const lost = upgrading({ image });
    const talos = {
      reachable: true,
      version: "v1.12.4",
      bootId: "cp-1-boot-1",
      stage: "BOOTING" as const,
      ready: false,
    };
    const booting = decide(withStatus(lost, aNode("cp-1", { unschedulable: true, talos }), minutes(25)));
    expect(entry(booting)).toMatchObject({ state: "Rebooting", upgradeCalledAt: minutes(25).toISOString() });
    expect(kinds(booting)).toEqual([]);
    // Running the target 15 minutes later, its Node not Ready yet: within the timeout from the boot
    // that confirmed the call, past it from the node's start.
    const running = { ...talos, stage: "RUNNING" as const, ready: true };
    const notReady = aNode("cp-1", { unschedulable: true, ready: false, version: "v1.12.4", talos: running });
    const waiting = decide(withStatus(booting.status, notReady, minutes(40)));
    expect(entry(waiting)).toMatchObject({
      state: "Verifying",
      message: "waiting for the Kubernetes Node to be Ready",
    });
    const back = aNode("cp-1", { version: "v1.12.4", talos: running });
    const soaking = decide(withStatus(waiting.status, back, minutes(41)));
    const done = decide(withStatus(soaking.status, back, minutes(47)));
    expect(entry(done)?.state).toBe("Done");
    expect(done.actions).toContainEqual({
      kind: "patchInstallImage",
      node: "cp-1",
      address: "10.0.0.4",
      image,
    });
  });

  it("does not take a Ready left from before the reboot: the kubelet must report from the new boot", () => {
    const called = upgrading({ upgradeCalledAt: t0.toISOString() });
    const talos = {
      reachable: true,
      version: "v1.12.4",
      bootId: "cp-1-boot-1",
      stage: "RUNNING" as const,
      ready: true,
    };
    const stale = aNode("cp-1", {
      unschedulable: true,
      version: "v1.12.4",
      kubeletBootId: "cp-1-boot-0",
      talos,
    });
    const waiting = decide(withStatus(called, stale, minutes(2)));
    expect(entry(waiting)).toMatchObject({
      state: "Verifying",
      message: "waiting for the kubelet to report since the reboot",
    });
    expect(kinds(waiting)).toEqual([]);
    const late = decide(withStatus(waiting.status, stale, minutes(31)));
    expect(entry(late)).toMatchObject({ state: "Failed", reason: "NodeTimeout" });
    expect(entry(late)?.message).toContain("did not report from the new boot");
    const fresh = { ...stale, kubeletBootId: "cp-1-boot-1" };
    expect(entry(decide(withStatus(waiting.status, fresh, minutes(3))))?.state).toBe("Soaking");
  });

  it("waits through the reboot, verifies, uncordons, soaks, and finishes", () => {
    const called = upgrading({ upgradeCalledAt: t0.toISOString() });
    const away = decide(
      withStatus(
        called,
        aNode("cp-1", { unschedulable: true, talos: { reachable: false, error: "connection refused" } }),
        minutes(1),
      ),
    );
    expect(entry(away)?.state).toBe("Rebooting");
    const back = aNode("cp-1", {
      unschedulable: true,
      version: "v1.12.4",
      talos: { reachable: true, version: "v1.12.4", bootId: "cp-1-boot-1", stage: "RUNNING", ready: true },
    });
    const verified = decide(withStatus(away.status, back, minutes(2)));
    expect(entry(verified)).toMatchObject({ state: "Soaking", finishedAt: minutes(2).toISOString() });
    expect(kinds(verified)).toEqual(["uncordon:cp-1"]);
    const uncordoned = { ...back, unschedulable: false };
    expect(entry(decide(withStatus(verified.status, uncordoned, minutes(4))))?.state).toBe("Soaking");
    const finished = decide(withStatus(verified.status, uncordoned, minutes(7)));
    expect(entry(finished)?.state).toBe("Done");
    expect(finished.status.phase).toBe("Completed");
    expect(condition(finished, "Ready")).toMatchObject({
      status: "True",
      reason: "Succeeded",
      observedGeneration: 1,
    });
    expect(condition(finished, "TalosUpToDate")?.status).toBe("True");
    expect(finished.status.history).toHaveLength(1);
    expect(finished.events.map((e) => e.reason)).toEqual(["NodeUpgraded", "Succeeded"]);
  });

  /** A plan with no soak whose cp-1 took its upgrade call, and cp-1 back on the new version, still cordoned. */
  const calledWithoutSoak = () => ({
    noSoak: aPlan(
      { ...plan.spec, rollout: { ...plan.spec.rollout, soakTime: "0s" } },
      upgrading({ upgradeCalledAt: t0.toISOString() }),
    ),
    back: aNode("cp-1", {
      unschedulable: true,
      version: "v1.12.4",
      talos: { reachable: true, version: "v1.12.4", bootId: "cp-1-boot-1", stage: "RUNNING", ready: true },
    }),
  });

  it("without a soak, is Ready only once the last node's uncordon is seen", () => {
    const { noSoak, back } = calledWithoutSoak();
    const verified = decide(anObservation(noSoak, [back], { now: minutes(2) }));
    expect(entry(verified)?.state).toBe("Done");
    expect(kinds(verified)).toContain("uncordon:cp-1");
    expect(verified.status.phase).toBe("UpgradingTalos");
    expect(condition(verified, "Ready")).toMatchObject({
      status: "False",
      message: "1/1 nodes upgraded; uncordoning cp-1",
    });
    expect(verified.events.map((e) => e.reason)).toEqual(["NodeUpgraded"]);
    const seen = decide(
      anObservation(aPlan(noSoak.spec, verified.status), [{ ...back, unschedulable: false }], {
        now: minutes(3),
      }),
    );
    expect(kinds(seen)).not.toContain("uncordon:cp-1");
    expect(seen.status.phase).toBe("Completed");
    expect(condition(seen, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(seen.events.map((e) => e.reason)).toEqual(["Succeeded"]);
  });

  it("mid-rollout, does not name a node's uncordon in Ready: the next pass would write again only to drop it", () => {
    const { noSoak, back } = calledWithoutSoak();
    const verified = decide(anObservation(noSoak, [back, aNode("worker-1")], { now: minutes(2) }));
    expect(kinds(verified)).toContain("uncordon:cp-1");
    const message = condition(verified, "Ready")?.message;
    expect(message).toMatch(/^1\/2 nodes upgraded/);
    expect(message).not.toContain("uncordoning");
    const seen = decide(
      anObservation(
        aPlan(noSoak.spec, verified.status),
        [{ ...back, unschedulable: false }, aNode("worker-1")],
        {
          now: minutes(3),
        },
      ),
    );
    expect(condition(seen, "Ready")?.message).toBe(message);
  });

  it("moves a started node forward while another plan goes first, and starts no other node", () => {
    const called = upgrading({ upgradeCalledAt: t0.toISOString() });
    const back = aNode("cp-1", {
      unschedulable: true,
      version: "v1.12.4",
      talos: { reachable: true, version: "v1.12.4", bootId: "cp-1-boot-1", stage: "RUNNING", ready: true },
    });
    const obs = anObservation(aPlan(plan.spec, called), [back, aNode("cp-2")], {
      now: minutes(2),
      blockingPlan: "staging",
    });
    const d = decide(obs);
    expect(kinds(d)).toEqual(["uncordon:cp-1"]);
    expect(d.status.nodes.map((e) => [e.name, e.state])).toEqual([
      ["cp-1", "Soaking"],
      ["cp-2", "Pending"],
    ]);
    expect(condition(d, "Reconciling")?.reason).toBe("WaitingForPlan");
    expect(d.requeueAfterMs).toBeLessThanOrEqual(10_000);
  });

  it("leaves a node cordoned by a person cordoned after its upgrade", () => {
    const back = aNode("cp-1", {
      unschedulable: true,
      version: "v1.12.4",
      talos: { reachable: true, version: "v1.12.4", bootId: "cp-1-boot-1", stage: "RUNNING", ready: true },
    });
    delete back.cordonedBy;
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), back, minutes(2)));
    expect(kinds(d)).toEqual([]);
    expect(entry(d)?.state).toBe("Soaking");
    const soaked = decide(withStatus(d.status, back, minutes(8)));
    expect(kinds(soaked)).toEqual([]);
    expect(entry(soaked)?.state).toBe("Done");
  });

  it("fails a node that Talos rolled back to its old version, and the plan with it", () => {
    const rolledBack = aNode("cp-1", {
      unschedulable: true,
      talos: { reachable: true, version: "v1.11.6", bootId: "cp-1-boot-2", stage: "RUNNING", ready: true },
    });
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), rolledBack, minutes(3)));
    expect(entry(d)?.state).toBe("Failed");
    expect(entry(d)?.message).toBe("rolled back by Talos: the node booted v1.11.6 instead of v1.12.4");
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "RolledBack" });
    expect(condition(d, "Stalled")?.message).toMatch(/; left cordoned: cp-1$/);
    expect(d.actions).toEqual([]);
  });

  it("names no cordon left behind once the failed node is uncordoned", () => {
    const rolledBack = aNode("cp-1", {
      talos: { reachable: true, version: "v1.11.6", bootId: "cp-1-boot-2", stage: "RUNNING", ready: true },
    });
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), rolledBack, minutes(3)));
    expect(condition(d, "Stalled")?.message).not.toContain("left cordoned");
  });

  it("says a node that came back on the target but never ready timed out not ready", () => {
    const notReady = aNode("cp-1", {
      unschedulable: true,
      talos: { reachable: true, version: "v1.12.4", bootId: "cp-1-boot-2", stage: "RUNNING", ready: false },
    });
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), notReady, minutes(31)));
    expect(entry(d)?.message).toBe(
      "not back on v1.12.4 within 30m (last seen RUNNING on v1.12.4, not ready)",
    );
  });

  it("says of a node timed out in Talos' own upgrade sequence that the sequence may still reboot it", () => {
    const stuck = aNode("cp-1", {
      unschedulable: true,
      talos: { reachable: true, version: "v1.11.6", bootId: "cp-1-boot-0", stage: "UPGRADING", ready: false },
    });
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), stuck, minutes(31)));
    expect(entry(d)?.message).toBe(
      "not back on v1.12.4 within 30m (last seen UPGRADING on v1.11.6, not ready; its upgrade sequence still runs and may yet reboot it into v1.12.4)",
    );
  });

  it("fails a node that does not come back within nodeTimeout", () => {
    const gone = aNode("cp-1", {
      unschedulable: true,
      talos: { reachable: false, error: "no route to host" },
    });
    const d = decide(withStatus(upgrading({ upgradeCalledAt: t0.toISOString() }), gone, minutes(31)));
    expect(entry(d)?.message).toBe("not back on v1.12.4 within 30m (unreachable: no route to host)");
    expect(condition(d, "Stalled")?.reason).toBe("NodeTimeout");
  });

  describe("Talos' verdict on the call's sequence, from the machine's events", () => {
    const called = (extra: Partial<PlanStatus["nodes"][0]> = {}) =>
      upgrading({ upgradeCalledAt: t0.toISOString(), ...extra });
    const locked = { outcome: "locked" } as const;
    const machine = (talos: Partial<NodeView["talos"]>, verdict?: NodeView["sequenceVerdict"]) =>
      aNode("cp-1", {
        unschedulable: true,
        talos: {
          reachable: true,
          version: "v1.11.6",
          bootId: "cp-1-boot-0",
          stage: "RUNNING",
          ready: true,
          ...talos,
        },
        ...(verdict ? { sequenceVerdict: verdict } : {}),
      });

    it("fails the node at once when the sequence failed, long before nodeTimeout", () => {
      const failed = machine(
        { stage: "REBOOTING", ready: false },
        {
          outcome: "failed",
          message: "sequence failed: error running phase 1 in upgrade sequence: Unauthorized",
        },
      );
      const d = decide(withStatus(called(), failed, minutes(1)));
      expect(entry(d)).toMatchObject({
        state: "Failed",
        reason: "UpgradeFailed",
        message:
          "Talos failed the upgrade: sequence failed: error running phase 1 in upgrade sequence: Unauthorized",
      });
      expect(condition(d, "Stalled")?.message).toMatch(/; left cordoned: cp-1$/);
      expect(d.actions).toEqual([]);
      // Without the verdict the same machine is only waited for.
      expect(
        entry(decide(withStatus(called(), machine({ stage: "REBOOTING", ready: false }), minutes(1))))?.state,
      ).toBe("Rebooting");
    });

    it("calls again, a new attempt from the new boot, when another sequence held the lock and rebooted the machine", () => {
      const back = machine({ bootId: "cp-1-boot-1" }, locked);
      const d = decide(withStatus(called(), back, minutes(3)));
      expect(kinds(d)).toEqual(["upgrade:cp-1"]);
      expect(d.actions[0]).toMatchObject({ bootIdBefore: "cp-1-boot-1" });
      expect(entry(d)).toMatchObject({ state: "Upgrading", bootIdBefore: "cp-1-boot-1", attempts: 2 });
      expect(entry(d)?.upgradeCalledAt).toBeUndefined();
      expect(d.events.map((e) => e.reason)).toContain("UpgradeNotStarted");
      // Without the verdict that boot on the old version is a rollback.
      expect(
        entry(decide(withStatus(called(), machine({ bootId: "cp-1-boot-1" }), minutes(3))))?.reason,
      ).toBe("RolledBack");
    });

    it("calls again from the same boot when the sequence that held the lock ended without a reboot", () => {
      const d = decide(withStatus(called(), machine({}, locked), minutes(1)));
      expect(kinds(d)).toEqual(["upgrade:cp-1"]);
      expect(entry(d)).toMatchObject({ state: "Upgrading", bootIdBefore: "cp-1-boot-0", attempts: 2 });
    });

    it("waits while the sequence that held the lock runs", () => {
      const d = decide(
        withStatus(called(), machine({ stage: "REBOOTING", ready: false }, locked), minutes(1)),
      );
      expect(d.actions).toEqual([]);
      expect(entry(d)).toMatchObject({ state: "Upgrading", attempts: 1, callNotStartedOn: "cp-1-boot-0" });
      expect(entry(d)?.message).toContain("Talos did not start the upgrade");
      // A restarted operator has lost the events; the status keeps what they said.
      const back = machine({ bootId: "cp-1-boot-1" });
      const restarted = decide(withStatus(d.status, back, minutes(3)));
      expect(kinds(restarted)).toEqual(["upgrade:cp-1"]);
      expect(entry(restarted)).toMatchObject({
        state: "Upgrading",
        bootIdBefore: "cp-1-boot-1",
        attempts: 2,
      });
      expect(entry(restarted)?.callNotStartedOn).toBeUndefined();
    });

    it("takes the target booted by the sequence that held the lock (someone's upgrade to it)", () => {
      const d = decide(
        withStatus(called(), machine({ bootId: "cp-1-boot-1", version: "v1.12.4" }, locked), minutes(3)),
      );
      expect(d.actions.map((a) => a.kind)).not.toContain("upgrade");
      expect(["Verifying", "Soaking", "Done"]).toContain(entry(d)?.state);
    });

    it("fails the node after three calls Talos did not start", () => {
      const d = decide(withStatus(called({ attempts: 3 }), machine({}, locked), minutes(1)));
      expect(d.actions).toEqual([]);
      expect(entry(d)).toMatchObject({ state: "Failed", reason: "UpgradeNotStarted" });
    });

    it("leaves a call not yet confirmed to the intent: the same attempt is made", () => {
      const d = decide(withStatus(upgrading(), machine({}, locked), minutes(1)));
      expect(kinds(d)).toEqual(["upgrade:cp-1"]);
      expect(entry(d)?.attempts).toBe(1);
    });

    it("gives a nodeTimeout spent waiting for the lock its usual failure", () => {
      const d = decide(
        withStatus(called(), machine({ stage: "REBOOTING", ready: false }, locked), minutes(31)),
      );
      expect(entry(d)).toMatchObject({ state: "Failed", reason: "NodeTimeout" });
    });
  });
});

describe("holding and stopping", () => {
  it("starts nothing new while paused, but moves started nodes on", () => {
    const obs = anObservation(aPlan({ paused: true }), [aNode("cp-1")]);
    const d = decide(obs);
    expect(d.actions).toEqual([]);
    expect(d.status.phase).toBe("Paused");
    expect(condition(d, "Ready")?.reason).toBe("Paused");
  });

  it("publishes the plan and touches nothing in a dry run", () => {
    const d = decide(anObservation(aPlan({ dryRun: true }), fleet()));
    expect(d.actions).toEqual([]);
    expect(Object.values(states(d))).toEqual(["Pending", "Pending", "Pending", "Pending", "Pending"]);
    expect(condition(d, "Ready")).toMatchObject({ status: "False", reason: "DryRun" });
  });

  it("waits for a maintenance window and says when the next one opens", () => {
    const windows = [aWindow("0 2 * * 6")];
    const closed = decide(
      anObservation(aPlan({ maintenanceWindows: windows }), fleet(), {
        now: new Date("2026-11-26T12:00:00Z"),
      }),
    );
    expect(closed.actions).toEqual([]);
    expect(closed.status.phase).toBe("WaitingForWindow");
    expect(closed.status.nextWindow).toBe("2026-11-28T02:00:00.000Z");
    expect(closed.requeueAfterMs).toBe(
      Date.parse("2026-11-28T02:00:00Z") - Date.parse("2026-11-26T12:00:00Z"),
    );
    const open = decide(
      anObservation(aPlan({ maintenanceWindows: windows }), fleet(), {
        now: new Date("2026-11-28T03:00:00Z"),
      }),
    );
    expect(kinds(open)).toEqual(["cordon:cp-1"]);
  });

  it("stalls on a time zone or schedule that cannot be used, naming the field", () => {
    const d = decide(
      anObservation(aPlan({ maintenanceWindows: [aWindow("0 2 * * 6", "1h", "Mars/Olympus")] }), fleet()),
    );
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "InvalidTimeZone" });
    expect(condition(d, "Stalled")?.message).toContain("spec.maintenanceWindows[0].timeZone");
  });

  it("holds while a health check fails, and stalls once it has failed for the health timeout", () => {
    const gates = [{ name: "ceph", passing: false, message: "HEALTH_WARN" }];
    const obs = anObservation(aPlan({ healthChecks: { timeout: "15m" } }), fleet(), { gates });
    const first = decide(obs);
    expect(first.actions).toEqual([]);
    expect(condition(first, "HealthChecksPassing")).toMatchObject({
      status: "False",
      message: "ceph: HEALTH_WARN",
    });
    const later = decide(next(first, obs, { now: minutes(16) }));
    expect(condition(later, "Stalled")).toMatchObject({ status: "True", reason: "HealthCheckTimeout" });
    const healed = decide(
      next(later, obs, { now: minutes(17), gates: [{ name: "ceph", passing: true, message: "" }] }),
    );
    expect(kinds(healed)).toEqual(["cordon:cp-1"]);
    expect(condition(healed, "Stalled")?.status).toBe("False");
  });

  it("stalls at once on a health check that cannot run, without waiting for the timeout", () => {
    const gates = [
      { name: "cel/ceph", passing: false, invalid: true, message: "expression does not compile: x" },
    ];
    const d = decide(anObservation(aPlan(), fleet(), { gates }));
    expect(d.actions).toEqual([]);
    expect(condition(d, "Stalled")).toMatchObject({
      status: "True",
      reason: "InvalidHealthCheck",
      message: "health check cannot run: cel/ceph: expression does not compile: x",
    });
  });

  it("waits for another plan that is progressing", () => {
    const d = decide(anObservation(aPlan(), fleet(), { blockingPlan: "staging" }));
    expect(d.actions).toEqual([]);
    expect(d.requeueAfterMs).toBe(10_000);
    expect(condition(d, "Reconciling")).toMatchObject({
      status: "True",
      reason: "WaitingForPlan",
      message: "waiting for plan staging to finish",
    });
  });

  it("keeps the failing gates' clock while another plan goes first, and stalls when it may go", () => {
    const failing = [{ name: "prometheus/alerts", passing: false, message: "unreachable" }];
    const held = decide(anObservation(aPlan(), fleet(), { blockingPlan: "staging", gates: failing }));
    expect(held.status.gatesFailingSince).toBe(t0.toISOString());
    const free = decide(
      next(held, anObservation(aPlan(), fleet(), { gates: failing }), { now: minutes(16) }),
    );
    expect(condition(free, "Stalled")).toMatchObject({ status: "True", reason: "HealthCheckTimeout" });
  });

  it("stalls without Talos credentials", () => {
    const d = decide(
      anObservation(aPlan(), fleet(), { talosConfigError: "secret talos-system/talosconfig not found" }),
    );
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "TalosConfigError" });
  });

  it("retries failed nodes when the retry annotation changes, once per value", () => {
    const failed: PlanStatus = {
      conditions: [],
      history: [],
      nodes: [
        {
          name: "cp-1",
          role: "controlplane",
          state: "Failed",
          fromVersion: "v1.11.6",
          version: "v1.12.4",
          attempts: 1,
          message: "rolled back",
        },
      ],
    };
    const stuck = decide(anObservation(aPlan({}, failed), [aNode("cp-1")]));
    expect(stuck.actions).toEqual([]);
    const retried = decide(
      anObservation(aPlan({}, failed, { "upgrade.talos-operator.dev/retry": "1" }), [aNode("cp-1")]),
    );
    expect(kinds(retried)).toEqual(["cordon:cp-1"]);
    expect(retried.status.lastRetry).toBe("1");
    expect(retried.status.nodes[0]?.attempts).toBe(1);
  });
});

describe("version paths", () => {
  it("refuses a path that skips a minor, naming the release to add", () => {
    const d = decide(
      anObservation(aPlan({ talos: { version: "v1.13.0" } }), [aNode("cp-1", { version: "v1.11.6" })]),
    );
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "UpgradePathTooLong" });
    expect(condition(d, "Stalled")?.message).toContain("v1.12.x");
    expect(d.actions).toEqual([]);
  });

  it("takes listed intermediate releases first, each a full pass", () => {
    const plan = aPlan({ talos: { version: "v1.13.0", intermediateVersions: ["v1.12.4"] } });
    const d = decide(
      anObservation(plan, [aNode("cp-1", { version: "v1.11.6" }), aNode("worker-a", { version: "v1.12.4" })]),
    );
    expect(d.status.nodes.map((n) => [n.name, n.state, n.version])).toEqual([
      ["cp-1", "Draining", "v1.12.4"],
      ["worker-a", "Done", "v1.12.4"],
    ]);
    expect(d.status.currentTalosStep).toBe("v1.12.4");
  });
});

it("keeps a condition's lastTransitionTime while its status holds", () => {
  const obs = anObservation(aPlan(), fleet());
  const first = decide(obs);
  const second = decide(next(first, obs, { now: minutes(5) }));
  expect(condition(second, "Reconciling")?.lastTransitionTime).toBe(t0.toISOString());
});
