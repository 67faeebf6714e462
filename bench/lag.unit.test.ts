// The simulator's lag (bench/lag.ts): what SimNode records of a late timer, the figures the bench
// draws from it, and the rule that refuses a case whose simulator lagged more than 10%.
import { defaultTiming, loneWorker } from "../testkit/fleet/fleet.ts";
import { legacyUpgradeSteps, type TimerLag } from "../testkit/fleet/node.ts";
import { lagOf, lagRefusal, machineDrainsMs, type SimulatorLag, simulatorLag } from "./lag.ts";
import type { OperatorResult } from "./operator-run.ts";
import { evaluateTargets, table } from "./report.ts";

const timing = { rebootMs: 1_000, installMs: 100, stepMs: 0, sequenceDelayMs: 0 };
const nominal = 1_100;
const reboot = (lateMs: number, at = 10_000): TimerLag => ({ timer: "reboot", nominalMs: 1_000, lateMs, at });

describe("the simulator's record of its timers", () => {
  it("notes how late a reboot fired when its event loop was busy", async () => {
    const node = loneWorker("v1.12.4", { ...defaultTiming, rebootMs: 20, stepMs: 1, sequenceDelayMs: 1 });
    const down = new Promise<void>((resolve) => node.listen({ down: () => resolve() }));
    const up = new Promise<void>((resolve) => node.listen({ up: () => resolve() }));
    node.startReboot("test");
    await down;
    // The event loop held for 100 ms: the 20 ms reboot fires about 80 ms late.
    const until = performance.now() + 100;
    while (performance.now() < until);
    await up;
    node.stop();
    const reboots = node.lag.filter((l) => l.timer === "reboot");
    expect(reboots).toHaveLength(1);
    expect(reboots[0]?.nominalMs).toBe(20);
    expect(reboots[0]?.lateMs).toBeGreaterThanOrEqual(70);
    // The reboot sequence's other timers: the delay after the answer, one after each of its 21
    // steps (its start and status, ten phases' starts and nine stops), and the last before it goes down.
    expect(node.lag.filter((l) => l.timer === "step")).toHaveLength(23);
  });

  it("keeps a sequence on its own clock: a timer held back by a busy loop does not push back the rest", async () => {
    const steady = { ...defaultTiming, sequenceDelayMs: 20, stepMs: 5, installMs: 50, rebootMs: 300 };
    const nominalMs = 20 + legacyUpgradeSteps * 5 + 50 + 300;
    const node = loneWorker("v1.12.4", steady);
    const up = new Promise<number>((resolve) => node.listen({ up: () => resolve(performance.now()) }));
    const calledAt = performance.now();
    node.startLegacyUpgrade("v1.13.0", "test");
    // Held for 250 ms while the steps run (about 100 ms of them are still to come after it).
    await new Promise((resolve) => setTimeout(resolve, 40));
    const until = performance.now() + 250;
    while (performance.now() < until);
    const back = (await up) - calledAt;
    node.stop();
    expect(node.version).toBe("v1.13.0");
    // Counted from each previous timer's firing, the steps left and the reboot would have ended
    // some 290 ms late: on its clock the machine answers as its nominal time says.
    expect(back).toBeGreaterThanOrEqual(nominalMs - 1);
    expect(back).toBeLessThan(nominalMs + 150);
    expect(node.lag.some((l) => l.timer === "step" && l.lateMs >= 150)).toBe(true);
  });
});

describe("the simulator's lag in a case", () => {
  it("takes reboots and unstaged legacy upgrades from the rollout's start, each upgrade until apid answers next", () => {
    const lag = simulatorLag(
      [
        {
          lag: [
            reboot(500, 1_000),
            { timer: "step", nominalMs: 5, lateMs: 900, at: 10_000 },
            { timer: "step", nominalMs: 5, lateMs: 25, at: 10_050 },
            reboot(10, 10_000 + nominal + 30),
          ],
          upgrades: [
            { api: "legacy", stage: false, at: 10_000 },
            { api: "lifecycle", stage: false, at: 20_000 },
            { api: "legacy", stage: true, at: 25_000 },
          ],
          backAt: [9_000, 10_000 + nominal + 30, 30_000],
        },
        { lag: [reboot(20)], upgrades: [{ api: "legacy", stage: false, at: 10_000 }], backAt: [] },
      ],
      5_000,
      timing,
    );
    expect(lag.reboot).toEqual({ p50: 10, p99: 20, max: 20, samples: 2, nominalMs: 1_000, p99Share: 0.02 });
    expect(lag.upgrade).toEqual({
      p50: 30,
      p99: 30,
      max: 30,
      samples: 1,
      nominalMs: nominal,
      p99Share: 30 / nominal,
    });
    // Of its 30 ms, its timers account for 10: the last, the reboot, against the sequence's clock
    // (a step 25 ms late before it did not push it back); the step that fired as the upgrade was
    // taken belongs to what came before.
    expect(lag.upgradeTimers).toMatchObject({ p99: 10, samples: 1 });
  });

  it("leaves out of an upgrade's lag the time its own drain waited on the cluster", () => {
    const machine = (drainMs?: number) => ({
      lag: [],
      upgrades: [
        { api: "legacy" as const, stage: false, at: 10_000, ...(drainMs === undefined ? {} : { drainMs }) },
      ],
      backAt: [10_000 + nominal + 3_040],
    });
    expect(simulatorLag([machine(3_000)], 5_000, timing).upgrade).toMatchObject({ p99: 40, samples: 1 });
    expect(simulatorLag([machine()], 5_000, timing).upgrade).toMatchObject({ p99: 3_040, samples: 1 });
    // A drain longer than the whole upgrade took is no lag below zero.
    expect(simulatorLag([machine(9_000)], 5_000, timing).upgrade).toMatchObject({ p99: 0 });
  });

  it("lists the drain phases of the legacy upgrades taken since the rollout's start", () => {
    const machine = {
      lag: [],
      upgrades: [
        { api: "legacy" as const, stage: false, at: 1_000, drainMs: 70 },
        { api: "legacy" as const, stage: false, at: 10_000, drainMs: 3_100 },
        { api: "lifecycle" as const, stage: false, at: 12_000 },
        { api: "legacy" as const, stage: true, at: 13_000 },
      ],
      backAt: [],
    };
    expect(machineDrainsMs([machine], 5_000)).toEqual([3_100]);
  });

  it("has no percentiles without samples", () => {
    expect(lagOf([], 1_000)).toEqual({ samples: 0, nominalMs: 1_000 });
  });
});

