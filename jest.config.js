// Three projects, named as test/harness/run-tests.ts and CI expect them:
//   unit         test/unit/ (mirrors src/), plus `*.unit.test.ts` under testkit/ and bench/: pure
//                code, no control plane, no tool from the tool cache.
//   integration  test/integration/, plus every other `*.test.ts` under testkit/ and bench/: they may
//                use the control plane the global setup starts for the run, and any tool.
//   e2e          test/e2e/: the operator as a process, with a control plane of its own.
// So a test of the kit (testkit/) or the bench sits beside what it tests, and its file name says its
// project: `x.unit.test.ts` is a unit test, `x.test.ts` an integration test.
// TypeScript is compiled by swc here (type checking is `npm run typecheck`); tests run as native ESM.
const shared = {
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2024" }, module: { type: "es6" } }] },
  testEnvironment: "node",
};

/** @type {import("jest").Config} */
export default {
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: [
        "<rootDir>/test/unit/**/*.test.ts",
        "<rootDir>/testkit/**/*.unit.test.ts",
        "<rootDir>/bench/**/*.unit.test.ts",
      ],
    },
    {
      ...shared,
      displayName: "integration",
      testMatch: [
        "<rootDir>/test/integration/**/*.test.ts",
        "<rootDir>/testkit/**/*.test.ts",
        "<rootDir>/bench/**/*.test.ts",
        "!**/*.unit.test.ts",
      ],
      globalSetup: "<rootDir>/test/harness/global-setup.ts",
      globalTeardown: "<rootDir>/test/harness/global-teardown.ts",
    },
    {
      ...shared,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      globalSetup: "<rootDir>/test/harness/e2e-setup.ts",
      globalTeardown: "<rootDir>/test/harness/e2e-teardown.ts",
    },
  ],
  reporters: ["default", "<rootDir>/test/harness/summary-reporter.js"],
  testTimeout: 60_000,
};
