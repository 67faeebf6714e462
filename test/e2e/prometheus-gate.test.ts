// The Prometheus health gate against a real Prometheus: an alerting rule fires from a metric the
// test serves, and the plan's check (no such alert firing) holds the rollout before any node is
// touched; once the metric changes and Prometheus resolves the alert, the rollout goes on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type PrometheusServer, startPrometheus } from "../harness/prometheus.ts";
import { waitUntil } from "../harness/wait.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

describe("the Prometheus gate, against a real Prometheus", () => {
  let scenario: Scenario | undefined;
  let prometheus: PrometheusServer | undefined;
  let target: Server | undefined;

  checkAndStopAfterEach(() => scenario);
  afterEach(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => (target ? target.close(resolve) : resolve(undefined)));
    prometheus = undefined;
    target = undefined;
  });

  it("a firing alert holds the rollout, naming the check; when it resolves the plan completes", async () => {
    // What Prometheus scrapes: one gauge the test sets.
    let hold = 1;
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      response.end(`# TYPE hold gauge\nhold ${hold}\n`);
    });
    target = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const started = await startPrometheus({
      scrape: [{ job: "hold", targets: [`127.0.0.1:${port}`] }],
      ruleGroups: [{ name: "test", rules: [{ alert: "TestHold", expr: "hold == 1", for: "0s" }] }],
    });
    prometheus = started;
    const query = 'ALERTS{alertname="TestHold",alertstate="firing"}';
    const firing = async () => (await started.query(query)).length > 0;
    await waitUntil("TestHold fires", firing, { timeoutMs: 15_000, describe: started.logs });

    const world = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    scenario = world;
    await world.apply({
      talos: { version: "v1.12.4" },
      healthChecks: { prometheus: [{ name: "no-test-hold", url: started.url, query, expect: "Empty" }] },
    });
    await world.waitFor("condition=HealthChecksPassing=False", 60);
    const held = await world.status();
    expect(world.condition(held, "HealthChecksPassing")).toMatchObject({
      reason: "HealthChecksFailing",
      message: expect.stringContaining("prometheus/no-test-hold: 1 series returned: TestHold"),
    });
    expect(world.condition(held, "Reconciling")).toMatchObject({
      reason: "WaitingForHealthChecks",
      message: expect.stringContaining("prometheus/no-test-hold"),
    });
    // Still firing, and no node was called while it was.
    expect(await firing()).toBe(true);
    expect(Object.values(world.recorder.upgradeCalls())).toEqual([0, 0]);
    expect(await world.cordonedNodes()).toEqual([]);

    hold = 0;
    await waitUntil("TestHold resolves", async () => !(await firing()), {
      timeoutMs: 15_000,
      describe: started.logs,
    });
    await world.waitFor("condition=Ready", 60);
    expect(world.condition(await world.status(), "HealthChecksPassing")?.status).toBe("True");
    expect(Object.values(world.recorder.upgradeCalls())).toEqual([1, 1]);
  });
});