describe("refusing a case", () => {
  const within = {
    reboot: lagOf([0, 100], 1_000),
    upgrade: lagOf([110], 1_100),
    upgradeTimers: lagOf([60], 1_100),
  };

  it("keeps a case whose p99 lags are within 10% of their nominal, or that has none", () => {
    expect(lagRefusal(within)).toBeUndefined();
    const none = lagOf([], 1_000);
    expect(lagRefusal({ reboot: none, upgrade: none, upgradeTimers: none })).toBeUndefined();
  });

  it("refuses one whose reboot or upgrade lag p99 is over 10%, saying which", () => {
    expect(lagRefusal({ ...within, reboot: lagOf([0, 101], 1_000) })).toBe(
      "the simulator lagged more than 10% of its nominal timing: reboot p99 101 ms, 10.1% of 1000 ms",
    );
    expect(lagRefusal({ ...within, upgrade: lagOf([14_000], 2_155) })).toMatch(
      /: upgrade p99 14000 ms, 649\.7% of 2155 ms$/,
    );
  });

  /** A case as the bench reports it, its simulator's lag and refusal as given. */
  const caseResult = (simulatorLag: SimulatorLag, refused?: string): OperatorResult => {
    const none = { samples: 0 };
    return {
      nodes: 100,
      maxUnavailable: 1,
      budget: 1,
      phase: "Completed",
      wallOverIdeal: 9,
      wallMs: 60_000,
      idealMs: 6_667,
      gapVerifiedToStartMs: none,
      gapBackToCallMs: none,
      kubeRequestsPerNode: 9,
      kubeRequestsByVerb: {},
      apiserverRequestsPerNode: 30,
      operatorRestarts: 0,
      talosCallsPerNode: 18,
      machineDrainMs: none,
      talosCallsByMethod: {},
      idleRssMiB: 110,
      peakRssMiB: 140,
      cpuSeconds: 60,
      operatorLog: "operator.log",
      simulatorLag,
      ...(refused ? { refused } : {}),
      phasesMs: {
        toCall: { p50: 4_000, p99: 9_000, samples: 100 },
        toBack: { p50: 2_200, p99: 2_600, samples: 100 },
        toVerified: { samples: 0 },
      },
      rolloutCpuSeconds: { operator: 12.2, "kube-apiserver": 40.4 },
    };
  };

  it("counts no target of a refused case in the report, and prints why", () => {
    const refused = lagRefusal({ ...within, reboot: lagOf([500], 1_000) });
    const result = caseResult({ ...within, reboot: lagOf([500], 1_000) }, refused);
    const checks = evaluateTargets([result], []);
    expect(checks).toEqual([
      {
        target: "100 nodes, maxUnavailable 1: the simulator's p99 lag ≤ 10% of its nominal timing",
        value: refused,
        met: false,
      },
      {
        target: "100 nodes, maxUnavailable 1: the operator runs without exiting",
        value: "0 restarts",
        met: true,
      },
    ]);
    const printed = table([result], [], []).split("\n");
    expect(printed[1]?.trim()).toBe(`100        1  refused: ${refused}`);
    // Where the nodes' time and the machine's CPU went is printed still: it says why.
    expect(printed[3]).toBe(
      "100 nodes, maxUnavailable 1, per node p50/p99 ms: start → upgrade call 4000/9000, call → back 2200/2600 (of it Talos' own drain -/-), back → verified -/-; CPU s over the 60.0 s rollout: kube-apiserver 40, operator 12",
    );
  });

  it("reports an operator that exited and was started again, as a target missed and beside its case", () => {
    const restarted = { ...caseResult(within), operatorRestarts: 2 };
    expect(evaluateTargets([restarted], [])).toContainEqual({
      target: "100 nodes, maxUnavailable 1: the operator runs without exiting",
      value: "2 restarts",
      met: false,
    });
    expect(table([restarted], [], []).split("\n")[3]).toMatch(
      /; the operator exited and was started again 2 times$/,
    );
  });
});
