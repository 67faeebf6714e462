// A real Alertmanager for the tests (built from github.com/prometheus/alertmanager by the
// `monitoring` tool group): one instance on a free loopback port, clustering off, a data folder of
// its own and by default a config that routes every alert to a receiver that sends nothing.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startMonitoringProcess } from "./monitoring-process.ts";
import type { ManagedProcess } from "./process.ts";

export interface AlertmanagerOptions {
  /** The whole alertmanager.yml, as an object; default: one route to a receiver named "null". */
  config?: Record<string, unknown>;
}

/** A silence as GET /api/v2/silences returns it. */
export interface Silence {
  id: string;
  status: { state: "active" | "pending" | "expired" };
  matchers: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[];
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
}

export interface AlertmanagerServer {
  /** http://127.0.0.1:PORT; the API is under /api/v2. */
  readonly url: string;
  readonly port: number;
  /** Its folder: config, silences and notification log, log file. */
  readonly dir: string;
  readonly process: ManagedProcess;
  logs(): string;
  /** Every silence it holds, expired ones included. */
  silences(): Promise<Silence[]>;
  /** Stops it (SIGTERM) and deletes its folder. */
  stop(): Promise<void>;
}

export const nullReceiverConfig = { route: { receiver: "null" }, receivers: [{ name: "null" }] };

export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), "tuo-alertmanager-"));
  writeFileSync(join(dir, "alertmanager.yml"), stringify(options.config ?? nullReceiverConfig));
  const server = await startMonitoringProcess("alertmanager", dir, (port) => [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // No cluster: no gossip port, and ready at once instead of after the peers settle.
    "--cluster.listen-address=",
  ]);
  const { url } = server;
  return {
    url,
    port: server.port,
    dir,
    process: server.process,
    logs: server.logs,
    silences: async () => {
      const response = await fetch(`${url}/api/v2/silences`, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`GET /api/v2/silences: HTTP ${response.status}`);
      return (await response.json()) as Silence[];
    },
    stop: server.stop,
  };
}
