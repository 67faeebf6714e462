// What a person does with a plan: pause and resume, retry after a failure, keep to maintenance
// windows, and hold the rollout on a health check of their own.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { checkAndStopAfterEach, type PlanStatusView, Scenario } from "../../testkit/e2e/scenario.ts";

describe("controls, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("pause holds new nodes and resume finishes the plan", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    await scenario.apply({ talos: { version: "v1.12.4" }, paused: true });
    await scenario.waitFor("jsonpath={.status.phase}=Paused", 60);
    expect(scenario.condition(await scenario.status(), "Ready")?.reason).toBe("Paused");
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0, 0]);
    await kubectl(["patch", "tup", scenario.name, "--type=merge", "-p", '{"spec":{"paused":false}}']);
    await scenario.waitFor("condition=Ready");
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1, 1]);
  });

  it("a plan deleted mid-rollout lets the node in flight finish, releases every cordon, then goes", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 3 });
    await scenario.apply({ talos: { version: "v1.12.4" } });
    let inFlight = "";
    await waitUntil(
      "a worker in flight",
      async () => {
        const nodes = (await scenario.status()).nodes ?? [];
        inFlight =
          nodes.find(
            (n) =>
              n.name !== scenario.node("cp-1") && ["Draining", "Upgrading", "Rebooting"].includes(n.state),
          )?.name ?? "";
        return inFlight !== "";
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const finalizers = await kubectl(["get", "tup", scenario.name, "-o", "jsonpath={.metadata.finalizers}"]);
    expect(finalizers.stdout).toContain("upgrade.talos-operator.dev/release-cordons");
    await kubectl(["delete", "tup", scenario.name, "--wait=false"]);
    await waitUntil(
      "the deleted plan gone",
      async () =>
        (await kubectl(["get", "tup", scenario.name, "--ignore-not-found", "-o", "name"])).stdout === "",
      { timeoutMs: 60_000, intervalMs: 200, describe: () => scenario.operator.logs() },
    );
    expect(await scenario.cordonedNodes()).toEqual([]);
    const calls = scenario.recorder.upgradeCalls();
    // The node in flight finished on the target; no node started after the deletion.
    expect(scenario.fleet.nodes().find((n) => n.hostname === inFlight)?.version).toBe("v1.12.4");
    expect(calls[inFlight]).toBe(1);
    const started = Object.entries(calls)
      .filter(([, count]) => count > 0)
      .map(([name]) => name);
    expect(started).toContain(scenario.node("cp-1"));
    expect(started.length).toBeLessThan(4);
  });

  it("the retry annotation retries a failed node, once; a webhook is told of the start, the failure, the stall and the completion, at least once across an operator SIGKILL", async () => {
    // A receiver that refuses until told otherwise, behind a URL in a Secret.
    let accepting = false;
    const received: { event: string; node?: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (!accepting) return void res.writeHead(503).end();
        received.push(JSON.parse(body) as { event: string; node?: string });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/t0ken`;
      await kubectl([
        "create",
        "secret",
        "generic",
        `${scenario.name}-hook`,
        "-n",
        "default",
        `--from-literal=url=${url}`,
      ]);
      scenario.fleet.inject(scenario.node("worker-1"), { bootFailure: true });
      await scenario.apply({
        talos: { version: "v1.12.4" },
        rollout: { nodeTimeout: "2m" },
        notifications: [
          { name: "oncall", urlSecretRef: { name: `${scenario.name}-hook`, namespace: "default" } },
        ],
      });
      await scenario.waitFor("jsonpath={.status.phase}=Failed", 90);
      // Nothing is retried blindly: the failed node waits for a person. Seen on a later pass over
      // the failed plan: the notifier wakes the plan after each refused delivery, and the pass that
      // follows writes the attempt into status, with its decision for the node (a retry decided
      // there would show in the same status).
      type Owed = PlanStatusView & {
        notifications?: { pending: { event: string }[]; lastError?: string };
      };
      const attempt = (s: Owed) =>
        Number(/\(attempt (\d+),/.exec(s.notifications?.lastError ?? "")?.[1] ?? 0);
      const attemptAtFailure = attempt(await scenario.status());
      let owed: Owed = {};
      await waitUntil(
        "a later pass over the failed plan",
        async () => {
          owed = await scenario.status();
          return attempt(owed) > attemptAtFailure;
        },
        { timeoutMs: 60_000, intervalMs: 200, describe: () => JSON.stringify(owed, null, 1) },
      );
      expect(owed.phase).toBe("Failed");
      expect(owed.nodes?.find((n) => n.name === scenario.node("worker-1"))).toMatchObject({
        state: "Failed",
        attempts: 1,
      });
      expect(scenario.recorder.upgradeCalls()[scenario.node("worker-1")]).toBe(1);
      // Refused so far: what is owed waits in status, with the receiver's failure (not its URL).
      expect(owed.notifications?.pending.map((p) => p.event)).toEqual(["Started", "NodeFailed", "Stalled"]);
      expect(owed.notifications?.lastError).toMatch(/^oncall: HTTP 503/);
      expect(JSON.stringify(owed)).not.toContain("t0ken");
      // The operator dies; its successor delivers what status still owes.
      await scenario.operator.kill();
      accepting = true;
      scenario.startOperator({}, "operator-2");
      await waitUntil("the owed notifications delivered", async () => received.length >= 3, {
        timeoutMs: 30_000,
      });
      await kubectl(["annotate", "tup", scenario.name, "upgrade.talos-operator.dev/retry=1"]);
      await scenario.waitFor("condition=Ready");
      const worker = (await scenario.status()).nodes?.find((n) => n.name === scenario.node("worker-1"));
      expect(worker).toMatchObject({ state: "Done", attempts: 2 });
      expect(scenario.recorder.upgradeCalls()[scenario.node("worker-1")]).toBe(2);
      await waitUntil("the completion told", async () => received.some((r) => r.event === "Completed"), {
        timeoutMs: 30_000,
      });
      expect(received.map((r) => [r.event, r.node])).toEqual([
        ["Started", undefined],
        ["NodeFailed", scenario.node("worker-1")],
        ["Stalled", undefined],
        ["Completed", undefined],
      ]);
    } finally {
      await kubectl(["delete", "secret", `${scenario.name}-hook`, "-n", "default", "--ignore-not-found"]);
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("waits outside its maintenance window and says when the next one opens", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const hour = (new Date().getUTCHours() + 12) % 24;
    await scenario.apply({
      talos: { version: "v1.12.4" },
      maintenanceWindows: [{ schedule: `0 ${hour} * * *`, duration: "1h", timeZone: "UTC" }],
    });
    await scenario.waitFor("jsonpath={.status.phase}=WaitingForWindow", 60);
    const status = (await scenario.status()) as { nextWindow?: string };
    expect(new Date(status.nextWindow ?? "").getUTCHours()).toBe(hour);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0]);
  });

  it("a talosconfig Secret that does not exist stalls the plan with a reason", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 0 });
    await scenario.apply({
      talos: { version: "v1.12.4" },
      talosConfig: { secretRef: { name: "missing-talosconfig", namespace: "default" } },
    });
    await scenario.waitFor("condition=Stalled", 60);
    const stalled = scenario.condition(await scenario.status(), "Stalled");
    expect(stalled).toMatchObject({ reason: "TalosConfigError" });
    expect(stalled?.message).toBe("secret default/missing-talosconfig key config: not found");
  });

  it("a talosconfig from a Secret is used instead of the mounted one", async () => {
    scenario = await new Scenario().start({
      controlPlanes: 1,
      workers: 0,
      operatorEnv: { TALOSCONFIG: "/nonexistent" },
    });
    const secret = await scenario.putTalosconfigSecret(scenario.fleet.talosconfig.admin);
    await scenario.apply({
      talos: { version: "v1.12.4" },
      talosConfig: { secretRef: { name: secret, namespace: "default" } },
    });
    await scenario.waitFor("condition=Ready");
    await kubectl(["delete", "secret", secret, "-n", "default"]);
  });

  it("a CEL health check holds the rollout until the object it reads is healthy", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const configMap = `${scenario.name}-storage`;
    await kubectl(["create", "configmap", configMap, "-n", "default", "--from-literal=health=HEALTH_WARN"]);
    // As a user must: let the operator read what the check reads.
    await scenario.grantGet("configmaps", configMap);
    await scenario.apply({
      talos: { version: "v1.12.4" },
      healthChecks: {
        cel: [
          {
            name: "storage",
            resource: { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: configMap },
            expression: "object.data.health == 'HEALTH_OK'",
          },
        ],
      },
    });
    await scenario.waitFor("condition=HealthChecksPassing=False", 60);
    const held = await scenario.status();
    expect(scenario.condition(held, "HealthChecksPassing")?.message).toContain(
      "cel/storage: failed: the expression is false",
    );
    expect(scenario.condition(held, "Reconciling")?.reason).toBe("WaitingForHealthChecks");
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0]);
    await kubectl([
      "patch",
      "configmap",
      configMap,
      "-n",
      "default",
      "--type=merge",
      "-p",
      '{"data":{"health":"HEALTH_OK"}}',
    ]);
    await scenario.waitFor("condition=Ready");
    await kubectl(["delete", "configmap,role,rolebinding", configMap, "-n", "default"]);
  });

  it("a Talos diagnostic on any node holds the rollout, naming the node and the diagnostic, as talosctl health would", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const worker = scenario.node("worker-2");
    scenario.fleet.inject(worker, {
      diagnostics: [
        { id: "address-overlap", message: "host and Kubernetes pod/service CIDR addresses overlap" },
      ],
    });
    await scenario.apply({ talos: { version: "v1.12.4" } });
    await scenario.waitFor("condition=HealthChecksPassing=False", 60);
    const held = await scenario.status();
    expect(scenario.condition(held, "HealthChecksPassing")?.message).toContain(
      `${worker} has Talos diagnostics: address-overlap: host and Kubernetes pod/service CIDR addresses overlap`,
    );
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0, 0]);
    scenario.fleet.inject(worker, { diagnostics: [] });
    await scenario.waitFor("condition=Ready", 180);
  });
});
