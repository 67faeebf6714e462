// One monitoring server (Prometheus, Alertmanager) of the `monitoring` tool group as the tests run
// it: in a folder of its own on a free loopback port, its log in that folder, started once its
// /-/ready answers, and on stop gone with its folder.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { freePorts, logTail, type ManagedProcess, startProcess } from "./process.ts";
import { tool } from "./tools.ts";
import { waitUntil } from "./wait.ts";

export interface MonitoringProcess {
  url: string;
  port: number;
  process: ManagedProcess;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts `binary` of the monitoring group with `args(port)` in `dir`; removes `dir` if it never gets ready. */
export async function startMonitoringProcess(
  binary: "prometheus" | "alertmanager",
  dir: string,
  args: (port: number) => string[],
): Promise<MonitoringProcess> {
  const [port = 0] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, `${binary}.log`);
  const proc = startProcess(binary, tool("monitoring", binary), [...args(port), "--log.level=warn"], {
    logFile,
  });
  const stop = async () => {
    await proc.stop(5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(`${binary} ready`, async () => (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 30_000,
      alive: proc.running,
      describe: () => logTail(logFile),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, process: proc, logs: () => logTail(logFile, 100), stop };
}
