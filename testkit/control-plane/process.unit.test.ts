// The run's log files: one per process started, whichever test file started it.
import { jest } from "@jest/globals";
import { runLogFile, testLogDirEnv } from "./process.ts";

describe("a process's log file in the run's log folder", () => {
  const saved = process.env[testLogDirEnv];
  afterEach(() => {
    if (saved === undefined) delete process.env[testLogDirEnv];
    else process.env[testLogDirEnv] = saved;
  });

  it("is new at every call and lies in the folder", () => {
    process.env[testLogDirEnv] = "/tmp/run-logs";
    const names = Array.from({ length: 50 }, () => runLogFile("operator"));
    expect(new Set(names).size).toBe(50);
    for (const name of names) expect(name).toMatch(/^\/tmp\/run-logs\/operator-\d+-[0-9a-f-]{36}\.log$/);
  });

  it("is not handed out again by the kit loaded afresh in the same process, as each test file in a jest worker loads it", async () => {
    process.env[testLogDirEnv] = "/tmp/run-logs";
    const names = async () => {
      jest.resetModules();
      const kit = (await import("./process.ts")) as typeof import("./process.ts");
      return { kit, names: Array.from({ length: 5 }, () => kit.runLogFile("operator")) };
    };
    const first = await names();
    const second = await names();
    expect(second.kit).not.toBe(first.kit);
    expect(second.names.filter((name) => first.names.includes(name))).toEqual([]);
  });

  it("is none outside a test run: the caller keeps its log beside its data", () => {
    delete process.env[testLogDirEnv];
    expect(runLogFile("versitygw")).toBeUndefined();
  });
});
