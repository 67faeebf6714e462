// A real Prometheus scrapes a running operator process's /metrics and loads the chart's rule groups
// (rendered by helm): it holds a series of every metric the operator exposes, and every rule
// evaluates without error, none pending or firing while the operator runs and leads.
import { join } from "node:path";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { freePorts } from "../../testkit/control-plane/process.ts";
import {
  chartRuleGroups,
  type PrometheusServer,
  startPrometheus,
} from "../../testkit/control-plane/prometheus.ts";
import { sharedKubeconfigPath, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { startOperator } from "../../testkit/e2e/operator-process.ts";

/** The metric names of the samples in a Prometheus text exposition. */
function exposedNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.split(/[{\s]/, 1)[0] ?? ""),
  );
}

it("Prometheus scrapes the operator's metrics and loads the chart's rules with no error", async () => {
  await kubectl(["apply", "--server-side", "-f", join(import.meta.dirname, "..", "..", "deploy", "crds")]);
  const groups = await chartRuleGroups();
  const [port] = await freePorts(1);
  const selector = uniqueName("scraped");
  const operator = startOperator({
    kubeconfig: sharedKubeconfigPath(),
    talosconfig: "/nonexistent/talosconfig",
    planSelector: `test=${selector}`,
    identity: selector,
    env: { METRICS_PORT: String(port) },
  });
  let prometheus: PrometheusServer | undefined;
  try {
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await waitUntil(
      "the operator leads",
      async () => (await (await fetch(metricsUrl)).text()).includes("talos_upgrade_leader 1"),
      { timeoutMs: 30_000, alive: operator.running, describe: operator.logs },
    );
    prometheus = await startPrometheus({
      scrape: [{ job: "talos-upgrade-operator", targets: [`127.0.0.1:${port}`] }],
      ruleGroups: groups,
    });
    const server = prometheus;
    const exposed = exposedNames(await (await fetch(metricsUrl)).text());
    expect(exposed).toContain("talos_upgrade_reconcile_duration_seconds_bucket");
    let missing: string[] = [];
    await waitUntil(
      "Prometheus holds every metric the operator exposes",
      async () => {
        const names = new Set(
          await (
            await fetch(
              `${server.url}/api/v1/label/__name__/values?match[]=${encodeURIComponent('{job="talos-upgrade-operator"}')}`,
            )
          )
            .json()
            .then((body) => (body as { data: string[] }).data),
        );
        missing = [...exposed].filter((name) => !names.has(name));
        return missing.length === 0;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 250,
        describe: () => `missing: ${missing.join(", ")}\n${server.logs()}`,
      },
    );
    expect(await server.query('up{job="talos-upgrade-operator"}')).toEqual([
      expect.objectContaining({ value: [expect.any(Number), "1"] }),
    ]);
    const [info] = await server.query("talos_upgrade_build_info");
    expect(info?.metric).toMatchObject({ version: "0.1.0", job: "talos-upgrade-operator" });
    expect((await server.query("talos_upgrade_leader"))[0]?.value[1]).toBe("1");
    expect(await server.query("talos_upgrade_reconcile_errors_total")).toHaveLength(1);

    // Every rule evaluated (health "ok", not "unknown") and none of the alerts pending or firing.
    let loaded = await server.rules();
    await waitUntil(
      "every rule evaluated, no alert active",
      async () => {
        loaded = await server.rules();
        const rules = loaded.flatMap((g) => g.rules);
        return rules.length > 0 && rules.every((r) => r.health === "ok" && r.state === "inactive");
      },
      { timeoutMs: 20_000, intervalMs: 250, describe: () => JSON.stringify(loaded, null, 1) },
    );
    expect(loaded.map((g) => g.name)).toEqual(groups.map((g) => g.name));
    expect(loaded.flatMap((g) => g.rules.map((r) => r.name))).toEqual(
      groups.flatMap((g) => g.rules.map((r) => r.alert)),
    );
    expect(loaded.flatMap((g) => g.rules.filter((r) => r.lastError))).toEqual([]);
  } finally {
    await prometheus?.stop();
    await operator.stop(10_000);
  }
});
