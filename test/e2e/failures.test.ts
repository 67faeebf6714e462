// When things go wrong beyond the simulator's faults (those are the faults matrix,
// faults-matrix.test.ts): a PodDisruptionBudget holding the drain.
import { AppsV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";

describe("failures, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

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
