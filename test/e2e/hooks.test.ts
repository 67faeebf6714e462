// Hooks end to end, when one fails: a Job from the plan's template, run by the real Job controller
// (its pod by the kubelet stand-in), that fails stops the plan naming its Job, and a retry runs it
// again once fixed. Hooks that succeed, once each in order across a SIGKILL, are shown with the
// rest of what goes around an upgrade in around-the-upgrade.test.ts.
import { BatchV1Api, type V1Job } from "@kubernetes/client-node";
import type { HooksStatus } from "../../src/api/v1alpha1/hooks.ts";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { checkAndStopAfterEach, type PlanStatusView, Scenario } from "../../testkit/e2e/scenario.ts";
import { exitCodeAnnotation, fleetLabel, runMsAnnotation } from "../../testkit/fleet/kubelet.ts";

const planLabelKey = "upgrade.talos-operator.dev/plan";

describe("hooks, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  /** A hook whose pod runs on this scenario's fleet for `runMs` and exits with `exitCode`. */
  const hook = (name: string, runMs = 300, exitCode = 0) => ({
    name,
    job: {
      template: {
        metadata: {
          annotations: { [runMsAnnotation]: String(runMs), [exitCodeAnnotation]: String(exitCode) },
        },
        spec: {
          nodeSelector: { [fleetLabel]: scenario.name },
          containers: [{ name, image: `tools/${name}:1`, command: ["/bin/true"] }],
        },
      },
    },
  });

  async function jobsOfPlan(): Promise<V1Job[]> {
    const batch = scenario.kc.makeApiClient(BatchV1Api);
    const list = await batch.listNamespacedJob({
      namespace: "default",
      labelSelector: `${planLabelKey}=${scenario.name}`,
    });
    return list.items;
  }

  const runOf = (job: V1Job) => {
    const labels = job.metadata?.labels ?? {};
    const node = job.metadata?.annotations?.["upgrade.talos-operator.dev/node"];
    return `${labels["upgrade.talos-operator.dev/stage"]}:${labels["upgrade.talos-operator.dev/hook"]}${node ? `:${node}` : ""}`;
  };

  afterEach(async () => {
    await kubectl([
      "delete",
      "jobs",
      "-n",
      "default",
      "-l",
      `${planLabelKey}=${scenario.name}`,
      "--wait=false",
    ]);
  });

  it("a failing hook stops the plan naming its Job; fixed and retried, only it runs again", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const spec = (exitCode: number) => ({
      talos: { version: "v1.12.4" },
      hooks: { beforePlan: [hook("noout")], afterPlan: [hook("unset-noout", 300, exitCode)] },
    });
    await scenario.apply(spec(1));
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 120);
    const failed = (await jobsOfPlan()).find((j) => runOf(j) === "AfterPlan:unset-noout");
    const stalled = scenario.condition(await scenario.status(), "Stalled");
    expect(stalled?.reason).toBe("HookFailed");
    expect(stalled?.message).toContain(`hook unset-noout (AfterPlan, Job ${failed?.metadata?.name})`);
    expect(stalled?.message).toContain("BackoffLimitExceeded");
    // Nothing is run again by itself, not even once the hook is fixed: fixed first, the operator
    // takes in the new spec (status.observedGeneration reaches it) and runs no Job, the failed run
    // still failed in the very status that pass wrote (a run asked for would be listed there).
    const withHooks = async () => (await scenario.status()) as PlanStatusView & { hooks?: HooksStatus };
    const runsFailed = (await withHooks()).hooks?.runs;
    expect(runsFailed?.map((r) => `${r.stage}:${r.hook}:${r.state}`)).toEqual([
      "BeforePlan:noout:Succeeded",
      "AfterPlan:unset-noout:Failed",
    ]);
    await scenario.apply(spec(0));
    const generation = Number(
      (await kubectl(["get", "tup", scenario.name, "-o", "jsonpath={.metadata.generation}"])).stdout,
    );
    expect(generation).toBeGreaterThan(1);
    await scenario.waitFor(`jsonpath={.status.observedGeneration}=${generation}`, 60);
    const fixed = await withHooks();
    expect(fixed.phase).toBe("Failed");
    expect(fixed.hooks?.runs).toEqual(runsFailed);
    expect((await jobsOfPlan()).length).toBe(2);

    await scenario.apply(spec(0), { "upgrade.talos-operator.dev/retry": "1" });
    await scenario.waitFor("condition=Ready", 120);
    const runs = (await jobsOfPlan()).map(runOf).sort();
    expect(runs).toEqual(["AfterPlan:unset-noout", "AfterPlan:unset-noout", "BeforePlan:noout"]);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1]);
  });
});
