// kubectl against the run's control plane (or the one `kubeconfig` names), as a user would type it,
// with optional stdin.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sharedKubeconfigPath } from "./shared-control-plane.ts";

const run = promisify(execFile);

export function kubectl(
  args: string[],
  input?: string,
  options: { timeoutMs?: number; kubeconfig?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const kubeconfig = options.kubeconfig ?? sharedKubeconfigPath();
  const child = run("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    timeout: options.timeoutMs ?? 240_000,
  });
  // A kubectl that exits before reading its stdin (nothing to read) closes the pipe: its exit status,
  // not the write, is the answer.
  child.child.stdin?.on("error", () => undefined);
  child.child.stdin?.end(input ?? "");
  return child;
}
