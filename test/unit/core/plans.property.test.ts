// Property test over two or three plans on one fleet, their selectors overlapping or disjoint,
// bumped together: passes of the plans interleave in random order, each pass decides with the
// shell's ordering (blockingPlan) and takes the fleet lock as the reconciler does (startsWork,
// underWay, a Lease with a holder), status writes are refused (409) and the shell crashes between
// effects. Invariants, from the model's own arithmetic: never more than one control plane down
// across all plans, a worker taken down only within its plan's budget, no node called twice for
// one version, and at the end every plan Completed, every selected node on the target, no cordon.
import fc from "fast-check";
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import { blockingPlan } from "../../../src/controller/observe.ts";
import { decide } from "../../../src/core/decide.ts";
import { startsWork, underWay } from "../../../src/core/fleet-hold.ts";
import { seededRandom } from "../../harness/prng.ts";
import {
  carryOut,
  finishReboots,
  isDown,
  type ModelNode,
  ModelShell,
  modelNode,
  reachable,
  restartMs,
  viewOf,
} from "../builders/fleet-model.ts";
import { t0 } from "../builders/observations.ts";
import { aNamedPlan, budgetOf } from "../builders/plans.ts";

const pools = ["blue", "green"] as const;

interface Scenario {
  controlPlanes: number;
  /** Each worker's pool. */
  workerPools: number[];
  /** Per plan: the pools it selects (control planes are "infra") and its maxUnavailable. */
  plans: { pools: string[]; maxUnavailable: number | string }[];
  rebootSeconds: number[];
  crashRate: number;
  conflictRate: number;
  seed: number;
}

