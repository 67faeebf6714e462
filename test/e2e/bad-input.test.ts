// The bad input corpus, run-time half: plans that admission cannot judge (time zones, cron dates,
// unreachable Prometheus, CEL that does not compile or throws, talosconfig Secrets that are missing,
// malformed, expired or from another CA) all go to one operator process beside a good plan. Each
// bad plan stalls with a reason and a message saying what is wrong, touches no node and holds no
// other plan back; the good plan completes and the operator never restarts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { createAuthority, issueCertificate } from "../../testkit/control-plane/pki.ts";
import { scratchDir } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { renderTalosconfig } from "../../testkit/fleet/talosconfig.ts";

const target = { version: "v1.12.4" };
// The bad plans aim one patch further, so the good plan's work does not complete them for them.
const talos = { version: "v1.12.5" };
const dayMs = 24 * 60 * 60 * 1000;

describe("bad input, end to end", () => {
  let scenario: Scenario;
  const secrets: string[] = [];

  checkAndStopAfterEach(() => scenario);
  afterAll(async () => {
    for (const secret of secrets)
      await kubectl(["delete", "secret", secret, "-n", "default", "--ignore-not-found"]);
  });

  /** A Secret holding `text` as its talosconfig; returns the plan's talosConfig field. */
  async function talosconfigSecret(suffix: string, text: string) {
    const name = `${scenario.name}-${suffix}`;
    const file = join(scratchDir("talosconfig"), "config");
    writeFileSync(file, text, { mode: 0o600 });
    await kubectl(["create", "secret", "generic", name, "-n", "default", `--from-file=config=${file}`]);
    secrets.push(name);
    return { secretRef: { name, namespace: "default" } };
  }

  it("stalls every bad plan with a reason, keeps serving, and completes a good plan beside them", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const { fleet } = scenario;
    const endpoints = fleet.controlPlanes().map((n) => n.address);
    const client = { commonName: "operator", organizations: ["os:admin"], usage: "client" as const };
    const otherCa = await createAuthority("another-cluster", "ed25519");
    const expired = await issueCertificate(fleet.ca, {
      ...client,
      notBefore: new Date(Date.now() - 2 * dayMs),
      notAfter: new Date(Date.now() - dayMs),
    });
    const foreign = await issueCertificate(otherCa, client);
    const node = { apiVersion: "v1", kind: "Node", name: scenario.node("cp-1") };
    const quickGates = { timeout: "1s" };

    // [plan suffix, spec, Stalled reason, message]
    const corpus: [string, Record<string, unknown>, string, RegExp][] = [
      [
        "zone",
        { talos, maintenanceWindows: [{ schedule: "0 2 * * 6", duration: "4h", timeZone: "Mars/Olympus" }] },
        "InvalidTimeZone",
        /spec\.maintenanceWindows\[0\]\.timeZone: unknown time zone "Mars\/Olympus"/,
      ],
      [
        "never",
        { talos, maintenanceWindows: [{ schedule: "0 2 31 2 *", duration: "4h" }] },
        "InvalidSchedule",
        /spec\.maintenanceWindows\[0\]\.schedule: "0 2 31 2 \*" never starts a window/,
      ],
      [
        "minute",
        { talos, maintenanceWindows: [{ schedule: "61 2 * * *", duration: "4h" }] },
        "InvalidSchedule",
        /spec\.maintenanceWindows\[0\]\.schedule: .*minute/,
      ],
      [
        "prometheus",
        {
          talos,
          healthChecks: {
            ...quickGates,
            prometheus: [{ name: "alerts", url: "http://127.0.0.1:9", query: "ALERTS" }],
          },
        },
        "HealthCheckTimeout",
        /prometheus\/alerts: http:\/\/127\.0\.0\.1:9 unreachable/,
      ],
      [
        "cel-compile",
        { talos, healthChecks: { cel: [{ name: "broken", resource: node, expression: "object.status.(" }] } },
        "InvalidHealthCheck",
        /cel\/broken: expression does not compile/,
      ],
      [
        "cel-throws",
        {
          talos,
          healthChecks: {
            ...quickGates,
            cel: [{ name: "throws", resource: node, expression: "object.spec.noSuchField == 'x'" }],
          },
        },
        "HealthCheckTimeout",
        /cel\/throws: evaluation failed/,
      ],
      [
        "missing-secret",
        { talos, talosConfig: { secretRef: { name: `${scenario.name}-absent`, namespace: "default" } } },
        "TalosConfigError",
        /secret default\/\S+-absent key config: not found/,
      ],
      [
        "malformed",
        {
          talos,
          talosConfig: await talosconfigSecret(
            "malformed",
            "context: simulated\ncontexts:\n  simulated:\n    endpoints: []\n    ca: x\n",
          ),
        },
        "TalosConfigError",
        /key config: contexts\.simulated\.\S+ /,
      ],
      [
        "expired",
        {
          talos,
          talosConfig: await talosconfigSecret(
            "expired",
            renderTalosconfig({ name: "simulated", endpoints, caPem: fleet.ca.certPem, ...expired }),
          ),
        },
        "TalosConfigError",
        /key config: the client certificate expired at /,
      ],
      [
        "wrong-ca",
        {
          talos,
          talosConfig: await talosconfigSecret(
            "wrong-ca",
            renderTalosconfig({ name: "simulated", endpoints, caPem: fleet.ca.certPem, ...foreign }),
          ),
        },
        "TalosConfigError",
        /key config: the client certificate is not signed by the talosconfig's CA/,
      ],
    ];
    const plan = (suffix: string) => `${scenario.name}-${suffix}`;
    for (const [suffix, spec] of corpus) await scenario.apply(spec, {}, plan(suffix));
    // Accepted on purpose: an empty selector selects every node (shown by a dry run).
    await scenario.apply({ talos: target, nodeSelector: {}, dryRun: true }, {}, plan("everything"));
    // The good plan is the youngest: every bad one is older and would go first.
    await scenario.apply({ talos: target });

    await scenario.waitFor("condition=Ready", 180);
    // Held back while the good plan ran, the bad plans look again and stall, oldest first; in the
    // end all of them are stalled at once, each with its own reason.
    const stalledNow = async () => {
      const statuses = await Promise.all(corpus.map(([suffix]) => scenario.status(plan(suffix))));
      return corpus.map(([suffix], i) => {
        const stalled = scenario.condition(statuses[i] ?? {}, "Stalled");
        return {
          plan: suffix,
          status: statuses[i],
          stalled: stalled?.status === "True" ? stalled : undefined,
        };
      });
    };
    let outcome = await stalledNow();
    await waitUntil(
      "every bad plan stalled",
      async () => {
        outcome = await stalledNow();
        return outcome.every((o) => o.stalled);
      },
      {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        describe: () =>
          JSON.stringify(outcome.map((o) => ({ plan: o.plan, conditions: o.status?.conditions }))),
      },
    );
    for (const [i, [suffix, , reason, message]] of corpus.entries()) {
      const { stalled, status } = outcome[i] ?? {};
      expect({ plan: suffix, reason: stalled?.reason }).toEqual({ plan: suffix, reason });
      expect(stalled?.message).toMatch(message);
      expect(status?.nodes?.filter((n) => n.state !== "Pending" && n.state !== "Done") ?? []).toEqual([]);
    }
    const everything = await scenario.status(plan("everything"));
    expect(scenario.condition(everything, "Ready")?.reason).toBe("DryRun");
    const listed = everything.nodes?.map((n) => n.name) ?? [];
    expect(listed).toEqual(expect.arrayContaining(fleet.nodes().map((n) => n.hostname)));

    // Each node was upgraded once, by the good plan; the same operator process did it all.
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1]);
    expect(scenario.operator.running()).toBe(true);
    expect(scenario.operator.logs()).not.toMatch(/does not match the schema|reconcile failed/);
  }, 300_000);
});
