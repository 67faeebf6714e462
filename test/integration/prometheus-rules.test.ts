// The chart's PrometheusRule groups, rendered by helm as users install them, pass the real
// `promtool check rules`; and the check is not a formality: a rule with a broken expression fails it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartRuleGroups, promtool, writeRulesFile } from "../../testkit/control-plane/prometheus.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tuo-promtool-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("promtool check rules passes on the chart's rule groups", async () => {
  const groups = await chartRuleGroups();
  const alerts = groups.flatMap((g) => g.rules.map((r) => r.alert));
  expect(alerts).toEqual(expect.arrayContaining(["TalosUpgradePlanFailed", "TalosUpgradeOperatorAbsent"]));
  const file = writeRulesFile(join(dir, "chart-rules.yaml"), groups);
  const check = await promtool(["check", "rules", file]);
  expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: "" });
  expect(check.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
});

it("promtool check rules fails, naming the rule, when an expression of the chart's does not parse", async () => {
  const groups = await chartRuleGroups();
  const [first] = groups;
  const rule = first?.rules[0];
  if (!first || !rule) throw new Error("the chart has no rule");
  const broken = [
    { ...first, rules: [{ ...rule, expr: `${String(rule.expr)} ==` }, ...first.rules.slice(1)] },
  ];
  const check = await promtool(["check", "rules", writeRulesFile(join(dir, "broken-rules.yaml"), broken)]);
  expect(check.code).toBe(1);
  const output = `${check.stdout}\n${check.stderr}`;
  expect(output).toMatch(/FAILED[\s\S]*parse error/);
  expect(output).toContain(`"${String(rule.alert)}"`);
});
