// The operator process itself: settings errors name the variable, /healthz /readyz /metrics
// answer, it leads through its Lease, and SIGTERM stops it cleanly and hands the lease back.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { freePorts } from "../../testkit/control-plane/process.ts";
import {
  adminKubeConfig,
  sharedKubeconfigPath,
  uniqueName,
} from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { startOperator } from "../../testkit/e2e/operator-process.ts";

const run = promisify(execFile);
const main = join(import.meta.dirname, "..", "..", "src", "main.ts");

it("answers --help with its settings, and refuses a bad setting naming the variable", async () => {
  const help = await run(process.execPath, [main, "--help"]);
  expect(help.stdout).toContain("TALOSCONFIG");
  expect(help.stdout).toContain("METRICS_PORT");
  await expect(
    run(process.execPath, [main], { env: { ...process.env, METRICS_PORT: "eighty" } }),
  ).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining("METRICS_PORT"),
  });
});

it("serves health and metrics, leads through its Lease, and stops cleanly on SIGTERM", async () => {
  // Installed as a user would: the CRD first.
  await kubectl(["apply", "--server-side", "-f", join(import.meta.dirname, "..", "..", "deploy", "crds")]);
  const [port] = await freePorts(1);
  const selector = uniqueName("process");
  const operator = startOperator({
    kubeconfig: sharedKubeconfigPath(),
    talosconfig: "/nonexistent/talosconfig",
    planSelector: `test=${selector}`,
    identity: selector,
    env: { METRICS_PORT: String(port) },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil("the operator is ready", async () => (await fetch(`${base}/readyz`)).ok, {
      timeoutMs: 30_000,
      alive: operator.running,
      describe: operator.logs,
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await waitUntil(
      "the operator leads",
      async () => (await (await fetch(`${base}/metrics`)).text()).includes("talos_upgrade_leader 1"),
      { timeoutMs: 30_000, describe: operator.logs },
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/talos_upgrade_build_info\{version="0\.1\.0"\} 1/);
    // Logs are written asynchronously: the line may trail the metric.
    await waitUntil("the log says it leads", async () => /"msg":"leading"/.test(operator.logs()), {
      timeoutMs: 10_000,
    });
  } finally {
    await operator.stop(10_000);
  }
  expect(await operator.exited).toBe(0);
  const lease = await adminKubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({
      namespace: "default",
      name: `tuo-test-${selector}`.replace(/[^a-z0-9-]/g, "-").slice(0, 63),
    });
  expect(lease.spec?.holderIdentity).toBe("");
});
