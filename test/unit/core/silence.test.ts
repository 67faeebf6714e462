// The plan's Alertmanager silence: held while work is under way (naming the nodes in flight when
// the plan says which label carries a node's name), renewed at half its length or when what it
// covers changes, expired when the plan completes, fails or has nothing under way; never holding
// the rollout.
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import { silenceStep } from "../../../src/core/silence.ts";
import type { Action } from "../../../src/model/actions.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, kinds, minutes, t0 } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus } from "../builders/plans.ts";

const url = "http://alertmanager.monitoring:9093";
const silence = (extra: Record<string, unknown> = {}) => ({
  silence: {
    alertmanagerUrl: url,
    matchers: [{ name: "severity", value: "warning" }],
    nodeLabel: "node",
    ...extra,
  },
});
const upgrading = (...inFlight: string[]): PlanStatus => ({
  ...aStatus(...inFlight.map((n) => anEntry(n, "Rebooting")), anEntry("worker-9", "Pending")),
  phase: "UpgradingTalos",
});
type Put = Extract<Action, { kind: "putSilence" }>;

describe("the plan's silence", () => {
  it("is created while a node is in flight, naming it, for its duration", () => {
    const step = silenceStep({
      plan: aPlan(silence()),
      next: upgrading("worker-1"),
      seen: undefined,
      now: t0,
    });
    expect(step.actions).toEqual([
      {
        kind: "putSilence",
        plan: "production",
        url,
        matchers: [
          { name: "severity", value: "warning", matchType: "=" },
          { name: "node", value: "worker-1", matchType: "=~" },
        ],
        endsAt: minutes(30).toISOString(),
        comment: "is upgrading these nodes on purpose",
      },
    ]);
  });

  it("is left alone once written, renewed at half its length, and rewritten when the nodes in flight change", () => {
    const plan = aPlan(silence(), upgrading("worker-1"));
    const seen = {
      id: "s-1",
      endsAt: minutes(30).toISOString(),
      matchers: ['severity="warning"', 'node=~"worker-1"'],
    };
    const written = silenceStep({ plan, next: upgrading("worker-1"), seen, now: minutes(1) });
    expect(written.actions).toEqual([]);
    expect(written.status).toMatchObject({ id: "s-1", matchers: seen.matchers });
    const halfWay = silenceStep({ plan, next: upgrading("worker-1"), seen, now: minutes(16) });
    expect((halfWay.actions[0] as Put).endsAt).toBe(minutes(46).toISOString());
    expect(halfWay.actions[0]).toMatchObject({ kind: "putSilence", id: "s-1" });
    const more = silenceStep({ plan, next: upgrading("worker-1", "worker-2.lab"), seen, now: minutes(2) });
    expect((more.actions[0] as Put).matchers.at(-1)).toEqual({
      name: "node",
      value: "worker-1|worker-2\\.lab",
      matchType: "=~",
    });
  });

  it("is expired once nothing is in flight, once the plan completes or fails, and then forgotten", () => {
    const plan = aPlan(silence(), upgrading("worker-1"));
    const seen = { id: "s-1", endsAt: minutes(30).toISOString(), matchers: [] };
    for (const next of [
      { ...upgrading(), phase: "UpgradingTalos" as const },
      { ...aStatus(anEntry("worker-1", "Done")), phase: "Completed" as const },
      {
        ...aStatus(anEntry("worker-1", "Failed"), anEntry("worker-2", "Rebooting")),
        phase: "Failed" as const,
      },
    ])
      expect(silenceStep({ plan, next, seen, now: minutes(1) }).actions).toEqual([
        { kind: "expireSilence", plan: "production", url, id: "s-1" },
      ]);
    const expired = silenceStep({ plan, next: upgrading(), seen: { expired: true }, now: minutes(2) });
    expect(expired).toEqual({ actions: [] });
    // A new rollout makes a new one.
    const again = silenceStep({
      plan,
      next: upgrading("worker-3"),
      seen: { expired: true },
      now: minutes(3),
    });
    expect(again.actions[0]).toMatchObject({ kind: "putSilence" });
    expect(again.actions[0]).not.toHaveProperty("id");
  });

  it("without a node label, covers the plan's matchers while work is under way", () => {
    const plan = aPlan(silence({ nodeLabel: undefined }));
    const between = silenceStep({ plan, next: upgrading(), seen: undefined, now: t0 });
    expect((between.actions[0] as Put).matchers).toEqual([
      { name: "severity", value: "warning", matchType: "=" },
    ]);
  });

  it("never holds the rollout: an Alertmanager that refuses shows in status, and the next pass writes again", () => {
    const obs = anObservation(aPlan(silence()), [aNode("worker-1")], {
      silence: { error: "Alertmanager: unreachable" },
    });
    const d = decide(obs);
    expect(kinds(d)).toEqual(["cordon:worker-1", "putSilence:undefined"]);
    expect(d.status.silence).toMatchObject({ lastError: "Alertmanager: unreachable" });
  });

  it("is not made for a plan without one, nor for a plan with nothing to do", () => {
    expect(decide(anObservation(aPlan({}), [aNode("worker-1")])).status.silence).toBeUndefined();
    const done = decide(anObservation(aPlan(silence()), [aNode("worker-1", { version: "v1.12.4" })]));
    expect(done.actions).toEqual([]);
    expect(done.status.silence).toBeUndefined();
  });

  it("keeps a deleted plan until its silence is expired", () => {
    const plan = aPlan(silence(), {
      ...aStatus(anEntry("worker-1", "Done", { version: "v1.12.4" })),
      phase: "Completed",
      silence: { id: "s-1", matchers: [] },
    });
    plan.metadata.deletionTimestamp = t0.toISOString();
    const obs = anObservation(plan, [aNode("worker-1", { version: "v1.12.4" })]);
    const d = decide(obs);
    expect(kinds(d)).toEqual(["expireSilence:undefined"]);
    expect(d.release).toBeUndefined();
    const after = decide({ ...obs, plan: { ...plan, status: d.status }, silence: { expired: true } });
    expect(after.release).toBe(true);
  });
});
