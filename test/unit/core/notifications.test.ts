// The notification outbox: what a pass tells each receiver (the rollout's start once per
// generation, each node failing, the plan stalling, its completion), written with the transition
// and taken off once the shell has delivered it.
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { outbox } from "../../../src/core/notifications.ts";
import { t0 } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus } from "../builders/plans.ts";

const receivers = {
  notifications: [
    { name: "oncall", urlSecretRef: { name: "hook", namespace: "ops" } },
    {
      name: "chat",
      format: "Slack",
      urlSecretRef: { name: "chat", namespace: "ops" },
      events: ["Completed"],
    },
  ],
};
const spec = aPlan(receivers).spec;
const status = (extra: Partial<PlanStatus> = {}): PlanStatus => ({ ...aStatus(), ...extra });
const stalled = (reason: string): PlanStatus["conditions"][number] => ({
  type: "Stalled",
  status: "True",
  reason,
  message: "why",
  lastTransitionTime: t0.toISOString(),
});
const run = (previous: PlanStatus, next: PlanStatus, delivered: string[] = [], generation = 1) =>
  outbox({ spec, previous, next, generation, now: t0, delivered });

describe("the notification outbox", () => {
  it("tells the start once per generation, to the receivers that want it", () => {
    const started = run(status({ phase: "Pending" }), status({ phase: "UpgradingTalos" }));
    expect(started?.pending.map((p) => [p.receiver, p.event])).toEqual([["oncall", "Started"]]);
    expect(started?.startedGeneration).toBe(1);
    // A window or another plan in between does not make it start again.
    const again = run(
      status({ phase: "WaitingForWindow", notifications: started }),
      status({ phase: "UpgradingTalos" }),
    );
    expect(again?.pending.map((p) => p.event)).toEqual(["Started"]);
    expect(
      run(
        status({ phase: "Pending", notifications: started }),
        status({ phase: "UpgradingTalos" }),
        [],
        2,
      )?.pending.map((p) => p.event),
    ).toEqual(["Started", "Started"]);
  });

  it("tells each node that fails, once, with its reason", () => {
    const before = status({
      phase: "UpgradingTalos",
      nodes: [anEntry("worker-1", "Rebooting")],
      notifications: { pending: [], delivered: 0, dropped: 0, startedGeneration: 1 },
    });
    const failed = anEntry("worker-1", "Failed", { reason: "RolledBack", message: "booted v1.11.6" });
    const told = run(before, status({ phase: "Failed", nodes: [failed] }));
    expect(told?.pending.map((p) => [p.event, p.node, p.message])).toEqual([
      ["NodeFailed", "worker-1", "worker-1: RolledBack: booted v1.11.6"],
    ]);
    expect(
      run(
        status({ ...before, nodes: [failed], notifications: told }),
        status({ phase: "Failed", nodes: [failed] }),
      )?.pending,
    ).toHaveLength(1);
  });

  it("tells a stall when it begins or its reason changes, and the completion to every receiver that asks", () => {
    const told = run(
      status({ phase: "UpgradingTalos" }),
      status({ phase: "UpgradingTalos", conditions: [stalled("HealthCheckTimeout")] }),
    );
    expect(told?.pending.filter((p) => p.event === "Stalled").map((p) => p.message)).toEqual([
      "HealthCheckTimeout: why",
    ]);
    const same = run(
      status({ conditions: [stalled("HealthCheckTimeout")] }),
      status({ conditions: [stalled("HealthCheckTimeout")] }),
    );
    expect(same?.pending).toEqual([]);
    const done = run(status({ phase: "UpgradingTalos" }), status({ phase: "Completed" }));
    expect(done?.pending.map((p) => [p.receiver, p.event])).toEqual([
      ["oncall", "Completed"],
      ["chat", "Completed"],
    ]);
  });

  it("takes off what the shell delivered and counts it; keeps the rest; carries the last failure", () => {
    const told = run(status({ phase: "UpgradingTalos" }), status({ phase: "Completed" }));
    const [first, second] = told?.pending ?? [];
    const after = outbox({
      spec,
      previous: status({ phase: "Completed", notifications: told }),
      next: status({ phase: "Completed" }),
      generation: 1,
      now: t0,
      delivered: [first?.id ?? ""],
      error: "chat: HTTP 500 (attempt 1, next in 1s)",
    });
    expect(after?.pending.map((p) => p.id)).toEqual([second?.id]);
    expect(after).toMatchObject({ delivered: 1, lastError: "chat: HTTP 500 (attempt 1, next in 1s)" });
  });

  it("keeps at most 64 waiting, counting what it gave up", () => {
    const many = Array.from({ length: 64 }, (_, i) => ({
      id: `x${i}`,
      receiver: "oncall",
      event: "Stalled" as const,
      message: "",
      time: "",
    }));
    const full = run(
      status({ notifications: { pending: many, delivered: 0, dropped: 0 } }),
      status({ phase: "Completed" }),
    );
    expect(full?.pending).toHaveLength(64);
    expect(full?.dropped).toBe(2);
    expect(full?.pending.at(-1)?.event).toBe("Completed");
  });

  it("is absent from a plan that names no receiver", () => {
    expect(
      outbox({
        spec: aPlan().spec,
        previous: status(),
        next: status({ phase: "Completed" }),
        generation: 1,
        now: t0,
        delivered: [],
      }),
    ).toBeUndefined();
  });
});
