// Property tests: decide() driven against a small model of a cluster over simulated time, with
// the shell crashing at random between writing its intent and acting. Over every generated fleet
// and timing the safety invariants hold, and a fault-free rollout completes.
import fc from "fast-check";
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import type { NodeView } from "../../../src/model/observation.ts";
import { aPlan, budgetOf, t0 } from "./builders.ts";

interface ModelNode {
  name: string;
  role: "controlplane" | "worker";
  version: string;
  boot: number;
  unschedulable: boolean;
  pods: number;
  /** Set while an upgrade runs: when the machine goes down, when it is back, and on which version. */
  upgrade?: { downAt: number; upAt: number; version: string };
  rollsBack: boolean;
  pulled?: string;
}

interface Scenario {
  controlPlanes: number;
  workers: number;
  atTarget: boolean[];
  maxUnavailable: number | string;
  rebootSeconds: number[];
  pods: number[];
  crashRate: number;
  rollbackNode: number | undefined;
  seed: number;
}

const target = "v1.12.4";

function run(s: Scenario) {
  let random = s.seed;
  const chance = () => {
    random = (random * 1103515245 + 12345) % 2 ** 31;
    return random / 2 ** 31;
  };
  const nodes: ModelNode[] = Array.from({ length: s.controlPlanes + s.workers }, (_, i) => ({
    name: i < s.controlPlanes ? `cp-${i}` : `worker-${String(i).padStart(2, "0")}`,
    role: i < s.controlPlanes ? "controlplane" : "worker",
    version: s.atTarget[i] ? target : "v1.11.6",
    boot: 0,
    unschedulable: false,
    pods: s.pods[i] ?? 0,
    rollsBack: s.rollbackNode === i,
  }));
  const budget = budgetOf(s.maxUnavailable, s.workers);
  let plan: Plan = aPlan({
    rollout: { maxUnavailable: s.maxUnavailable, nodeTimeout: "30m", soakTime: "0s" },
  });
  const upgrades = new Map<string, number>();
  const cordonedAfterFailure: string[] = [];
  const violations: string[] = [];
  let now = t0.getTime();
  let failedAt: number | undefined;

  const reachable = (n: ModelNode) => !n.upgrade || now < n.upgrade.downAt || now >= n.upgrade.upAt;
  const view = (n: ModelNode): NodeView => ({
    name: n.name,
    role: n.role,
    address: n.name,
    labels: {},
    ready: reachable(n),
    unschedulable: n.unschedulable,
    ...(n.unschedulable ? { cordonedBy: "production" } : {}),
    evictablePods: n.pods,
    pulls: n.pulled ? { [n.pulled]: {} } : {},
    mirrorPods: {},
    talos: reachable(n)
      ? {
          reachable: true,
          version: n.version,
          bootId: `${n.name}-${n.boot}`,
          stage: n.upgrade && now < n.upgrade.downAt ? "UPGRADING" : "RUNNING",
          ready: true,
          platform: "metal",
        }
      : { reachable: false, error: "connection refused" },
  });

  for (let tick = 0; tick < 5_000; tick++) {
    // The machines: an upgrade's reboot completes on its schedule.
    for (const n of nodes) {
      if (n.upgrade && now >= n.upgrade.upAt) {
        n.version = n.rollsBack ? n.version : n.upgrade.version;
        n.boot++;
        n.upgrade = undefined;
      }
    }
    const cps = nodes.filter((n) => n.role === "controlplane");
    const cpDown = cps.filter((n) => n.unschedulable || !reachable(n)).length;
    const workersDown = nodes.filter((n) => n.role === "worker" && (n.unschedulable || !reachable(n))).length;
    if (cpDown > 1) violations.push(`${cpDown} control planes unavailable at tick ${tick}`);
    if (workersDown > budget)
      violations.push(`${workersDown} workers unavailable (budget ${budget}) at tick ${tick}`);

    const healthy = cps.filter((n) => reachable(n)).length;
    const decision = decide({
      now: new Date(now),
      plan,
      nodes: nodes.map(view),
      gates: [],
      etcd: {
        healthy: healthy === cps.length,
        members: cps.length,
        healthyMembers: healthy,
        message: `${healthy}/${cps.length}`,
      },
    });
    // The shell: the decided status is written first (the intent)...
    plan = { ...plan, status: decision.status };
    if (decision.status.phase === "Failed" && failedAt === undefined) failedAt = now;
    if (
      decision.status.phase === "Completed" ||
      (decision.status.phase === "Failed" && decision.status.summary?.inProgress === 0)
    )
      break;
    // ...then it may crash before acting; the next pass must pick up from status and facts alone.
    if (chance() >= s.crashRate) {
      for (const action of decision.actions) {
        const n = nodes.find((m) => m.name === action.node) as ModelNode;
        if (action.kind === "cordon") {
          if (!n.unschedulable && failedAt !== undefined) cordonedAfterFailure.push(n.name);
          n.unschedulable = true;
        } else if (action.kind === "uncordon") {
          n.unschedulable = false;
        } else if (action.kind === "prepull") {
          n.pulled = action.image;
        } else if (action.kind === "drain") {
          n.pods = Math.max(0, n.pods - 1);
        } else if (action.kind === "upgrade" && reachable(n) && !n.upgrade) {
          const seconds = s.rebootSeconds[nodes.indexOf(n)] ?? 60;
          n.upgrade = { downAt: now + 5_000, upAt: now + 5_000 + seconds * 1000, version: action.version };
          upgrades.set(n.name, (upgrades.get(n.name) ?? 0) + 1);
          if (chance() >= s.crashRate) {
            const entries = plan.status?.nodes.map((e) =>
              e.name === n.name ? { ...e, upgradeCalledAt: new Date(now).toISOString() } : e,
            );
            plan = {
              ...plan,
              status: { ...(plan.status as NonNullable<Plan["status"]>), nodes: entries ?? [] },
            };
          }
        }
      }
    }
    now += 2_000;
  }
  return { plan, nodes, upgrades, violations, cordonedAfterFailure };
}

