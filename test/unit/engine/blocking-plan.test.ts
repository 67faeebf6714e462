// Only one plan progresses at a time: one already progressing goes on, else the oldest waiting one.
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import { blockingPlan } from "../../../src/engine/observe.ts";
import { aPlan } from "./builders.ts";

function named(
  name: string,
  created: string,
  status?: Plan["status"],
  spec: Record<string, unknown> = {},
): Plan {
  const plan = aPlan(spec, status);
  return { ...plan, metadata: { ...plan.metadata, name, creationTimestamp: created } };
}

const progressing: Plan["status"] = {
  phase: "UpgradingTalos",
  conditions: [],
  nodes: [],
  history: [],
  summary: { total: 3, done: 1, inProgress: 1, failed: 0, pending: 1 },
};
const completed: Plan["status"] = { phase: "Completed", conditions: [], nodes: [], history: [] };

it.each([
  ["nothing else exists", named("b", "2026-02-01"), [], undefined],
  ["an older plan waits to start", named("b", "2026-02-01"), [named("a", "2026-01-01")], "a"],
  ["a newer plan waits to start", named("a", "2026-01-01"), [named("b", "2026-02-01")], undefined],
  ["a newer plan is progressing", named("a", "2026-01-01"), [named("b", "2026-02-01", progressing)], "b"],
  [
    "this plan is progressing and an older one waits",
    named("b", "2026-02-01", progressing),
    [named("a", "2026-01-01")],
    undefined,
  ],
  ["an older plan is completed", named("b", "2026-02-01"), [named("a", "2026-01-01", completed)], undefined],
  [
    "an older plan is paused",
    named("b", "2026-02-01"),
    [named("a", "2026-01-01", undefined, { paused: true })],
    undefined,
  ],
  [
    "an older plan is a dry run",
    named("b", "2026-02-01"),
    [named("a", "2026-01-01", undefined, { dryRun: true })],
    undefined,
  ],
])("when %s, the blocking plan is %s", (_case, plan, others, expected) => {
  expect(blockingPlan(plan, [plan, ...others])).toBe(expected);
});
