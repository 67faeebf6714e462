// Hooks end to end: Jobs from the plan's templates, run by the real Job controller (their pods by
// the kubelet stand-in) before the plan, before and after each node, and after the plan; once
// each, across an operator SIGKILL; a failing hook stops the plan naming its Job, and a retry runs
// it again once fixed.
import { BatchV1Api, type V1Job } from "@kubernetes/client-node";
import { exitCodeAnnotation, fleetLabel, runMsAnnotation } from "../fleet/kubelet.ts";
import { kubectl } from "../harness/kubectl.ts";
import { waitUntil } from "../harness/wait.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

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
  const created = (job: V1Job) => Date.parse(String(job.metadata?.creationTimestamp ?? ""));
  const byCreation = (jobs: V1Job[]) =>
    [...jobs].sort((a, b) => created(a) - created(b) || runOf(a).localeCompare(runOf(b)));

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

  it("runs before the plan, before and after each node, after the plan, once each across an operator SIGKILL", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    await scenario.apply({
      talos: { version: "v1.12.4" },
      hooks: {
        beforePlan: [hook("noout")],
        // Long enough for the operator to die while one runs.
        beforeNode: [hook("prepare", 2_500)],
        afterNode: [hook("smoke")],
        afterPlan: [hook("unset-noout")],
      },
    });
    await waitUntil(
      "a beforeNode hook running",
      async () => (await jobsOfPlan()).some((j) => runOf(j).startsWith("BeforeNode") && !j.status?.succeeded),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await scenario.operator.kill();
    scenario.startOperator({}, "operator-2");
    await scenario.waitFor("condition=Ready", 180);

    const jobs = byCreation(await jobsOfPlan());
    const runs = jobs.map(runOf);
    const nodes = ["cp-1", "worker-1", "worker-2"].map((n) => scenario.node(n));
    // Once each: one Job per stage, hook and node.
    expect(new Set(runs).size).toBe(runs.length);
    expect([...runs].sort()).toEqual(
      [
        "BeforePlan:noout",
        ...nodes.flatMap((n) => [`BeforeNode:prepare:${n}`, `AfterNode:smoke:${n}`]),
        "AfterPlan:unset-noout",
      ].sort(),
    );
    // In order: the plan's first and last; each node's before ahead of its after.
    expect(runs[0]).toBe("BeforePlan:noout");
    expect(runs.at(-1)).toBe("AfterPlan:unset-noout");
    for (const n of nodes)
      expect(runs.indexOf(`BeforeNode:prepare:${n}`)).toBeLessThan(runs.indexOf(`AfterNode:smoke:${n}`));
    for (const job of jobs) expect(job.status?.succeeded).toBe(1);
    const calls = scenario.recorder.upgradeCalls();
    for (const n of nodes) expect(calls[n]).toBe(1);
    const status = await scenario.status();
    expect(status.phase).toBe("Completed");
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
    // Nothing is run again by itself.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await jobsOfPlan()).length).toBe(2);

    await scenario.apply(spec(0), { "upgrade.talos-operator.dev/retry": "1" });
    await scenario.waitFor("condition=Ready", 120);
    const runs = (await jobsOfPlan()).map(runOf).sort();
    expect(runs).toEqual(["AfterPlan:unset-noout", "AfterPlan:unset-noout", "BeforePlan:noout"]);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1]);
  });
});
