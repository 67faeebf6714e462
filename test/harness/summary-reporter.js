// Prints the run's plain closing line ("tests: N passed, N failed, N skipped"), the summary CI reads,
// after the slowest tests of the run: CI has a time budget, and this says where it goes.
import { writeFileSync } from "node:fs";
import { relative } from "node:path";

const slowestShown = 15;
export const countsFileEnv = "TUO_TEST_COUNTS_FILE";

/** @param {{ passed: number, failed: number, skipped: number }} c */
export const closingLine = (c) => `tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const timed = results.testResults.flatMap((file) =>
      file.testResults.map((t) => ({
        name: `${relative(process.cwd(), file.testFilePath)} › ${t.title}`,
        ms: t.duration ?? 0,
      })),
    );
    const slowest = timed.sort((a, b) => b.ms - a.ms).slice(0, slowestShown);
    if (slowest.length > 1) {
      process.stdout.write("\nslowest tests:\n");
      for (const t of slowest) process.stdout.write(`${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.name}\n`);
    }
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    // Under run-tests.ts with the unit tests in a jest of their own, it adds both runs' counts.
    const countsFile = process.env[countsFileEnv];
    if (countsFile) writeFileSync(countsFile, JSON.stringify(counts));
    else process.stdout.write(`\n${closingLine(counts)}\n`);
  }
}
