// Prints the run's plain closing line ("tests: N passed, N failed, N skipped"), the summary CI reads,
// after the slowest tests of the run: CI has a time budget, and this says where it goes.
const slowestShown = 15;

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const timed = results.testResults.flatMap((file) =>
      file.testResults.map((t) => ({
        name: `${file.testFilePath.split("/test/").pop()} › ${t.title}`,
        ms: t.duration ?? 0,
      })),
    );
    const slowest = timed.sort((a, b) => b.ms - a.ms).slice(0, slowestShown);
    if (slowest.length > 1) {
      process.stdout.write("\nslowest tests:\n");
      for (const t of slowest) process.stdout.write(`${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.name}\n`);
    }
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`,
    );
  }
}
