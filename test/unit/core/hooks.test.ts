// Hooks in the decision core: the order of the stages around a rollout, one Job per run whatever
// the passes in between (a refused status write, a restart), failures and timeouts stopping the
// plan with a reason that names the hook, a retry running only what failed.

import { type Decision, decide } from "../../../src/core/decide.ts";
import type { Action } from "../../../src/model/actions.ts";
import type { HookJobState, NodeView, Observation } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, condition, kinds, minutes, next } from "../builders/observations.ts";
import { aHook, aHookJob, aPlan } from "../builders/plans.ts";

const allStages = {
  beforePlan: [aHook("noout")],
  beforeNode: [aHook("drain-ceph")],
  afterNode: [aHook("smoke")],
  afterPlan: [aHook("unset-noout")],
};

type RunHook = Extract<Action, { kind: "runHook" }>;
const hookRuns = (d: Decision) => d.actions.filter((a): a is RunHook => a.kind === "runHook");

/**
 * A one-worker cluster that carries out actions as the shell and the Job controller would; each
 * hook Job ends as `outcome` says (Running keeps it running).
 */
function world(
  spec: Record<string, unknown>,
  outcome: (run: RunHook) => HookJobState["state"] = () => "Succeeded",
) {
  let node: NodeView = aNode("worker-1");
  const jobs = new Map<string, HookJobState>();
  const asked: RunHook[] = [];
  const log: string[] = [];
  let obs: Observation = anObservation(aPlan({ hooks: spec }), [node], { hookJobs: jobs });
  let minute = 0;
  const pass = (): Decision => {
    const d = decide(obs);
    for (const a of d.actions) {
      log.push(a.kind === "runHook" ? `${a.stage}:${a.hook}` : a.kind);
      if (a.kind === "cordon") node = { ...node, unschedulable: true, cordonedBy: "production" };
      if (a.kind === "uncordon") {
        node = { ...node, unschedulable: false };
        delete node.cordonedBy;
      }
      if (a.kind === "upgrade") {
        const talos = { ...node.talos, version: a.version, bootId: "worker-1-boot-1" };
        node = { ...node, talos, kubeletBootId: "worker-1-boot-1" };
      }
      if (a.kind === "runHook" && !jobs.has(a.job)) {
        asked.push(a);
        jobs.set(a.job, {
          state: outcome(a),
          ...(outcome(a) === "Failed"
            ? { message: "BackoffLimitExceeded: Job has reached the specified backoff limit" }
            : {}),
        });
      }
    }
    minute++;
    // The shell confirms an accepted upgrade call in status.
    const called = d.actions.some((a) => a.kind === "upgrade");
    const status = called
      ? {
          ...d.status,
          nodes: d.status.nodes.map((e) => ({ ...e, upgradeCalledAt: minutes(minute).toISOString() })),
        }
      : d.status;
    obs = next({ ...d, status }, { ...obs, nodes: [node], now: minutes(minute), hookJobs: new Map(jobs) });
    return d;
  };
  const until = (done: (d: Decision) => boolean, passes = 30): Decision => {
    for (let i = 0; i < passes; i++) {
      const d = pass();
      if (done(d)) return d;
    }
    throw new Error(`not reached in ${passes} passes: ${log.join(", ")}`);
  };
  return {
    pass,
    until,
    asked,
    log,
    jobs,
    get obs() {
      return obs;
    },
    set obs(value: Observation) {
      obs = value;
    },
  };
}

