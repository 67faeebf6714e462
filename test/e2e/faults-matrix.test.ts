// The faults matrix, end to end: each row of faults-table.ts (the table in docs/faults.md) on a
// fleet of its own (cp-1, worker-1, worker-2), the fault injected at the row's moment, and the
// plan's outcome checked: phase, condition reason, the node's state, what is left cordoned, and
// whether the nodes after it were touched. Rows run one after the other: the operator reads every
// Node of the cluster (etcd health comes from all control planes), so fleets must not overlap.

import { checkAndStopAfterEach, type PlanStatusView, Scenario } from "../../testkit/e2e/scenario.ts";
import { faultCases as cases, type FaultCase } from "./faults-table.ts";

const target = "v1.12.4";
const kubernetesTarget = "v1.35.0";

async function inject(scenario: Scenario, row: FaultCase): Promise<void> {
  const machine = scenario.fleet.node(scenario.node(row.node));
  const strike = () => {
    if (row.inject.faults) scenario.fleet.inject(machine.hostname, row.inject.faults);
    if (row.inject.apidOutageMs) machine.apidOutage(row.inject.apidOutageMs);
  };
  if (row.moment === "before the plan") strike();
  if (row.moment === "when the node is cordoned")
    void scenario.recorder.whenCordoned(machine.hostname).then(strike);
  if (row.moment === "when the node is back up") {
    let struck = false;
    machine.listen({
      up: () => {
        if (!struck) strike();
        struck = true;
      },
    });
  }
}

function outcome(scenario: Scenario, row: FaultCase, status: PlanStatusView, cordoned: string[]) {
  const kubernetes = row.phase === "Kubernetes";
  const order = kubernetes
    ? scenario.fleet.nodes().map((n) => n.hostname)
    : (status.nodes ?? []).map((n) => n.name);
  const faulty = scenario.node(row.node);
  const later = order.slice(order.indexOf(faulty) + 1);
  const calls = kubernetes ? scenario.recorder.configPatches() : scenario.recorder.upgradeCalls();
  const entry = kubernetes
    ? status.kubernetes?.tasks?.find((t) => t.node === faulty && t.state !== "Done")
    : status.nodes?.find((n) => n.name === faulty);
  const stalled = scenario.condition(status, "Stalled");
  const ready = scenario.condition(status, "Ready");
  return {
    planPhase: status.phase,
    reason: stalled?.status === "True" ? stalled.reason : ready?.reason,
    node: {
      state: entry?.state,
      ...(entry?.reason ? { reason: entry.reason } : {}),
      ...(row.expected.node.message ? { message: entry?.message } : {}),
    },
    cordoned: cordoned.map((name) => name.slice(scenario.name.length + 1)),
    laterNodes: later.every((n) => (calls[n] ?? 0) === 0) ? "untouched" : "upgraded",
  };
}

describe("faults matrix, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it.each(cases.map((row) => [`${row.phase}: ${row.fault} | ${row.moment} | ${row.step}`, row] as const))(
    "%s",
    async (_title, row) => {
      const kubernetes = row.phase === "Kubernetes";
      scenario = await new Scenario().start({
        controlPlanes: 1,
        workers: 2,
        timing: { rebootMs: 500 },
        ...(kubernetes ? { talosVersion: "v1.12.4", kubernetesVersion: "v1.34.2" } : {}),
      });
      // A Kubernetes-phase fault strikes a healthy cluster: its mirror pods are Ready first.
      if (kubernetes) await scenario.mirrorPodsReady();
      await inject(scenario, row);
      await scenario.apply({
        ...(kubernetes
          ? { kubernetes: { version: kubernetesTarget } }
          : { talos: { version: target, ...(row.inject.image ? { image: row.inject.image } : {}) } }),
        rollout: { nodeTimeout: "30s", ...row.spec?.rollout },
        ...(row.spec?.healthChecks ? { healthChecks: row.spec.healthChecks } : {}),
      });
      await scenario.waitFor(
        row.expected.planPhase === "Completed" ? "condition=Ready" : "condition=Stalled",
        90,
      );
      const status = await scenario.settledStatus();
      const seen = outcome(scenario, row, status, await scenario.cordonedNodes());
      const { message, ...node } = row.expected.node;
      expect(seen).toEqual({
        ...row.expected,
        node: { ...node, ...(message ? { message: expect.stringContaining(message) } : {}) },
      });
      // What a failed plan leaves cordoned, its Stalled condition says.
      if (row.expected.cordoned.length > 0)
        expect(scenario.condition(status, "Stalled")?.message).toContain(
          `left cordoned: ${row.expected.cordoned.map((n) => scenario.node(n)).join(", ")}`,
        );
    },
    120_000,
  );
});
