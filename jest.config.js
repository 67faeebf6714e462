// TypeScript is compiled by swc here (type checking is `npm run typecheck`); tests run as native ESM.
const shared = {
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2024" }, module: { type: "es6" } }] },
  testEnvironment: "node",
};

/** @type {import("jest").Config} */
export default {
  projects: [
    { ...shared, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...shared,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
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
