// Locates the test tools, building them on first use with test/tools/ensure.sh (which reuses its cache).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export type ToolGroup = "kube" | "talosctl" | "helm";

const ensureScript = join(import.meta.dirname, "..", "tools", "ensure.sh");
const resolved = new Map<ToolGroup, string>();

/**
 * The folder holding a tool group's binaries. Build progress goes to this process' stderr. There is
 * no skip: if the tools cannot be had, this throws, so a test run without them fails loudly.
 */
export function toolDir(group: ToolGroup): string {
  const known = resolved.get(group);
  if (known) return known;
  const run = spawnSync("bash", [ensureScript, group], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  const dir = run.stdout.trim().split("\n").at(-1) ?? "";
  if (run.status !== 0 || dir === "" || !existsSync(dir)) {
    throw new Error(
      `the ${group} test tools could not be built or found (ensure.sh exit ${run.status}); ` +
        "install Go, or set KUBEBUILDER_ASSETS to a folder with etcd and kube-apiserver",
    );
  }
  resolved.set(group, dir);
  return dir;
}

export function tool(group: ToolGroup, name: string): string {
  const path = join(toolDir(group), name);
  if (!existsSync(path)) throw new Error(`${name} is missing from ${toolDir(group)}`);
  return path;
}
