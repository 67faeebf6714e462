// Every example plan is valid: the real apiserver accepts it (server-side dry run).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubectl, waitEstablished } from "../../testkit/control-plane/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "deploy", "examples")).filter((f) => f.endsWith(".yaml"));

beforeAll(async () => {
  await kubectl(["apply", "--server-side", "-f", join(root, "deploy", "crds")]);
  await waitEstablished("talosupgradeplans.upgrade.talos-operator.dev");
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

// The plans README.md and docs/ show are accepted too, so that none goes stale.
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const shownPlans = pages.flatMap((page) =>
  [...readFileSync(join(root, page), "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .filter((block) => /^kind: TalosUpgradePlan$/m.test(block))
    .map((plan, i) => [`${page} plan ${i + 1}`, plan] as const),
);

it("README.md and docs/ show plans, a first one in README.md", () => {
  expect(shownPlans.length).toBeGreaterThanOrEqual(4);
  expect(shownPlans.map(([name]) => name)).toContain("README.md plan 1");
});

it.each(shownPlans)("%s is accepted by the apiserver", async (_name, plan) => {
  const { stdout } = await kubectl(["apply", "--dry-run=server", "-f", "-"], plan);
  expect(stdout).toMatch(/created \(server dry run\)/);
});
