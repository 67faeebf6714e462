// Only one plan progresses at a time: one already progressing goes on, else the oldest waiting one.
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import { blockingPlan } from "../../../src/controller/observe.ts";
import { aNamedPlan } from "../builders/plans.ts";

const progressing: Plan["status"] = {
  phase: "UpgradingTalos",
  conditions: [],
  nodes: [],
  history: [],
  summary: { total: 3, done: 1, inProgress: 1, failed: 0, pending: 1 },
};
const completed: Plan["status"] = { phase: "Completed", conditions: [], nodes: [], history: [] };
const stalledCondition = (generation: number) => ({
  type: "Stalled",
  status: "True" as const,
  reason: "TalosConfigError",
  message: "secret default/missing key config: not found",
  lastTransitionTime: "2026-01-01T00:00:00Z",
  observedGeneration: generation,
});
/** Stalled on its own bad input before any node was started (one node already at the target). */
const stalledUntouched: Plan["status"] = {
  phase: "UpgradingTalos",
  conditions: [stalledCondition(1)],
  nodes: [{ name: "cp-1", role: "controlplane", state: "Done", attempts: 0, message: "already at v1.12.4" }],
  history: [],
  summary: { total: 2, done: 1, inProgress: 0, failed: 0, pending: 1 },
};
/** The same plan, edited since it stalled: its condition is for an older generation. */
const stalledThenEdited: Plan["status"] = { ...stalledUntouched, conditions: [stalledCondition(0)] };
/** Stalled after a node was started: the cluster is mid-upgrade, the plan keeps its place. */
const stalledMidRun: Plan["status"] = {
  ...stalledUntouched,
  nodes: [
    {
      name: "cp-1",
      role: "controlplane",
      state: "Done",
      attempts: 1,
      startedAt: "2026-01-01T00:00:00Z",
      message: "",
    },
  ],
};

/** Its nodes found at the target (another plan upgraded them), waiting: nothing of its own started. */
const foundDone: Plan["status"] = {
  phase: "UpgradingTalos",
  conditions: [],
  nodes: [{ name: "cp-1", role: "controlplane", state: "Done", attempts: 0, message: "already at v1.12.4" }],
  history: [],
  summary: { total: 2, done: 1, inProgress: 0, failed: 0, pending: 1 },
};
/** Its selector matches no node: nothing to do, nothing to wait for. */
const selectsNothing: Plan["status"] = {
  phase: "Pending",
  conditions: [
    {
      type: "Ready",
      status: "False",
      reason: "NoNodesSelected",
      message: "no node matches spec.nodeSelector",
      lastTransitionTime: "2026-01-01T00:00:00Z",
      observedGeneration: 1,
    },
  ],
  nodes: [],
  history: [],
};
/** Between two nodes: the first done by this plan, none in progress. */
const betweenNodes: Plan["status"] = { ...stalledMidRun, conditions: [] };

it.each([
  ["nothing else exists", aNamedPlan("b", "2026-02-01"), [], undefined],
  ["an older plan waits to start", aNamedPlan("b", "2026-02-01"), [aNamedPlan("a", "2026-01-01")], "a"],
  ["a newer plan waits to start", aNamedPlan("a", "2026-01-01"), [aNamedPlan("b", "2026-02-01")], undefined],
  [
    "a newer plan is progressing",
    aNamedPlan("a", "2026-01-01"),
    [aNamedPlan("b", "2026-02-01", progressing)],
    "b",
  ],
  [
    "this plan is progressing and an older one waits",
    aNamedPlan("b", "2026-02-01", progressing),
    [aNamedPlan("a", "2026-01-01")],
    undefined,
  ],
  [
    "an older plan is completed",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", completed)],
    undefined,
  ],
  [
    "an older plan is paused",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", undefined, { paused: true })],
    undefined,
  ],
  [
    "an older plan is a dry run",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", undefined, { dryRun: true })],
    undefined,
  ],
  [
    "an older plan stalled on its own input before touching a node",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", stalledUntouched)],
    undefined,
  ],
  [
    "an older plan selects no node",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", selectsNothing)],
    undefined,
  ],
  [
    "an older stalled plan was edited since",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", stalledThenEdited)],
    "a",
  ],
  [
    "an older plan stalled after starting a node",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", stalledMidRun)],
    "a",
  ],
  [
    "this plan stalled untouched and an older one waits",
    aNamedPlan("b", "2026-02-01", stalledUntouched),
    [aNamedPlan("a", "2026-01-01")],
    "a",
  ],
  [
    "this plan is progressing and an older one only found its nodes at the target",
    aNamedPlan("b", "2026-02-01", progressing),
    [aNamedPlan("a", "2026-01-01", foundDone)],
    undefined,
  ],
  [
    "an older plan only found its nodes at the target and waits",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", foundDone)],
    "a",
  ],
  [
    "an older plan is between two of its nodes",
    aNamedPlan("b", "2026-02-01"),
    [aNamedPlan("a", "2026-01-01", betweenNodes)],
    "a",
  ],
  [
    "both are progressing and this one is older",
    aNamedPlan("a", "2026-01-01", progressing),
    [aNamedPlan("b", "2026-02-01", progressing)],
    undefined,
  ],
  [
    "both are progressing and this one is newer",
    aNamedPlan("b", "2026-02-01", progressing),
    [aNamedPlan("a", "2026-01-01", progressing)],
    "a",
  ],
])("when %s, the blocking plan is %s", (_case, plan, others, expected) => {
  expect(blockingPlan(plan, [plan, ...others])).toBe(expected);
});
