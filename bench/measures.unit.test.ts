// The benchmark's arithmetic (bench/measures.ts): the ideal time against the simulator's real
// sequence, the gap, and the counts read from apiserver metrics, audit log and /proc.
import { jest } from "@jest/globals";
import { auditRequests } from "../testkit/control-plane/audit.ts";
import { defaultTiming, loneWorker } from "../testkit/fleet/fleet.ts";
import {
  counterTotal,
  gapsMs,
  idealMs,
  nodeCriticalMs,
  nodePhasesMs,
  parseProcUsage,
  percentile,
} from "./measures.ts";

describe("the ideal time", () => {
  afterEach(() => jest.useRealTimers());

  it("matches the simulator's legacy upgrade: from the call until apid answers again", () => {
    jest.useFakeTimers();
    const timing = { ...defaultTiming, rebootMs: 2_000 };
    const node = loneWorker("v1.12.4", timing);
    let upAt: number | undefined;
    node.listen({ up: () => (upAt = Date.now()) });
    const calledAt = Date.now();
    node.startLegacyUpgrade("v1.13.0", "bench");
    for (let i = 0; i < 10_000 && upAt === undefined; i++) jest.advanceTimersByTime(1);
    node.stop();
    expect(upAt === undefined ? undefined : upAt - calledAt).toBe(nodeCriticalMs(timing));
    expect(node.version).toBe("v1.13.0");
  });

  it("counts control planes one at a time, then worker waves of the budget", () => {
    const timing = { rebootMs: 1_000, installMs: 0, stepMs: 0, sequenceDelayMs: 0 };
    expect(idealMs({ controlPlanes: 3, workers: 97, budget: 1, timing, drainMs: 0 })).toBe(100_000);
    expect(idealMs({ controlPlanes: 3, workers: 97, budget: 9, timing, drainMs: 0 })).toBe(14_000);
    expect(idealMs({ controlPlanes: 3, workers: 97, budget: 9, timing, drainMs: 500 })).toBe(21_000);
  });
});

describe("the gap from a node verified to the next upgrade call", () => {
  it("measures each call from the latest verification before it; calls before any verification have none", () => {
    expect(gapsMs([1_000, 3_000], [0, 1_100, 2_000, 3_250, 3_300])).toEqual([100, 1_000, 250, 300]);
  });

  it("takes nearest-rank percentiles", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe("where a node's time went", () => {
  it("splits start → last call → back → verified, from the call after the start", () => {
    const phases = nodePhasesMs([
      // A call refused before the start (a node ahead) is not its call; two reboots, the later counts.
      { startedAt: 1_000, calledAt: [500, 3_000], backAt: [800, 5_500, 9_000], finishedAt: 6_000 },
      { startedAt: 2_000, calledAt: [2_400], backAt: [4_900], finishedAt: 5_000 },
    ]);
    expect(phases).toEqual({ toCall: [2_000, 400], toBack: [2_500, 2_500], toVerified: [500, 100] });
  });

  it("leaves out the phases a node did not reach", () => {
    expect(
      nodePhasesMs([
        { startedAt: 1_000, calledAt: [], backAt: [] },
        { startedAt: 1_000, calledAt: [1_500], backAt: [] },
        { startedAt: 1_000, calledAt: [1_500], backAt: [3_000] },
        { calledAt: [1_500], backAt: [3_000], finishedAt: 3_100 },
      ]),
    ).toEqual({ toCall: [500, 500], toBack: [1_500, 1_500], toVerified: [100] });
  });
});

describe("counts", () => {
  it("sums every series of a counter, and only that counter", () => {
    const text = [
      "# TYPE apiserver_request_total counter",
      'apiserver_request_total{code="200",verb="GET"} 12',
      'apiserver_request_total{code="201",verb="POST"} 3',
      'apiserver_request_total_other{code="200"} 100',
      "apiserver_request_total 5",
    ].join("\n");
    expect(counterTotal(text, "apiserver_request_total")).toBe(20);
  });

  it("counts one user's requests once per audit ID, within the window", () => {
    const line = (id: string, user: string, stage: string, at: string, verb = "get") =>
      JSON.stringify({
        auditID: id,
        stage,
        verb,
        objectRef: { resource: "leases" },
        user: { username: user },
        requestReceivedTimestamp: at,
      });
    const log = [
      line("a", "op", "ResponseComplete", "2026-01-01T00:00:01Z"),
      line("b", "op", "ResponseStarted", "2026-01-01T00:00:02Z", "watch"),
      line("b", "op", "ResponseComplete", "2026-01-01T00:00:02Z", "watch"),
      line("c", "someone", "ResponseComplete", "2026-01-01T00:00:02Z"),
      line("d", "op", "ResponseComplete", "2026-01-01T00:00:09Z"),
    ].join("\n");
    const from = Date.parse("2026-01-01T00:00:00Z");
    expect(auditRequests(log, "op", from, from + 5_000)).toEqual({
      requests: 2,
      byVerb: { "get leases": 1, "watch leases": 1 },
    });
  });

  it("reads RSS now and at its peak, and CPU seconds, from /proc, a command name with spaces included", () => {
    const status = "Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  100000 kB\n";
    const stat = "42 (node main) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000";
    expect(parseProcUsage(status, stat, 100)).toEqual({ rssMiB: 97.65625, peakRssMiB: 200, cpuSeconds: 3 });
  });
});
