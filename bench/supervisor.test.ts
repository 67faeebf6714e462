// The bench's supervisor with real processes: one that exits is started again up to the limit, the
// CPU of every run is counted, and a stop ends the current run and starts no other.
import { join } from "node:path";
import { type ManagedProcess, startProcess } from "../testkit/control-plane/process.ts";
import { scratchDir } from "../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../testkit/control-plane/wait.ts";
import { procUsage } from "./proc.ts";
import { supervise } from "./supervisor.ts";

/** Node.js spinning for `busyMs` of CPU, then exiting with `code`, or living on when `code` is undefined. */
const script = (busyMs: number, code?: number) =>
  `const end = Date.now() + ${busyMs}; while (Date.now() < end); ${code === undefined ? "setInterval(() => {}, 1000);" : `process.exit(${code});`}`;

describe("the bench's operator supervisor", () => {
  const log = join(scratchDir("supervisor"), "run.log");

  it("starts a run that exits again, counts every run's CPU, and stops the last one", async () => {
    const runs: ManagedProcess[] = [];
    const restarted: (number | null)[] = [];
    // Two runs that spin 300 ms and exit with 1, then one that spins 300 ms and lives.
    const start = () => {
      const run = startProcess(
        "spin",
        process.execPath,
        ["-e", script(300, runs.length < 2 ? 1 : undefined)],
        {
          logFile: log,
        },
      );
      runs.push(run);
      return run;
    };
    const supervised = supervise(start, {
      ticksPerSecond: 100,
      maxRestarts: 3,
      restarted: (code) => restarted.push(code),
    });
    // Read while each lives, as the bench's poll does.
    await waitUntil(
      "the third run started",
      async () => {
        supervised.sample();
        return runs.length === 3;
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    supervised.sample();
    expect(supervised.restarts()).toBe(2);
    expect(restarted).toEqual([1, 1]);
    expect(supervised.current()).toBe(runs[2]);
    expect(supervised.current().running()).toBe(true);
    // The sum holds the ended runs as last read (within a poll of their end) besides the living one.
    const usage = supervised.usage();
    const living = procUsage(runs[2]?.pid ?? 0, 100);
    expect(usage.cpuSeconds).toBeGreaterThan(living.cpuSeconds);
    expect(usage.rssMiB).toBeGreaterThan(0);
    expect(usage.peakRssMiB).toBeGreaterThanOrEqual(living.peakRssMiB);
    await supervised.stop();
    expect(runs.every((run) => !run.running())).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runs).toHaveLength(3);
  });

  it("leaves a run that keeps exiting down once its restarts are spent", async () => {
    let started = 0;
    const supervised = supervise(
      () => {
        started++;
        return startProcess("exit", process.execPath, ["-e", "process.exit(3)"], { logFile: log });
      },
      { ticksPerSecond: 100, maxRestarts: 2 },
    );
    await waitUntil("the last run gone", async () => started === 3 && !supervised.current().running(), {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started).toBe(3);
    expect(supervised.restarts()).toBe(2);
    await supervised.stop();
  });
});