function run(s: Scenario) {
  const chance = seededRandom(s.seed).next;
  const nodes: ModelNode[] = [
    ...Array.from({ length: s.controlPlanes }, (_, i) =>
      modelNode(`cp-${i}`, "controlplane", "v1.11.6", 0, { pool: "infra" }),
    ),
    ...s.workerPools.map((p, i) =>
      modelNode(`worker-${i}`, "worker", "v1.11.6", i % 2, { pool: pools[p] ?? "blue" }),
    ),
  ];
  let plans: Plan[] = s.plans.map((p, i) =>
    aNamedPlan(`plan-${i}`, `2026-11-28T0${i}:00:00Z`, undefined, {
      talos: { version: "v1.12.4" },
      nodeSelector: { matchExpressions: [{ key: "pool", operator: "In", values: p.pools }] },
      rollout: { maxUnavailable: p.maxUnavailable, nodeTimeout: "30m", soakTime: "0s" },
    }),
  );
  const selects = (plan: Plan, n: ModelNode) =>
    (plan.spec.nodeSelector?.matchExpressions?.[0]?.values ?? []).includes(n.labels.pool ?? "");
  /** The fleet Lease: the plan holding the fleet, and since when. */
  let lease: { holder: string; at: number } | undefined;
  const calls = new Map<string, number>();
  const shell = new ModelShell();
  const violations: string[] = [];
  let now = t0.getTime();

  for (let tick = 0; tick < 4_000; tick++) {
    finishReboots(nodes, now, () => false);
    const cpDown = nodes.filter((n) => n.role === "controlplane" && isDown(n, now)).length;
    if (cpDown > 1) violations.push(`${cpDown} control planes unavailable at tick ${tick}`);
    if (plans.every((p) => p.status?.phase === "Completed") && nodes.every((n) => !n.unschedulable)) break;

    // The plans' passes run in an order of their own each round.
    const order = plans.map((_, i) => i).sort(() => chance() - 0.5);
    for (const index of order) {
      const plan = plans[index] as Plan;
      const name = plan.metadata.name;
      const observation = {
        now: new Date(now),
        plan,
        nodes: nodes.map((n) => viewOf(n, now)),
        gates: [],
        etcd: {
          healthy: nodes.filter((n) => n.role === "controlplane").every((n) => reachable(n, now)),
          members: s.controlPlanes,
          healthyMembers: nodes.filter((n) => n.role === "controlplane" && reachable(n, now)).length,
          message: "",
        },
      };
      const ahead = blockingPlan(plan, plans);
      let decision = decide({ ...observation, ...(ahead ? { blockingPlan: ahead } : {}) });
      if (startsWork(plan.status, decision.status)) {
        const holder = lease?.holder;
        const other = plans.find((p) => p.metadata.name === holder);
        const holds =
          holder !== undefined && holder !== name && other !== undefined && underWay(other.status);
        if (holds) decision = decide({ ...observation, blockingPlan: holder });
        else lease = { holder: name, at: now };
      }
      // A refused status write: the pass acts on nothing (a lease taken stays taken, as it would).
      if (chance() < s.conflictRate) continue;
      const before = plan.status;
      plans = plans.map((p) => (p.metadata.name === name ? { ...p, status: decision.status } : p));
      if (underWay(before) && !underWay(decision.status) && lease?.holder === name) lease = undefined;

      const crashed = chance() < s.crashRate;
      const carried = crashed
        ? Math.floor(chance() * (decision.actions.length + 1))
        : decision.actions.length;
      const workers = nodes.filter((n) => n.role === "worker" && selects(plan, n));
      const budget = budgetOf(plan.spec.rollout.maxUnavailable, workers.length);
      for (const action of decision.actions.slice(0, carried)) {
        const n = nodes.find((m) => m.name === action.node);
        if (!n) continue;
        if (action.kind === "cordon" && n.role === "worker" && !isDown(n, now)) {
          const down = workers.filter((w) => isDown(w, now)).length;
          if (down + 1 > budget) violations.push(`${n.name} cordoned with ${down} down (budget ${budget})`);
        }
        const seconds = s.rebootSeconds[nodes.indexOf(n)] ?? 60;
        if (action.kind !== "upgrade") carryOut(action, n, name, now, seconds);
        else if (shell.upgrade(action, n, name, now, seconds)) {
          const key = `${n.name}→${action.version}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          // The call confirmed in status; a crash may come before the write, or the write meet a conflict.
          const lost = crashed ? chance() < 0.5 : chance() < s.conflictRate;
          if (!lost) {
            const status = decision.status;
            const nodesStatus = status.nodes.map((e) =>
              e.name === n.name ? { ...e, upgradeCalledAt: new Date(now).toISOString() } : e,
            );
            plans = plans.map((p) =>
              p.metadata.name === name ? { ...p, status: { ...status, nodes: nodesStatus } } : p,
            );
          }
        }
      }
      // A crash ends the round: the process is gone with what it remembered, and back later.
      if (crashed) {
        shell.crash();
        now += restartMs;
        break;
      }
    }
    now += 2_000;
  }
  return { plans, nodes, calls, violations, selects };
}

const scenario = fc
  .record({
    controlPlanes: fc.constantFrom(1, 3),
    workerPools: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 0, maxLength: 6 }),
    plans: fc.array(
      fc.record({
        pools: fc.subarray(["infra", ...pools], { minLength: 1 }),
        maxUnavailable: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom("50%", "100%")),
      }),
      { minLength: 2, maxLength: 3 },
    ),
    crashRate: fc.constantFrom(0, 0.2, 0.5),
    conflictRate: fc.constantFrom(0, 0.1, 0.3),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain(
    (base) =>
      fc.record({
        ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
        rebootSeconds: fc.array(fc.integer({ min: 10, max: 120 }), {
          minLength: base.controlPlanes + base.workerPools.length,
          maxLength: base.controlPlanes + base.workerPools.length,
        }),
      }) as fc.Arbitrary<Scenario>,
  );

it("two or three plans bumped together: one control plane down at most across them, each within its budget, all complete", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const result = run(s);
      expect(result.violations).toEqual([]);
      expect([...result.calls].filter(([, count]) => count > 1)).toEqual([]);
      for (const plan of result.plans) {
        const selected = result.nodes.filter((n) => result.selects(plan, n));
        if (selected.length === 0) continue;
        expect({ plan: plan.metadata.name, phase: plan.status?.phase }).toEqual({
          plan: plan.metadata.name,
          phase: "Completed",
        });
        for (const n of selected)
          expect({ node: n.name, version: n.version }).toEqual({ node: n.name, version: "v1.12.4" });
      }
      expect(result.nodes.filter((n) => n.unschedulable).map((n) => n.name)).toEqual([]);
    }),
    {
      numRuns: Number(process.env.PLANS_PROPERTY_RUNS ?? 1000),
      ...(process.env.FLEET_PROPERTY_SEED ? { seed: Number(process.env.FLEET_PROPERTY_SEED) } : {}),
    },
  );
});