describe("hooks around a rollout", () => {
  it("run in their order, once each: before the plan, once the node is cordoned, after it is back, after the plan", () => {
    const w = world(allStages);
    const last = w.until((d) => d.status.phase === "Completed");
    expect(w.asked.map((a) => `${a.stage}:${a.hook}${a.node ? `:${a.node}` : ""}`)).toEqual([
      "BeforePlan:noout",
      "BeforeNode:drain-ceph:worker-1",
      "AfterNode:smoke:worker-1",
      "AfterPlan:unset-noout",
    ]);
    // Nothing touches the node before the plan's hook; the node hook runs on the cordoned node
    // before the upgrade; the after-node hook once it is uncordoned; the plan completes last.
    expect(w.log.filter((k) => k !== "drain" && k !== "patchInstallImage")).toEqual([
      "BeforePlan:noout",
      "cordon",
      "BeforeNode:drain-ceph",
      "upgrade",
      "uncordon",
      "AfterNode:smoke",
      "AfterPlan:unset-noout",
    ]);
    expect(last.status.hooks).toMatchObject({ finished: true });
    // A Completed plan runs nothing more.
    for (let i = 0; i < 3; i++) expect(hookRuns(w.pass())).toEqual([]);
  });

  it("give each Job the run's facts and a name of at most 63 characters", () => {
    const w = world(allStages);
    w.until((d) => d.status.phase === "Completed");
    for (const a of w.asked) expect(a.job.length).toBeLessThanOrEqual(63);
    const node = w.asked.find((a) => a.stage === "BeforeNode");
    expect(node?.env).toEqual(
      expect.arrayContaining([
        { name: "TALOS_UPGRADE_PLAN", value: "production" },
        { name: "TALOS_UPGRADE_HOOK", value: "drain-ceph" },
        { name: "TALOS_UPGRADE_STAGE", value: "BeforeNode" },
        { name: "TALOS_UPGRADE_NODE", value: "worker-1" },
        { name: "TALOS_UPGRADE_TALOS_VERSION", value: "v1.12.4" },
      ]),
    );
    expect(node?.spec).toEqual(aHookJob("drain-ceph"));
    expect(node?.timeoutSeconds).toBe(600);
    expect(new Set(w.asked.map((a) => a.job)).size).toBe(4);
  });

  it("hold the rollout while one runs, and the plan says which", () => {
    const w = world({ beforePlan: [aHook("noout")] }, () => "Running");
    const first = w.pass();
    expect(kinds(first)).toEqual(["runHook:undefined"]);
    for (let i = 0; i < 3; i++) {
      const d = w.pass();
      expect(d.actions).toEqual([]);
      expect(condition(d, "Ready")).toMatchObject({ reason: "WaitingForHook" });
      expect(condition(d, "Ready")?.message).toContain("noout");
    }
  });

  it("ask for the same Job again when the pass that asked was lost (its status write refused)", () => {
    const w = world({ beforeNode: [aHook("drain-ceph")] }, () => "Running");
    let prior = w.obs;
    let d = w.pass();
    while (hookRuns(d).length === 0) {
      prior = w.obs;
      d = w.pass();
    }
    const asked = hookRuns(d)[0] as RunHook;
    // The status write is refused: the next pass starts from the status before, with no Job seen.
    const lost = decide({ ...prior, hookJobs: new Map() });
    expect(hookRuns(lost).map((a) => a.job)).toEqual([asked.job]);
    // The status is written but the Job is not seen yet (the shell died before creating it).
    const unseen = decide({ ...w.obs, hookJobs: new Map() });
    expect(hookRuns(unseen).map((a) => a.job)).toEqual([asked.job]);
  });

  it("name the same Job when the pass that asked lost its status write to an edit of the plan", () => {
    const w = world({ beforePlan: [aHook("noout")] }, () => "Running");
    const before = w.obs;
    const asked = hookRuns(w.pass())[0] as RunHook;
    // The write is refused (409): the plan was edited meanwhile, its generation moved on.
    const edited = { ...before.plan, metadata: { ...before.plan.metadata, generation: 2 } };
    const again = decide({ ...before, plan: edited, hookJobs: new Map([[asked.job, { state: "Running" }]]) });
    expect(hookRuns(again).map((a) => a.job)).toEqual([asked.job]);
  });

  it("stop the plan when one fails, naming the hook and the Job; a retry runs only what failed", () => {
    let failSmoke = true;
    const w = world(allStages, (a) => (a.hook === "smoke" && failSmoke ? "Failed" : "Succeeded"));
    const failed = w.until((d) => d.status.phase === "Failed");
    const smoke = w.asked.find((a) => a.hook === "smoke") as RunHook;
    expect(failed.status.nodes[0]).toMatchObject({ state: "Failed", reason: "HookFailed" });
    expect(condition(failed, "Stalled")?.message).toContain(
      `hook smoke (AfterNode of worker-1, Job ${smoke.job}) failed: BackoffLimitExceeded`,
    );
    expect(hookRuns(w.pass())).toEqual([]);
    failSmoke = false;
    w.obs = {
      ...w.obs,
      plan: {
        ...w.obs.plan,
        metadata: { ...w.obs.plan.metadata, annotations: { "upgrade.talos-operator.dev/retry": "1" } },
      },
    };
    w.until((d) => d.status.phase === "Completed");
    const runs = w.asked.map((a) => a.hook);
    expect(runs.filter((h) => h === "noout")).toHaveLength(1);
    expect(runs.filter((h) => h === "smoke")).toHaveLength(2);
    expect(new Set(w.asked.filter((a) => a.hook === "smoke").map((a) => a.job)).size).toBe(2);
  });

  it("fail with HookTimeout when a Job runs past the hook's timeout", () => {
    const w = world({ beforePlan: [aHook("noout", "2m")] }, () => "Running");
    const failed = w.until((d) => d.status.phase === "Failed");
    expect(condition(failed, "Stalled")).toMatchObject({ reason: "HookTimeout" });
    expect(condition(failed, "Stalled")?.message).toContain("did not succeed within 2m");
    expect(w.log).not.toContain("cordon");
  });

  it("time a run from its Job's creation: one whose Job could not be made for longer than the timeout goes on", () => {
    const plan = aPlan({ hooks: { beforePlan: [aHook("noout", "10m")] } });
    const nodes = [aNode("worker-1")];
    const asked = decide(anObservation(plan, nodes, { hookJobs: new Map() }));
    const [action] = hookRuns(asked);
    if (!action) throw new Error("no hook asked for");
    // Fifteen minutes on, its Job was never made (the action lost, the plan idle): asked again.
    const later = decide(next(asked, anObservation(plan, nodes), { now: minutes(15), hookJobs: new Map() }));
    expect(later.status.phase).not.toBe("Failed");
    expect(hookRuns(later).map((a) => a.job)).toEqual([action.job]);
    // Made at minute 15: running at minute 24, out of time past minute 25.
    const made = () =>
      new Map<string, HookJobState>([
        [action.job, { state: "Running", createdAt: minutes(15).toISOString() }],
      ]);
    const running = decide(next(later, anObservation(plan, nodes), { now: minutes(24), hookJobs: made() }));
    expect(running.status.phase).not.toBe("Failed");
    expect(running.requeueAfterMs).toBeLessThanOrEqual(60_000);
    const late = decide(next(running, anObservation(plan, nodes), { now: minutes(26), hookJobs: made() }));
    expect(condition(late, "Stalled")).toMatchObject({ reason: "HookTimeout" });
  });

  it("fail a run whose Job is deleted once seen running, rather than run it twice", () => {
    const w = world({ beforePlan: [aHook("noout")] }, () => "Running");
    w.pass();
    w.pass();
    const d = decide({ ...w.obs, hookJobs: new Map() });
    expect(hookRuns(d)).toEqual([]);
    expect(condition(d, "Stalled")?.message).toContain("the Job was deleted before it finished");
  });

  it("run nothing for a plan with nothing to do, and leave plans without hooks as they were", () => {
    const atTarget = anObservation(aPlan({ hooks: allStages }), [aNode("worker-1", { version: "v1.12.4" })]);
    const d = decide(atTarget);
    expect(d.status.phase).toBe("Completed");
    expect(d.actions).toEqual([]);
    expect(d.status.hooks).toBeUndefined();
    const plain = world({});
    const done = plain.until((x) => x.status.phase === "Completed");
    expect(done.status.hooks).toBeUndefined();
    expect(plain.asked).toEqual([]);
  });
});
