// An Alertmanager silence held while the plan runs, against a real Alertmanager: created with the
// plan's matchers and the nodes in flight, rewritten as they change, one at a time across an
// operator SIGKILL, and expired when the plan completes.
import { type AlertmanagerServer, type Silence, startAlertmanager } from "../harness/alertmanager.ts";
import { waitUntil } from "../harness/wait.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

describe("alert silences, end to end", () => {
  let scenario: Scenario;
  let alertmanager: AlertmanagerServer | undefined;

  checkAndStopAfterEach(() => scenario);

  afterEach(async () => {
    await alertmanager?.stop();
    alertmanager = undefined;
  });

  it("holds one silence naming the nodes in flight while the plan runs, across an operator SIGKILL, and expires it at the end", async () => {
    const am = await startAlertmanager();
    alertmanager = am;
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const ours = (silences: Silence[]) =>
      silences.filter(
        (s) => s.createdBy === "talos-upgrade-operator" && s.comment.startsWith(`plan ${scenario.name} `),
      );
    const active = async () => ours(await am.silences()).filter((s) => s.status.state === "active");

    // Watch what Alertmanager holds all along: how many of ours are active at once, and which nodes.
    let watching = true;
    let most = 0;
    const named = new Set<string>();
    const withoutPlanMatcher: string[] = [];
    const watcher = (async () => {
      while (watching) {
        const now = await active().catch(() => []);
        most = Math.max(most, now.length);
        for (const s of now) {
          const plans = s.matchers.some((m) => m.name === "severity" && m.value === "warning" && !m.isRegex);
          if (!plans) withoutPlanMatcher.push(s.id);
          const nodes = s.matchers.find((m) => m.name === "node");
          for (const node of nodes?.value.split("|") ?? []) named.add(node);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await scenario.apply({
      talos: { version: "v1.12.4" },
      silence: {
        alertmanagerUrl: am.url,
        matchers: [{ name: "severity", value: "warning" }],
        nodeLabel: "node",
        duration: "2m",
      },
    });
    await waitUntil("a silence for a node in flight", async () => (await active()).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    // The operator dies with a silence held; its successor finds it instead of making another.
    await scenario.operator.kill();
    scenario.startOperator({}, "operator-2");
    await scenario.waitFor("condition=Ready", 180);
    await waitUntil("the silences expired", async () => (await active()).length === 0, { timeoutMs: 30_000 });
    watching = false;
    await watcher;

    expect(most).toBe(1);
    expect(withoutPlanMatcher).toEqual([]);
    // Every node was named while it was in flight (one at a time: maxUnavailable 1).
    expect([...named].sort()).toEqual(["cp-1", "worker-1", "worker-2"].map((n) => scenario.node(n)).sort());
    const all = ours(await am.silences());
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((s) => s.status.state === "expired")).toBe(true);
    const status = (await scenario.status()) as { silence?: unknown };
    expect(status.silence).toBeUndefined();
  });
});
