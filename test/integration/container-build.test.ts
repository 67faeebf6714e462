// No container engine runs here, so the Dockerfile's steps are replayed in folders: build stage
// (npm ci, npm run build), production install (npm ci --omit=dev), and the runtime layout with a
// read-only tree. The built entry point must answer --help, serve /healthz and stop on SIGTERM.
import { execFile } from "node:child_process";
import { chmodSync, cpSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts, logTail, startProcess } from "../../testkit/control-plane/process.ts";
import { scratchDir, sharedKubeconfigPath } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { entrypointNodeFlags } from "../../testkit/e2e/image-entrypoint.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const npm = (args: string[], cwd: string) =>
  run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], { cwd, timeout: 600_000 });

it("builds and runs the way the Dockerfile does, on a read-only tree", async () => {
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toContain("npm ci --omit=dev");
  expect(dockerfile).toContain("RUN npm run build");

  const build = scratchDir("image-build");
  for (const item of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "src",
    "proto",
    "scripts",
  ]) {
    cpSync(join(root, item), join(build, item), { recursive: true });
  }
  await npm(["ci", "--ignore-scripts"], build);
  await npm(["run", "build"], build);

  const app = scratchDir("image-app");
  cpSync(join(root, "package.json"), join(app, "package.json"));
  cpSync(join(root, "package-lock.json"), join(app, "package-lock.json"));
  await npm(["ci", "--omit=dev", "--ignore-scripts"], app);
  cpSync(join(build, "dist"), join(app, "dist"), { recursive: true });
  cpSync(join(root, "proto"), join(app, "proto"), { recursive: true });
  chmodSync(app, 0o555);

  const entry = join(app, "dist", "src", "main.js");
  // The build's compacted client library is the one the operator loads.
  expect(createRequire(entry).resolve("@kubernetes/client-node")).toBe(
    join(app, "dist", "node_modules", "@kubernetes", "client-node", "dist", "index.js"),
  );
  const flags = entrypointNodeFlags();
  const help = await run(process.execPath, [...flags, entry, "--help"], { cwd: app });
  expect(help.stdout).toContain("Usage: talos-upgrade-operator");

  const [port] = await freePorts(1);
  const logFile = join(scratchDir("image-run"), "operator.log");
  const operator = startProcess("operator", process.execPath, [...flags, entry], {
    logFile,
    env: {
      PATH: process.env.PATH,
      HOME: "/nonexistent",
      KUBECONFIG: sharedKubeconfigPath(),
      TALOSCONFIG: "/nonexistent/talosconfig",
      LEADER_ELECTION: "false",
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: String(port),
      PLAN_SELECTOR: "test=container-build",
    },
  });
  try {
    await waitUntil(
      "the built operator serves /healthz",
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
      {
        timeoutMs: 30_000,
        alive: operator.running,
        describe: () => logTail(logFile),
      },
    );
  } finally {
    await operator.stop(10_000);
    chmodSync(app, 0o755);
  }
  expect(await operator.exited).toBe(0);
}, 900_000);
