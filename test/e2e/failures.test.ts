// When things go wrong: the plan stops touching new nodes, the condition says what and where, and
// nothing is left cordoned without saying so.
import { AppsV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { kubectl } from "../harness/kubectl.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

describe("failures, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("an installer image that does not exist fails the plan before any node is cordoned", async () => {
    scenario = await new Scenario().start();
    await scenario.apply({
      talos: { version: "v1.12.4", image: "factory.talos.dev/metal-installer/0000:v1.12.4" },
    });
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 60);
    const status = await scenario.status();
    expect(scenario.condition(status, "Stalled")).toMatchObject({
      status: "True",
      reason: "ImagePullFailed",
    });
    expect(scenario.condition(status, "Stalled")?.message).toContain(scenario.node("cp-1"));
    expect(scenario.recorder.maxControlPlanesDown).toBe(0);
    expect(scenario.recorder.maxWorkersDown).toBe(0);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual(Array(6).fill(0));
  });

  it("a Talos A/B rollback stops the plan, names the node, and touches no other node", async () => {
    scenario = await new Scenario().start();
    scenario.fleet.inject(scenario.node("cp-2"), { bootFailure: true });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 90);
    const status = await scenario.status();
    expect(scenario.condition(status, "Stalled")).toMatchObject({ status: "True", reason: "RolledBack" });
    expect(scenario.condition(status, "Stalled")?.message).toContain(scenario.node("cp-2"));
    expect(status.nodes?.map((n) => n.state)).toEqual([
      "Done",
      "Failed",
      "Pending",
      "Pending",
      "Pending",
      "Pending",
    ]);
    expect(scenario.fleet.node(scenario.node("cp-2")).version).toBe("v1.11.6");
    expect(scenario.recorder.upgradeCalls()[scenario.node("cp-3")]).toBe(0);
    // The failed node keeps its cordon and the status says so; a person decides what happens next.
    const failed = status.nodes?.find((n) => n.state === "Failed");
    expect(failed?.message).toContain("rolled back by Talos");
  });

  it("a node that never comes back fails after nodeTimeout", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    scenario.fleet.inject(scenario.node("worker-1"), { neverReturns: true });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "10s" } });
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 90);
    const status = await scenario.status();
    expect(scenario.condition(status, "Stalled")?.reason).toBe("NodeTimeout");
    expect(status.nodes?.find((n) => n.name === scenario.node("worker-1"))?.message).toMatch(
      /not back on v1\.12\.4 within 10s/,
    );
    expect(scenario.recorder.upgradeCalls()[scenario.node("worker-2")]).toBe(0);
  });

  it("a PodDisruptionBudget holds the drain until the workload allows it", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const namespace = "default";
    const app = `${scenario.name}-web`;
    const labels = { app };
    const apps = scenario.kc.makeApiClient(AppsV1Api);
    const policy = scenario.kc.makeApiClient(PolicyV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: app },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": scenario.node("worker-1") },
              containers: [{ name: "web", image: "registry.invalid/web:1" }],
            },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: app }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    });
    await kubectl(["rollout", "status", `deployment/${app}`, "-n", namespace, "--timeout=60s"]);
    await scenario.apply({
      talos: { version: "v1.12.4" },
      drain: { timeout: "2m" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor(`jsonpath={.status.nodes[1].state}=Draining`, 60);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const held = await scenario.status();
    expect(held.nodes?.[1]?.state).toBe("Draining");
    expect(held.nodes?.[1]?.message).toMatch(/disruption budget/i);
    // The owner relaxes the budget; the drain goes through and the plan completes.
    await policy.deleteNamespacedPodDisruptionBudget({ namespace, name: app });
    await scenario.waitFor("condition=Ready", 120);
    expect(scenario.recorder.maxWorkersDown).toBe(1);
    await apps.deleteNamespacedDeployment({ namespace, name: app });
  });
});
