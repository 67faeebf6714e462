// kubectl against the run's control plane, as a user would type it, with optional stdin.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sharedKubeconfigPath } from "./shared-control-plane.ts";

const run = promisify(execFile);

export function kubectl(
  args: string[],
  input?: string,
  timeoutMs = 240_000,
): Promise<{ stdout: string; stderr: string }> {
  const child = run("kubectl", ["--kubeconfig", sharedKubeconfigPath(), ...args], { timeout: timeoutMs });
  child.child.stdin?.end(input ?? "");
  return child;
}