const scenario = fc
  .record({
    // Two etcd members cannot lose one; such a plan waits (covered by the table tests).
    controlPlanes: fc.constantFrom(1, 3),
    workers: fc.integer({ min: 0, max: 8 }),
    maxUnavailable: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom("25%", "50%", "100%")),
    crashRate: fc.constantFrom(0, 0.2, 0.5),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((base) => {
    const size = base.controlPlanes + base.workers;
    return fc.record({
      ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
      atTarget: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
      rebootSeconds: fc.array(fc.integer({ min: 10, max: 300 }), { minLength: size, maxLength: size }),
      pods: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: size, maxLength: size }),
      rollbackNode: fc.constant(undefined),
    }) as fc.Arbitrary<Scenario>;
  });

it("never has more than one control plane or maxUnavailable workers down, and upgrades each node exactly once", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const result = run(s);
      expect(result.violations).toEqual([]);
      expect(result.plan.status?.phase).toBe("Completed");
      for (const [i, n] of result.nodes.entries()) {
        expect({ node: n.name, version: n.version, unschedulable: n.unschedulable }).toEqual({
          node: n.name,
          version: target,
          unschedulable: false,
        });
        expect({ node: n.name, upgrades: result.upgrades.get(n.name) ?? 0 }).toEqual({
          node: n.name,
          upgrades: s.atTarget[i] ? 0 : 1,
        });
      }
    }),
    { numRuns: 150 },
  );
});

it("stops at a Talos rollback: the plan fails, names the node, and starts nothing new", () => {
  fc.assert(
    fc.property(
      scenario.filter((s) => s.atTarget.some((at) => !at)),
      (s) => {
        const victim = s.atTarget.findIndex((at) => !at);
        const result = run({ ...s, rollbackNode: victim });
        expect(result.violations).toEqual([]);
        expect(result.plan.status?.phase).toBe("Failed");
        const failed = result.plan.status?.nodes.filter((e) => e.state === "Failed") ?? [];
        expect(failed.map((e) => [e.name, e.reason])).toEqual([[result.nodes[victim]?.name, "RolledBack"]]);
        expect(result.cordonedAfterFailure).toEqual([]);
        expect(result.upgrades.get(result.nodes[victim]?.name ?? "")).toBe(1);
      },
    ),
    { numRuns: 100 },
  );
});
