// Runs the operator as a real process (node src/main.ts, with the image's Node.js flags), as in
// production: its own settings from
// the environment, its logs in a file, stopped by SIGTERM or killed by SIGKILL.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { logTail, type ManagedProcess, runLogFile, startProcess } from "../control-plane/process.ts";
import { scratchDir } from "../control-plane/shared-control-plane.ts";
import { entrypointNodeFlags } from "./image-entrypoint.ts";

export interface OperatorOptions {
  kubeconfig: string;
  talosconfig: string;
  planSelector: string;
  identity?: string;
  env?: Record<string, string>;
  /** The script to run: src/main.ts unless given (the bench runs the build, as the image does). */
  entry?: string;
}

export interface OperatorProcess extends ManagedProcess {
  /** Its POD_NAME: the holder identity in the Lease. */
  identity: string;
  logs(): string;
}

const main = join(import.meta.dirname, "..", "..", "src", "main.ts");
/** The operator as the image runs it: `npm run build`'s output, built by the test harness before any test. */
export const builtOperator = join(import.meta.dirname, "..", "..", "dist", "src", "main.js");

export function startOperator(options: OperatorOptions): OperatorProcess {
  // In `npm run test:all` every operator log goes to the run's log folder, which is scanned for keys.
  const logFile = runLogFile("operator") ?? join(scratchDir("operator"), "operator.log");
  if (options.entry && !existsSync(options.entry))
    throw new Error(`${options.entry} is missing: run \`npm run build\` first (the test harness does)`);
  const identity = options.identity ?? `operator-${process.pid}`;
  const proc = startProcess("operator", process.execPath, [...entrypointNodeFlags(), options.entry ?? main], {
    logFile,
    env: {
      ...process.env,
      KUBECONFIG: options.kubeconfig,
      TALOSCONFIG: options.talosconfig,
      OPERATOR_NAMESPACE: "default",
      LEASE_NAME: `tuo-${options.planSelector}`
        .replace(/[^a-z0-9-]/g, "-")
        .slice(0, 63)
        .replace(/-+$/, ""),
      POD_NAME: identity,
      PLAN_SELECTOR: options.planSelector,
      METRICS_PORT: "0",
      METRICS_HOST: "127.0.0.1",
      // Short enough for quick takeovers, long enough that a loaded two-CPU machine does not
      // miss a renewal (2 s lost one in a CI run).
      LEASE_DURATION_MS: "5000",
      RENEW_DEADLINE_MS: "3500",
      RETRY_PERIOD_MS: "500",
      FACTS_TTL_MS: "2000",
      TALOS_DEADLINE_MS: "5000",
      LOG_LEVEL: "info",
      ...options.env,
    },
  });
  return { ...proc, identity, logs: () => logTail(logFile, 200) };
}
