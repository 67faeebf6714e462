// `npm run test:all` (and test:unit, test:integration, test:e2e): first the test tools, built or
// found in the cache before any test starts (a test only looks them up), and the operator's build;
// then jest with a log folder for this run (every operator process started by a test writes its log
// there), the unit tests in a jest of their own beside the others; then a scan of those logs and of
// jest's own output for key material. A hit fails the run.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildOperator } from "../../scripts/build.ts";
import { buildTools } from "../../testkit/control-plane/build-tools.ts";
import { scanDir, testLogDirEnv } from "./secret-scan.ts";
import { closingLine, countsFileEnv } from "./summary-reporter.js";

const jestArgs = process.argv.slice(2);
/** The projects named by --selectProjects (its values run to the next flag; none: all) and the other args. */
function selectedProjects(args: string[]): { projects: string[]; others: string[] } {
  const at = args.findIndex((a) => a === "--selectProjects" || a.startsWith("--selectProjects="));
  if (at < 0) return { projects: [], others: args };
  const inline = args[at]?.split("=")[1];
  const rest = args.slice(at + 1);
  const end = inline ? 0 : rest.findIndex((a) => a.startsWith("-") || a.includes("/"));
  const values = inline ? [inline] : end < 0 ? rest : rest.slice(0, end);
  return {
    projects: values,
    others: [...args.slice(0, at), ...rest.slice(values.length - (inline ? 1 : 0))],
  };
}
// Unit tests start no tool; every other project may start any of them.
const { projects, others: otherArgs } = selectedProjects(jestArgs);
// The operator is built too: some tests run it as the image does, from dist/.
if (!(projects.length > 0 && projects.every((p) => p === "unit"))) {
  buildTools();
  await buildOperator();
}

const logDir = mkdtempSync(join(tmpdir(), "tuo-test-logs-"));
const jest = join(import.meta.dirname, "..", "..", "node_modules", "jest", "bin", "jest.js");

interface Run {
  code: number;
  /** The output of a run not streamed live. */
  held: Buffer;
  counts?: { passed: number; failed: number; skipped: number };
}

/**
 * One jest process. `live`: its output streams as it comes; else it is held and printed whole when
 * the run ends (two runs' lines never interleave). Either way it is kept in the log folder.
 */
async function runJest(
  name: string,
  args: string[],
  options: { live: boolean; nice?: number },
): Promise<Run> {
  const countsFile = join(logDir, `${name}-counts.json`);
  const output = createWriteStream(join(logDir, `${name}-output.log`));
  const held: Buffer[] = [];
  const command = [process.execPath, "--experimental-vm-modules", jest, ...args];
  const [file, ...rest] = options.nice ? ["nice", "-n", String(options.nice), ...command] : command;
  const child = spawn(file as string, rest, {
    env: {
      ...process.env,
      [testLogDirEnv]: logDir,
      [countsFileEnv]: countsFile,
      ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}),
    },
    stdio: ["inherit", "pipe", "pipe"],
  });
  for (const [stream, sink] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    stream.on("data", (chunk: Buffer) => {
      if (options.live) sink.write(chunk);
      else held.push(chunk);
      output.write(chunk);
    });
  }
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  await new Promise((resolve) => output.end(resolve));
  return {
    code,
    held: Buffer.concat(held),
    ...(existsSync(countsFile) ? { counts: JSON.parse(readFileSync(countsFile, "utf8")) } : {}),
  };
}

// The unit tests only compute (the fleet property test is minutes of one CPU); the integration and
// e2e tests mostly wait on processes and timers. When both are asked for, the unit tests run beside
// the others in a jest of their own, at a lower CPU priority so that they take only what the timed
// tests leave.
const timed = (projects.length > 0 ? projects : ["unit", "integration", "e2e"]).filter((p) => p !== "unit");
const split = timed.length > 0 && (projects.length === 0 || projects.includes("unit"));
// A pattern may match tests of one side only; a run that finds none at all still fails below.
const both = [...otherArgs, ...(otherArgs.length > 0 ? ["--passWithNoTests"] : [])];
const runs = split
  ? await Promise.all([
      runJest("jest", [...both, "--selectProjects", ...timed], { live: true }),
      runJest("jest-unit", [...both, "--selectProjects", "unit"], { live: false, nice: 10 }),
    ])
  : [await runJest("jest", jestArgs, { live: true })];

for (const run of runs) process.stdout.write(run.held);
const findings = scanDir(logDir);
for (const f of findings) console.error(`key material in test logs: ${f.kind} at ${f.file}:${f.line}`);
console.log(`log scan: ${findings.length} finding(s) in ${logDir}`);
const total = { passed: 0, failed: 0, skipped: 0 };
for (const run of runs) {
  total.passed += run.counts?.passed ?? 0;
  total.failed += run.counts?.failed ?? (run.code === 0 ? 0 : 1);
  total.skipped += run.counts?.skipped ?? 0;
}
console.log(`\n${closingLine(total)}`);
if (split && total.passed + total.failed === 0) console.error("no tests matched");
const failed = findings.length > 0 || (split && total.passed + total.failed === 0);
process.exit(failed ? 1 : (runs.find((r) => r.code !== 0)?.code ?? 0));
