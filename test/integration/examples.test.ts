// Every example plan is valid: the real apiserver accepts it (server-side dry run).
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { sharedKubeconfigPath } from "../harness/shared-control-plane.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "deploy", "examples")).filter((f) => f.endsWith(".yaml"));

beforeAll(async () => {
  await run("kubectl", [
    "--kubeconfig",
    sharedKubeconfigPath(),
    "apply",
    "--server-side",
    "-f",
    join(root, "deploy", "crds"),
  ]);
  await run("kubectl", [
    "--kubeconfig",
    sharedKubeconfigPath(),
    "wait",
    "--for=condition=Established",
    "crd/talosupgradeplans.upgrade.talos-operator.dev",
  ]);
});

it.each(examples)("deploy/examples/%s is accepted by the apiserver", async (file) => {
  const { stdout } = await run("kubectl", [
    "--kubeconfig",
    sharedKubeconfigPath(),
    "apply",
    "--dry-run=server",
    "-f",
    join(root, "deploy", "examples", file),
  ]);
  expect(stdout).toMatch(/talosupgradeplan\.upgrade\.talos-operator\.dev\/\S+ created \(server dry run\)/);
});
