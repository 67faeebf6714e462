// Locates the test tools in the cache that testkit/tools/ensure.sh fills. It never builds: `npm test`
// builds every group before the first test starts (build-tools.ts), so a missing tool is an
// immediate error here, not a build inside some test's timeout.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const toolGroups = ["kube", "talosctl", "helm", "monitoring", "s3", "kstatus"] as const;
export type ToolGroup = (typeof toolGroups)[number];

export const ensureScript = join(import.meta.dirname, "..", "tools", "ensure.sh");
const resolved = new Map<ToolGroup, string>();

/** The folder holding a tool group's binaries; throws at once when the group is not built. */
export function toolDir(group: ToolGroup): string {
  const known = resolved.get(group);
  if (known) return known;
  const run = spawnSync("bash", [ensureScript, "--lookup", group], { encoding: "utf8" });
  const dir = run.stdout.trim().split("\n").at(-1) ?? "";
  if (run.status !== 0 || dir === "" || !existsSync(dir)) {
    throw new Error(
      `the ${group} test tools are not in the tool cache (${run.stderr.trim() || `ensure.sh exit ${run.status}`}). ` +
        "Build them with `npm run tools` (npm test does it before any test starts), or set " +
        "KUBEBUILDER_ASSETS to a folder with etcd and kube-apiserver",
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
