// The paths real fleets take, beyond the happy one: nodes ahead of the target, targets edited
// mid-rollout, checks that fail while nodes are in flight, nodes that leave, retries, other plans,
// fleets too large to list. Each case failed before the core was rebuilt around it.
import { type PlanStatus, planSpecSchema } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import type { NodeView } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import {
  anObservation,
  condition,
  drive,
  entryOf,
  kinds,
  minutes,
  next,
  states,
  t0,
} from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, aWindow, vanillaImage } from "../builders/plans.ts";

const withPulls = (node: NodeView, ...versions: string[]): NodeView => ({
  ...node,
  pulls: Object.fromEntries(versions.map((v) => [vanillaImage(v), {}])),
});

describe("nodes ahead of the target", () => {
  it("are left alone on a newer patch, reported AheadOfTarget, and the plan completes", () => {
    const d = decide(
      anObservation(aPlan(), [
        aNode("cp-1", { version: "v1.12.5" }),
        aNode("worker-1", { version: "v1.12.4" }),
      ]),
    );
    expect(entryOf(d, "cp-1")).toMatchObject({ state: "Skipped", reason: "AheadOfTarget" });
    expect(entryOf(d, "cp-1")?.message).toContain("v1.12.5");
    expect(d.actions).toEqual([]);
    expect(d.status.phase).toBe("Completed");
    expect(condition(d, "Ready")?.message).toContain("ahead of it and left alone: cp-1");
    expect(condition(d, "TalosUpToDate")).toMatchObject({ status: "True" });
    expect(condition(d, "TalosUpToDate")?.message).toContain("ahead of the target, left alone: cp-1");
  });

  it("are never taken down to an intermediate release, nor stall the path", () => {
    const plan = aPlan({ talos: { version: "v1.13.0", intermediateVersions: ["v1.12.4"] } });
    const d = decide(
      anObservation(plan, [
        withPulls(aNode("cp-1", { version: "v1.11.6" }), "v1.12.4"),
        aNode("worker-1", { version: "v1.13.0" }),
        aNode("worker-2", { version: "v1.14.1" }),
      ]),
    );
    expect(condition(d, "Stalled")?.status).toBe("False");
    expect(entryOf(d, "cp-1")).toMatchObject({ state: "Draining", version: "v1.12.4" });
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Done", version: "v1.13.0" });
    expect(entryOf(d, "worker-2")).toMatchObject({ state: "Skipped", reason: "AheadOfTarget" });
    expect(kinds(d)).toEqual(["cordon:cp-1"]);
  });

  it("converge down within the target's minor only when allowDowngrade is set", () => {
    const plan = aPlan({ talos: { version: "v1.12.4", allowDowngrade: true } });
    const d = decide(
      anObservation(plan, [aNode("cp-1", { version: "v1.12.6" }), aNode("worker-1", { version: "v1.13.0" })]),
    );
    expect(entryOf(d, "cp-1")).toMatchObject({
      state: "Draining",
      version: "v1.12.4",
      fromVersion: "v1.12.6",
    });
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Skipped", reason: "AheadOfTarget" });
    expect(planSpecSchema.parse({ talos: { version: "v1.12.4" } }).talos?.allowDowngrade).toBe(false);
  });
});

describe("versions", () => {
  it("are refused at admission without their leading v, naming the field", () => {
    for (const spec of [{ talos: { version: "1.12.4" } }, { kubernetes: { version: "1.35.2" } }]) {
      const parsed = planSpecSchema.safeParse(spec);
      expect(parsed.success).toBe(false);
      const issue = parsed.error?.issues[0];
      expect(issue?.path.join(".")).toMatch(/^(talos|kubernetes)\.version$/);
      expect(issue?.message).toContain("leading v");
    }
    expect(planSpecSchema.safeParse({ talos: { version: "v1.12.4" } }).success).toBe(true);
  });
});

