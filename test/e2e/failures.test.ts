// When things go wrong beyond the simulator's faults (those are the faults matrix,
// faults-matrix.test.ts): a PodDisruptionBudget holding the drain.
import { AppsV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { planLog } from "../../testkit/e2e/operator-log.ts";
import { checkAndStopAfterEach, type PlanStatusView, Scenario } from "../../testkit/e2e/scenario.ts";
import { heldPod } from "../../testkit/e2e/workloads.ts";

describe("failures, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("a PodDisruptionBudget holds the drain until the workload allows it", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const namespace = "default";
    const app = `${scenario.name}-web`;
    await heldPod(scenario, app, scenario.node("worker-1"));
    await scenario.apply({
      talos: { version: "v1.12.4" },
      drain: { timeout: "2m" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor(`jsonpath={.status.nodes[1].state}=Draining`, 60);
    const draining = (await scenario.status()).nodes?.[1]?.name ?? "";
    // Held, not merely slow: the node's message names the budget (an eviction was refused, and the
    // next pass saw it), and the operator then drains it twice more, each time refused.
    let seen: PlanStatusView = {};
    await waitUntil(
      "the refused eviction reported",
      async () => {
        seen = await scenario.status();
        return /disruption budget/i.test(seen.nodes?.[1]?.message ?? "");
      },
      { timeoutMs: 60_000, intervalMs: 200, describe: () => JSON.stringify(seen.nodes, null, 1) },
    );
    const drains = () =>
      planLog(scenario.operator, scenario.name).filter(
        (r) => r.msg === "acted" && r.action === "drain" && r.node === draining,
      ).length;
    const drainsSeen = drains();
    await waitUntil("two more drain attempts", async () => drains() >= drainsSeen + 2, {
      timeoutMs: 30_000,
      describe: () => scenario.operator.logs(),
    });
    const held = await scenario.status();
    expect(held.nodes?.[1]?.name).toBe(draining);
    expect(held.nodes?.[1]?.state).toBe("Draining");
    expect(held.nodes?.[1]?.message).toMatch(/disruption budget/i);
    // The owner relaxes the budget; the drain goes through and the plan completes.
    await scenario.kc
      .makeApiClient(PolicyV1Api)
      .deleteNamespacedPodDisruptionBudget({ namespace, name: app });
    await scenario.waitFor("condition=Ready", 120);
    expect(scenario.recorder.maxWorkersDown).toBe(1);
    await scenario.kc.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace, name: app });
  });
});
