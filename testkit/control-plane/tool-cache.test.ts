// The tool cache is filled before any test starts (testkit/control-plane/build-tools.ts, run by npm test);
// a test only looks a tool up. These checks keep it so: no test reaches the build, and the lookup
// answers at once, building nothing, when the cache is empty.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { toolGroups } from "./tools.ts";

const root = resolve(import.meta.dirname, "..", "..");
const buildModule = join(root, "testkit", "control-plane", "build-tools.ts");
const lookupModule = join(root, "testkit", "control-plane", "tools.ts");
const thisFile = join(root, "testkit", "control-plane", "tool-cache.test.ts");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Relative imports of a module: static, side-effect and dynamic forms. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)];
  return specifiers.map((m) => resolve(dirname(file), m[1] ?? ""));
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file) || !file.endsWith(".ts")) continue;
    seen.add(file);
    queue.push(...relativeImports(file));
  }
  return seen;
}

/** Every test file of every jest project: the operator's (test/), the kit's and the bench's own. */
const testFiles = ["test", "testkit", "bench"]
  .flatMap((folder) => filesUnder(join(root, folder)))
  .filter((f) => f.endsWith(".test.ts"));

describe("test tools", () => {
  it("are never built by a test: no test file reaches the build or the build script", () => {
    expect(testFiles.length).toBeGreaterThan(30);
    const offenders: string[] = [];
    for (const test of testFiles) {
      for (const file of reachable(test)) {
        const reachesBuild = file === buildModule;
        const mayNameScript = file === lookupModule || file === thisFile;
        const callsScript = !mayNameScript && /ensure\.sh|ensureScript/.test(readFileSync(file, "utf8"));
        if (reachesBuild || callsScript) offenders.push(`${test} → ${file}`);
      }
    }
    expect(offenders).toEqual([]);
    // The check sees through the harness: the control plane reaches the lookup module.
    expect(
      reachable(join(root, "testkit", "control-plane", "apiserver-is-real.test.ts")).has(lookupModule),
    ).toBe(true);
  });

  it.each(toolGroups)(
    "the lookup of %s fails at once with what to run when the cache is empty, and builds nothing",
    (group) => {
      const cache = mkdtempSync(join(tmpdir(), "tuo-empty-tools-"));
      try {
        const started = Date.now();
        const run = spawnSync(
          process.execPath,
          [
            "--input-type=module",
            "-e",
            `import { toolDir } from ${JSON.stringify(lookupModule)}; toolDir(${JSON.stringify(group)});`,
          ],
          { encoding: "utf8", env: { ...process.env, TUO_TOOLS_CACHE: cache, KUBEBUILDER_ASSETS: "" } },
        );
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain(`the ${group} test tools are not in the tool cache`);
        expect(run.stderr).toContain("npm run tools");
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(readdirSync(cache)).toEqual([]);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    },
  );
});
