// Child processes for the test harnesses: each runs under `setpriv --pdeathsig KILL`, so the kernel
// kills it if the test process dies without cleaning up; output goes to a log file for post-mortems.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * The run's log folder, set by test/harness/run-tests.ts for every process the tests start: a
 * process started by the kit writes its log there when it is set (the run scans it for key material).
 */
export const testLogDirEnv = "TUO_TEST_LOG_DIR";

/**
 * A new log file for a `name` process in the run's log folder (scanned for keys), when the run has
 * one. Unique across the run: a jest worker runs many test files in one process, each with fresh
 * modules, so a per-module counter would hand a later file an earlier file's log, lines and all.
 */
export function runLogFile(name: string): string | undefined {
  const folder = process.env[testLogDirEnv];
  return folder ? join(folder, `${name}-${process.pid}-${randomUUID()}.log`) : undefined;
}

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export function startProcess(
  name: string,
  binary: string,
  args: string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  const log = openSync(options.logFile, "a");
  const child: ChildProcess = spawn("setpriv", ["--pdeathsig", "KILL", "--", binary, ...args], {
    stdio: ["ignore", log, log],
    env: options.env ?? process.env,
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      done = true;
      resolve(code);
    });
    child.once("error", () => {
      done = true;
      resolve(null);
    });
  });
  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (done) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    logFile: options.logFile,
    pid: child.pid,
    exited,
    running: () => !done,
    stop: (graceMs = 10_000) => signal("SIGTERM", graceMs),
    kill: () => signal("SIGKILL", 0),
  };
}

/** The last lines of a process log, for error messages. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Distinct free TCP ports on 127.0.0.1, held open together so that none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
