// helm from the tool cache, with its cache, config and data folders out of the user's home.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "./tools.ts";

const run = promisify(execFile);

export function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(tool("helm", "helm"), args, {
    timeout: 60_000,
    env: {
      ...process.env,
      HELM_CACHE_HOME: "/tmp/tuo-helm-cache",
      HELM_CONFIG_HOME: "/tmp/tuo-helm-config",
      HELM_DATA_HOME: "/tmp/tuo-helm-data",
    },
  });
}
