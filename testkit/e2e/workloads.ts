// Workloads the e2e tests place on the simulated fleet's Nodes.
import { AppsV1Api, PolicyV1Api } from "@kubernetes/client-node";
import type { Scenario } from "./scenario.ts";

/**
 * One pod of Deployment `name` (in `default`) on `node`, behind a PodDisruptionBudget of the same
 * name that never lets it go (minAvailable 1): a drain of that node holds until the budget or the
 * pod is removed. Resolves once the pod is Ready.
 */
export async function heldPod(scenario: Scenario, name: string, node: string): Promise<void> {
  const labels = { app: name };
  await scenario.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: "default",
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": node },
            containers: [{ name: "main", image: "app:1" }],
          },
        },
      },
    },
  });
  await scenario.kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace: "default",
    body: { metadata: { name }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
  });
  await scenario.kubectl(["rollout", "status", `deployment/${name}`, "-n", "default", "--timeout=60s"]);
}
