// Every example plan is valid: the real apiserver accepts it (server-side dry run).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubectl } from "../harness/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "deploy", "examples")).filter((f) => f.endsWith(".yaml"));

beforeAll(async () => {
  await kubectl(["apply", "--server-side", "-f", join(root, "deploy", "crds")]);
  await kubectl(["wait", "--for=condition=Established", "crd/talosupgradeplans.upgrade.talos-operator.dev"]);
});

it.each(examples)("deploy/examples/%s is accepted by the apiserver", async (file) => {
  const { stdout } = await kubectl([
    "apply",
    "--dry-run=server",
    "-f",
    join(root, "deploy", "examples", file),
  ]);
  expect(stdout).toMatch(/talosupgradeplan\.upgrade\.talos-operator\.dev\/\S+ created \(server dry run\)/);
});

// The plans the README shows are accepted too, so that none goes stale.
const readmePlans = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? "")
  .filter((block) => /^kind: TalosUpgradePlan$/m.test(block));

it("the README shows plans", () => {
  expect(readmePlans.length).toBeGreaterThanOrEqual(2);
});

it.each(readmePlans.map((plan, i) => [i + 1, plan]))(
  "README plan %i is accepted by the apiserver",
  async (_i, plan) => {
    const { stdout } = await kubectl(["apply", "--dry-run=server", "-f", "-"], plan as string);
    expect(stdout).toMatch(/created \(server dry run\)/);
  },
);
