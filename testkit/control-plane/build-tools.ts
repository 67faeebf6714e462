// Builds the test tool groups (or finds them in the cache) before anything uses them: run by
// `npm run tools`, by test/harness/run-tests.ts before jest starts, and by the demo, the bench and
// `npm run control-plane`. Tests never import this module (testkit/control-plane/tool-cache.test.ts
// holds them to it): they only look tools up, through tools.ts.
import { spawnSync } from "node:child_process";
import { ensureScript, type ToolGroup, toolDir, toolGroups } from "./tools.ts";

/** Builds each group that the cache lacks, with ensure.sh's progress on stderr; throws on failure. */
export function buildTools(groups: readonly ToolGroup[] = toolGroups): void {
  for (const group of groups) {
    const started = Date.now();
    const run = spawnSync("bash", [ensureScript, group], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (run.status !== 0) {
      throw new Error(`building the ${group} test tools failed (ensure.sh exit ${run.status}); see above`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`tools: ${group} ready in ${toolDir(group)} (${seconds} s)\n`);
  }
}

if (import.meta.main) {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((g) => !(toolGroups as readonly string[]).includes(g));
  if (unknown.length > 0) {
    process.stderr.write(`unknown tool group(s): ${unknown.join(", ")}; known: ${toolGroups.join(", ")}\n`);
    process.exit(2);
  }
  buildTools(asked.length > 0 ? (asked as ToolGroup[]) : toolGroups);
}
