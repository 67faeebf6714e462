// `npm run test:all` (and test:unit, test:integration, test:e2e): first the test tools, built or
// found in the cache before any test starts (a test only looks them up); then jest with a log folder
// for this run (every operator process started by a test writes its log there), then a scan of those
// logs and of jest's own output for key material. A hit fails the run.
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTools } from "./build-tools.ts";
import { scanDir, testLogDirEnv } from "./secret-scan.ts";

const jestArgs = process.argv.slice(2);
/** The projects named by --selectProjects (its values run to the next flag); empty: all. */
function selectedProjects(args: string[]): string[] {
  const at = args.findIndex((a) => a === "--selectProjects" || a.startsWith("--selectProjects="));
  if (at < 0) return [];
  const inline = args[at]?.split("=")[1];
  if (inline) return [inline];
  const rest = args.slice(at + 1);
  const end = rest.findIndex((a) => a.startsWith("-") || a.includes("/"));
  return end < 0 ? rest : rest.slice(0, end);
}
// Unit tests start no tool; every other project may start any of them.
const projects = selectedProjects(jestArgs);
if (!(projects.length > 0 && projects.every((p) => p === "unit"))) buildTools();

const logDir = mkdtempSync(join(tmpdir(), "tuo-test-logs-"));
const output = createWriteStream(join(logDir, "jest-output.log"));
const jest = join(import.meta.dirname, "..", "..", "node_modules", "jest", "bin", "jest.js");
const child = spawn(process.execPath, ["--experimental-vm-modules", jest, ...jestArgs], {
  env: { ...process.env, [testLogDirEnv]: logDir, ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}) },
  stdio: ["inherit", "pipe", "pipe"],
});
for (const [stream, sink] of [
  [child.stdout, process.stdout],
  [child.stderr, process.stderr],
] as const) {
  stream.on("data", (chunk: Buffer) => {
    sink.write(chunk);
    output.write(chunk);
  });
}
const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
await new Promise((resolve) => output.end(resolve));

const findings = scanDir(logDir);
for (const f of findings) console.error(`key material in test logs: ${f.kind} at ${f.file}:${f.line}`);
console.log(`log scan: ${findings.length} finding(s) in ${logDir}`);
process.exit(findings.length > 0 ? 1 : code);
