// Every metric the alerts and the dashboard use is one the operator exports.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { makeMetrics } from "../../../src/observability/metrics.ts";

const dir = join(import.meta.dirname, "..", "..", "..", "charts", "talos-upgrade-operator", "files");

async function exported(): Promise<Set<string>> {
  const metrics = makeMetrics("test");
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const used = (expressions: string[]) =>
  new Set(expressions.flatMap((e) => e.match(/\btalos_upgrade_[a-z_]+/g) ?? []));

it("the PrometheusRule alerts use only exported metrics", async () => {
  const rule = parse(readFileSync(join(dir, "prometheusrule.yaml"), "utf8")) as {
    spec: { groups: { rules: { expr: string }[] }[] };
  };
  const names = used(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr)));
  expect(names.size).toBeGreaterThan(3);
  const known = await exported();
  expect([...names].filter((n) => !known.has(n))).toEqual([]);
});

it("the Grafana dashboard uses only exported metrics, and shows every operator metric", async () => {
  const dashboard = JSON.parse(readFileSync(join(dir, "grafana-dashboard.json"), "utf8")) as {
    panels: { targets: { expr: string }[] }[];
  };
  const names = used(dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)));
  const known = await exported();
  expect([...names].filter((n) => !known.has(n))).toEqual([]);
  const ours = [...known].filter((n) => n.startsWith("talos_upgrade_") && !/_(sum|count)$/.test(n));
  const shown = new Set([...names].map((n) => n.replace(/_(bucket|sum|count)$/, "")));
  expect(ours.map((n) => n.replace(/_bucket$/, "")).filter((n) => !shown.has(n))).toEqual([]);
});