describe("nodes in flight always move on", () => {
  const soaking = (extra: Partial<PlanStatus["nodes"][number]> = {}): PlanStatus =>
    aStatus(
      anEntry("worker-1", "Soaking", {
        startedAt: t0.toISOString(),
        finishedAt: t0.toISOString(),
        message: "soaking",
        ...extra,
      }),
    );
  const back = () =>
    aNode("worker-1", {
      version: "v1.12.4",
      unschedulable: true,
      talos: { reachable: true, version: "v1.12.4", bootId: "b2", stage: "RUNNING", ready: true },
    });

  it.each([
    [
      "an invalid time zone",
      { maintenanceWindows: [aWindow("0 2 * * *", "4h", "Mars/Olympus")] },
      {},
      "InvalidTimeZone",
    ],
    ["a path that skips a minor", { talos: { version: "v1.14.0" } }, {}, "UpgradePathTooLong"],
    ["a missing talosconfig", {}, { talosConfigError: "secret talos/config not found" }, "TalosConfigError"],
  ])("when a pre-flight check fails (%s)", (_, spec, extra, reason) => {
    const obs = anObservation(aPlan(spec, soaking()), [back(), aNode("worker-2")], {
      now: minutes(1),
      ...extra,
    });
    const d = decide(obs);
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason });
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
    const after = decide(
      next(d, { ...obs, nodes: [{ ...back(), unschedulable: false }, aNode("worker-2")] }),
    );
    expect(entryOf(after, "worker-1")?.state).toBe("Done");
    expect(kinds(after)).toEqual([]);
  });

  it("when a dry run is switched on mid-rollout", () => {
    const d = decide(anObservation(aPlan({ dryRun: true }, soaking()), [back()], { now: minutes(1) }));
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });

  it("and keep their entry and slot when they leave the selection", () => {
    const excluded = {
      ...back(),
      unschedulable: true,
      labels: { "upgrade.talos-operator.dev/exclude": "true" },
    };
    const rebooting = soaking({ state: "Rebooting", finishedAt: undefined as unknown as string });
    delete rebooting.nodes[0]?.finishedAt;
    const gone = { ...excluded, talos: { reachable: false, error: "connection refused" } };
    const d = decide(
      anObservation(aPlan({}, rebooting), [gone, withPulls(aNode("worker-2"), "v1.12.4")], {
        now: minutes(1),
      }),
    );
    expect(entryOf(d, "worker-1")?.state).toBe("Rebooting");
    expect(d.status.summary?.inProgress).toBe(1);
    expect(kinds(d)).not.toContain("cordon:worker-2");
    expect(d.status.phase).not.toBe("Completed");
  });

  it("and keep their entry and slot when a label change takes them out of the selector", () => {
    const pool = (name: string, value: string, extra: Parameters<typeof aNode>[1] = {}) =>
      aNode(name, { ...extra, labels: { "kubernetes.io/hostname": name, pool: value } });
    const spec = { nodeSelector: { matchLabels: { pool: "blue" } } };
    const rebooting = soaking({ state: "Rebooting" });
    delete rebooting.nodes[0]?.finishedAt;
    // worker-1 was relabelled to green while its machine reboots; worker-2 is blue and waiting.
    const away = pool("worker-1", "green", {
      unschedulable: true,
      talos: { reachable: false, error: "connection refused" },
    });
    const waiting = withPulls(pool("worker-2", "blue"), "v1.12.4");
    const d = decide(anObservation(aPlan(spec, rebooting), [away, waiting], { now: minutes(1) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Rebooting");
    expect(d.status.summary?.inProgress).toBe(1);
    expect(kinds(d)).not.toContain("cordon:worker-2");
    // Back on the target, it is verified and uncordoned like any other node of the plan; done, it
    // leaves the status, and its slot goes to worker-2 after the uncordon.
    const up = pool("worker-1", "green", {
      version: "v1.12.4",
      unschedulable: true,
      talos: { reachable: true, version: "v1.12.4", bootId: "b2", stage: "RUNNING", ready: true },
    });
    const after = decide(next(d, anObservation(aPlan(spec, d.status), [up, waiting], { now: minutes(2) })));
    expect(entryOf(after, "worker-1")).toBeUndefined();
    expect(kinds(after)).toEqual(["uncordon:worker-1", "cordon:worker-2"]);
  });

  it("and a deleted Node is reported NodeGone, never dropped", () => {
    const rebooting = soaking({ state: "Rebooting" });
    const d = decide(
      anObservation(aPlan({}, rebooting), [aNode("worker-2", { version: "v1.12.4" })], { now: minutes(1) }),
    );
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Failed", reason: "NodeGone" });
    expect(d.status.phase).toBe("Failed");
    expect(condition(d, "Stalled")).toMatchObject({ status: "True", reason: "NodeGone" });
    expect(condition(d, "Stalled")?.message).toContain("worker-1");
    // And it stays so on the passes after, whatever else is pending: the plan does not move on.
    const waiting = withPulls(aNode("worker-3"), "v1.12.4");
    const later = decide(
      anObservation(aPlan({}, d.status), [aNode("worker-2", { version: "v1.12.4" }), waiting], {
        now: minutes(2),
      }),
    );
    expect(entryOf(later, "worker-1")).toMatchObject({ state: "Failed", reason: "NodeGone" });
    expect(kinds(later)).toEqual([]);
    expect(later.status.phase).toBe("Failed");
    // A retry is the person's word that the plan may go on without it.
    const retried = decide(
      anObservation(
        aPlan({}, later.status, { "upgrade.talos-operator.dev/retry": "1" }),
        [aNode("worker-2", { version: "v1.12.4" }), waiting],
        {
          now: minutes(3),
        },
      ),
    );
    expect(entryOf(retried, "worker-1")).toBeUndefined();
    expect(kinds(retried)).toEqual(["cordon:worker-3"]);
  });
});

describe("an intermediate path", () => {
  it("keeps the fleet on its step while a node reboots out of sight, and completes only on the target", () => {
    const plan = aPlan(
      { talos: { version: "v1.13.0", intermediateVersions: ["v1.12.4"] } },
      aStatus(
        anEntry("cp-1", "Done"),
        anEntry("worker-1", "Done"),
        anEntry("worker-2", "Rebooting", {
          bootIdBefore: "worker-2-boot-0",
          startedAt: t0.toISOString(),
          upgradeCalledAt: t0.toISOString(),
          message: "rebooting",
        }),
      ),
    );
    const nodes = [
      withPulls(aNode("cp-1", { version: "v1.12.4" }), "v1.13.0"),
      aNode("worker-1", { version: "v1.12.4" }),
      // Rebooting: its Talos API does not answer, so its version is not known this pass.
      {
        ...aNode("worker-2", { unschedulable: true }),
        talos: { reachable: false, error: "connection refused" },
      },
    ];
    const d = decide(anObservation(plan, nodes, { now: minutes(1) }));
    expect(d.status.currentTalosStep).toBe("v1.12.4");
    expect(kinds(d)).toEqual([]);
    expect(states(d)).toEqual({ "cp-1": "Done", "worker-1": "Done", "worker-2": "Rebooting" });
    expect(d.status.phase).not.toBe("Completed");
  });

  it("is not Completed while every node sits on the intermediate release", () => {
    const plan = aPlan({ talos: { version: "v1.13.0", intermediateVersions: ["v1.12.4"] } });
    const nodes = [withPulls(aNode("cp-1", { version: "v1.12.4" }), "v1.13.0")];
    const d = decide(anObservation(plan, nodes));
    expect(d.status.phase).not.toBe("Completed");
    expect(entryOf(d, "cp-1")).toMatchObject({ state: "Draining", version: "v1.13.0" });
  });
});

describe("a target edited mid-rollout", () => {
  const draining: PlanStatus = aStatus(
    anEntry("worker-1", "Draining", {
      image: vanillaImage("v1.12.4"),
      startedAt: t0.toISOString(),
      attempts: 0,
      message: "cordoning",
    }),
  );
  const cordoned = (...pulled: string[]) => withPulls(aNode("worker-1", { unschedulable: true }), ...pulled);

  it("retargets a node not yet called, so it reboots once, into the new target", () => {
    const plan = aPlan({ talos: { version: "v1.12.5" } }, draining);
    const d = decide(anObservation(plan, [cordoned("v1.12.4", "v1.12.5")], { now: minutes(1) }));
    const upgrade = d.actions.find((a) => a.kind === "upgrade");
    expect(upgrade).toMatchObject({ version: "v1.12.5", image: vanillaImage("v1.12.5") });
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Upgrading", version: "v1.12.5" });
  });

  it("pulls the new installer before the call when it is not there yet", () => {
    const plan = aPlan({ talos: { version: "v1.12.5" } }, draining);
    const d = decide(anObservation(plan, [cordoned("v1.12.4")], { now: minutes(1) }));
    expect(kinds(d)).toEqual(["prepull:worker-1"]);
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Draining", version: "v1.12.5" });
  });

  it("releases a cordoned node the new target no longer needs, without a reboot", () => {
    const plan = aPlan({ talos: { version: "v1.11.6" } }, draining);
    const d = decide(anObservation(plan, [cordoned("v1.12.4")], { now: minutes(1) }));
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
    expect(entryOf(d, "worker-1")?.state).toBe("Done");
  });
});

describe("cordons", () => {
  const failed: PlanStatus = aStatus(
    anEntry("worker-1", "Failed", { reason: "NodeTimeout", message: "not back on v1.12.4 within 30m" }),
  );
  const retried = (status: PlanStatus) => aPlan({}, status, { "upgrade.talos-operator.dev/retry": "1" });

  it("a retried node that did come back is Done and uncordoned", () => {
    const node = aNode("worker-1", { version: "v1.12.4", unschedulable: true });
    const d = decide(anObservation(retried(failed), [node], { now: minutes(40) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Done");
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });

  it("only this plan's cordons are released: not a person's, not another plan's", () => {
    const person = aNode("worker-1", { version: "v1.12.4", unschedulable: true });
    delete person.cordonedBy;
    const other = {
      ...aNode("worker-2", { version: "v1.12.4", unschedulable: true }),
      cordonedBy: "gpu-pool",
    };
    const d = decide(anObservation(retried(failed), [person, other], { now: minutes(40) }));
    expect(kinds(d)).toEqual([]);
  });

  it("a failed node keeps its cordon until a retry", () => {
    const node = aNode("worker-1", { unschedulable: true });
    const d = decide(anObservation(aPlan({}, failed), [node], { now: minutes(40) }));
    expect(kinds(d)).toEqual([]);
    expect(condition(d, "Stalled")?.message).toContain("left cordoned: worker-1");
  });
});

describe("other plans", () => {
  it("a Completed plan stays Completed, with no new history or Event, while another plan progresses", () => {
    const obs = anObservation(aPlan(), [aNode("cp-1", { version: "v1.12.4" })]);
    const first = decide(obs);
    expect(first.status.phase).toBe("Completed");
    expect(first.status.history).toHaveLength(1);
    // Passes until one asks for nothing, the cluster carrying out the uncordons they ask for.
    const { decisions } = drive(next(first, obs, { blockingPlan: "gpu-pool" }), 5, {
      untilIdle: true,
      world: (nodes, d) =>
        nodes.map((n) => (kinds(d).includes(`uncordon:${n.name}`) ? { ...n, unschedulable: false } : n)),
    });
    for (const d of decisions) {
      expect(d.status.phase).toBe("Completed");
      expect(d.status.history).toHaveLength(1);
      expect(d.events).toEqual([]);
    }
  });

  it("a plan with work waits, naming the plan it waits for", () => {
    const d = decide(anObservation(aPlan(), [aNode("cp-1")], { blockingPlan: "gpu-pool" }));
    expect(condition(d, "Ready")).toMatchObject({ reason: "WaitingForPlan" });
    expect(condition(d, "Ready")?.message).toContain("gpu-pool");
    expect(kinds(d)).toEqual([]);
  });
});

describe("status at fleet scale", () => {
  it("bounds every message: 1000 nodes with 60-character names behind the target", () => {
    const name = (i: number) => `worker-${String(i).padStart(4, "0")}-${"x".repeat(48)}`;
    const nodes = Array.from({ length: 1000 }, (_, i) =>
      aNode(name(i), { talos: { reachable: false, error: "x".repeat(5000) } }),
    );
    const d = decide(anObservation(aPlan(), nodes));
    for (const c of d.status.conditions) expect(c.message.length).toBeLessThanOrEqual(2048);
    expect(condition(d, "TalosUpToDate")?.message).toContain("and 990 more");
  });
});

describe("a plan being deleted", () => {
  const deleted = (status?: PlanStatus) => {
    const plan = aPlan({}, status);
    return { ...plan, metadata: { ...plan.metadata, deletionTimestamp: minutes(1).toISOString() } };
  };

  it("starts nothing, finishes the node in flight, then may go once every cordon is released", () => {
    const soaking: PlanStatus = aStatus(
      anEntry("worker-1", "Soaking", { finishedAt: t0.toISOString() }),
      anEntry("worker-2", "Failed", { reason: "DrainTimeout", message: "drain" }),
      anEntry("worker-3", "Pending"),
    );
    const nodes = [
      aNode("worker-1", { version: "v1.12.4", unschedulable: true }),
      aNode("worker-2", { unschedulable: true }),
      withPulls(aNode("worker-3"), "v1.12.4"),
    ];
    const d = decide(anObservation(deleted(soaking), nodes, { now: minutes(2) }));
    expect(kinds(d).sort()).toEqual(["uncordon:worker-1", "uncordon:worker-2"]);
    // The failure stays the plan's verdict while it goes; the failed node's cordon goes with it.
    expect(condition(d, "Ready")).toMatchObject({ reason: "DrainTimeout" });
    expect(d.release).toBeUndefined();
    const released = nodes.map((n) => ({ ...n, unschedulable: false }));
    const after = decide(next(d, anObservation(deleted(soaking), released, { now: minutes(3) })));
    expect(kinds(after)).toEqual([]);
    expect(after.release).toBe(true);
  });

  it("holds its finalizer while a node is still rebooting", () => {
    const rebooting: PlanStatus = aStatus(
      anEntry("worker-1", "Rebooting", {
        bootIdBefore: "worker-1-boot-0",
        startedAt: t0.toISOString(),
        upgradeCalledAt: t0.toISOString(),
      }),
    );
    const node = {
      ...aNode("worker-1", { unschedulable: true }),
      talos: { reachable: false, error: "refused" },
    };
    const d = decide(anObservation(deleted(rebooting), [node], { now: minutes(1) }));
    expect(d.release).toBeUndefined();
    expect(kinds(d)).toEqual([]);
    expect(condition(d, "Ready")).toMatchObject({ reason: "Deleting" });
  });
});

describe("nodes that cannot be reached", () => {
  it("say so in their entry and in the plan's condition, instead of waiting with nothing said", () => {
    const away = (name: string) => ({
      ...aNode(name),
      talos: { reachable: false, error: "dial tcp 10.0.0.9:50000: connect: connection refused" },
    });
    const status: PlanStatus = aStatus(anEntry("cp-1", "Done"), anEntry("worker-1", "Pending"));
    const d = decide(
      anObservation(aPlan({}, status), [aNode("cp-1", { version: "v1.12.4" }), away("worker-1")]),
    );
    expect(entryOf(d, "worker-1")?.message).toContain("waiting for its Talos API: dial tcp");
    expect(condition(d, "Ready")?.message).toContain(
      "no worker can start: worker-1 (waiting for its Talos API",
    );
    expect(kinds(d)).toEqual([]);
  });
});

describe("a Talos API outage between the intent and the call", () => {
  const intent = aStatus(
    anEntry("worker-1", "Upgrading", {
      startedAt: t0.toISOString(),
      bootIdBefore: "worker-1-boot-0",
      image: vanillaImage("v1.12.4"),
      message: "upgrading to v1.12.4",
    }),
  );
  const cordoned = (talos: Partial<NodeView["talos"]>) =>
    aNode("worker-1", { unschedulable: true, talos: { reachable: true, ...talos } });

  it("is waited out, not taken for a reboot; the call is made once the machine answers on the same boot", () => {
    const plan = aPlan({}, intent);
    const away = decide(
      anObservation(plan, [cordoned({ reachable: false, error: "connection refused" })], {
        now: minutes(1),
      }),
    );
    expect(entryOf(away, "worker-1")).toMatchObject({ state: "Upgrading" });
    expect(entryOf(away, "worker-1")?.message).toContain("waiting for the Talos API");
    expect(away.actions).toEqual([]);
    const back = decide(
      next(away, anObservation(aPlan({}, away.status), [cordoned({})], { now: minutes(2) })),
    );
    expect(entryOf(back, "worker-1")?.state).toBe("Upgrading");
    expect(kinds(back)).toEqual(["upgrade:worker-1"]);
  });

  it("is a reboot once a call was seen accepted", () => {
    const called = {
      ...intent,
      nodes: intent.nodes.map((e) => ({ ...e, upgradeCalledAt: t0.toISOString() })),
    };
    const d = decide(
      anObservation(aPlan({}, called), [cordoned({ reachable: false, error: "connection refused" })], {
        now: minutes(1),
      }),
    );
    expect(entryOf(d, "worker-1")?.state).toBe("Rebooting");
    expect(d.actions).toEqual([]);
  });
});
