// kubectl against the run's control plane (or the one `kubeconfig` names), as a user would type it,
// with optional stdin.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sharedKubeconfigPath } from "./shared-control-plane.ts";

const run = promisify(execFile);

/**
 * How long a kubectl may run before it is killed: 240 s, or longer when it is told to wait longer
 * (`--timeout=420s`), so that its own timeout, with the plan's status, is what ends a slow wait.
 */
export function processTimeoutMs(args: string[]): number {
  const told = args.map((a) => /^--timeout=(\d+)s$/.exec(a)?.[1]).find((s) => s !== undefined);
  return Math.max(240_000, (Number(told ?? 0) + 30) * 1000);
}

export function kubectl(
  args: string[],
  input?: string,
  options: { timeoutMs?: number; kubeconfig?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const kubeconfig = options.kubeconfig ?? sharedKubeconfigPath();
  const child = run("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    timeout: options.timeoutMs ?? processTimeoutMs(args),
  });
  // A kubectl that exits before reading its stdin (nothing to read) closes the pipe: its exit status,
  // not the write, is the answer.
  child.child.stdin?.on("error", () => undefined);
  child.child.stdin?.end(input ?? "");
  return child;
}

/**
 * Waits until the apiserver serves the CRD `name`. `kubectl wait --for=condition=Established` fails
 * at once instead of waiting when it reads a CRD created moments ago whose conditions are still
 * null; this reads the condition until it is True.
 */
export async function waitEstablished(
  name: string,
  options: { timeoutMs?: number; kubeconfig?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const established = 'jsonpath={.status.conditions[?(@.type=="Established")].status}';
  for (;;) {
    const read = await kubectl(["get", `crd/${name}`, "-o", established], undefined, options).catch(
      (error: unknown) => ({ stdout: "", stderr: String(error) }),
    );
    if (read.stdout.trim() === "True") return;
    if (Date.now() > deadline)
      throw new Error(`CRD ${name} not Established within ${timeoutMs} ms: ${read.stderr || "no condition"}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
