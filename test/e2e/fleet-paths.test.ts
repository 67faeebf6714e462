// Paths real fleets take, end to end: a node back after its timeout, a Node deleted while its
// machine reboots, a node excluded while it reboots, an installer write Talos refuses, a
// talosconfig rotated mid-rollout, and a CEL check pointed at a Secret.
import { CoreV1Api } from "@kubernetes/client-node";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { planLog } from "../../testkit/e2e/operator-log.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { heldPod } from "../../testkit/e2e/workloads.ts";
import { installImage } from "../../testkit/fleet/machine-config.ts";

describe("paths real fleets take, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("a node back on the target after its NodeTimeout: a retry verifies it without a second call and uncordons it", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const worker = scenario.node("worker-1");
    // The machine boots the new version, but only after the plan's timeout has passed.
    scenario.fleet.inject(worker, { slowBootMs: 12_000 });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "8s" } });
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 90);
    const failed = (await scenario.status()).nodes?.find((n) => n.name === worker);
    expect(failed).toMatchObject({ state: "Failed", reason: "NodeTimeout" });
    // Failed, and still cordoned by the operator: the plan says which node and why.
    expect(await scenario.cordonedNodes()).toEqual([worker]);
    await waitUntil(
      "the machine back on the target",
      async () =>
        Boolean(scenario.fleet.node(worker).up && scenario.fleet.node(worker).version === "v1.12.4"),
      { timeoutMs: 30_000 },
    );
    await kubectl(["annotate", "tup", scenario.name, "upgrade.talos-operator.dev/retry=1"]);
    await scenario.waitFor("condition=Ready");
    const done = (await scenario.status()).nodes?.find((n) => n.name === worker);
    expect(done).toMatchObject({ state: "Done", attempts: 1 });
    expect(scenario.recorder.upgradeCalls()[worker]).toBe(1);
    expect(await scenario.cordonedNodes()).toEqual([]);
  }, 180_000);

  it("a node whose upgrade sequence Talos failed: once the cause is gone, a retry calls it again and upgrades it", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const worker = scenario.node("worker-1");
    const machine = scenario.fleet.node(worker);
    const bootId = machine.bootId;
    // machined's own drain cannot list the node's pods: Talos fails the sequence and stays up on its
    // boot, its MachineStatus left at REBOOTING (what Talos' stage tracking does after a FATAL).
    scenario.fleet.inject(worker, { machinedKubeRefused: true });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 90);
    expect((await scenario.status()).nodes?.find((n) => n.name === worker)).toMatchObject({
      state: "Failed",
      reason: "UpgradeFailed",
    });
    expect(machine.stage).toBe("REBOOTING");
    expect(machine.bootId).toBe(bootId);
    scenario.fleet.inject(worker, { machinedKubeRefused: false });
    await kubectl(["annotate", "tup", scenario.name, "upgrade.talos-operator.dev/retry=1"]);
    await scenario.waitFor("condition=Ready", 90);
    expect(machine.version).toBe("v1.12.4");
    // One call that failed, one after the retry.
    expect(scenario.recorder.upgradeCalls()[worker]).toBe(2);
    expect((await scenario.status()).nodes?.find((n) => n.name === worker)).toMatchObject({ state: "Done" });
    expect(await scenario.cordonedNodes()).toEqual([]);
  }, 240_000);

  it("a target edited back after a node's install (Talos 1.13): its own installer is installed again before its release, so no reboot upgrades it", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1, talosVersion: "v1.13.0" });
    const worker = scenario.node("worker-1");
    const machine = scenario.fleet.node(worker);
    // A pod on worker-1 that its budget never lets go: the node installs, is cordoned, and its
    // drain holds.
    await heldPod(scenario, `${scenario.name}-held`, worker);
    await scenario.apply({
      talos: { version: "v1.13.1" },
      drain: { timeout: "5m" },
      rollout: { nodeTimeout: "2m" },
    });
    await waitUntil(
      "worker-1 installed for v1.13.1 and held in its drain",
      async () => {
        const entry = (await scenario.status()).nodes?.find((n) => n.name === worker);
        return (
          entry?.state === "Draining" &&
          entry.installedAt !== undefined &&
          machine.pendingVersion === "v1.13.1"
        );
      },
      { timeoutMs: 90_000, describe: () => scenario.operator.logs().slice(-4000) },
    );
    expect(await scenario.cordonedNodes()).toEqual([worker]);
    // Git reverted: the plan asks for the version worker-1 runs.
    await scenario.apply({
      talos: { version: "v1.13.0" },
      drain: { timeout: "5m" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready", 90);
    const entry = (await scenario.status()).nodes?.find((n) => n.name === worker);
    expect(entry).toMatchObject({ state: "Done", version: "v1.13.0" });
    expect(entry?.message).toContain("no longer installed for its next boot");
    // The machine's other boot entry holds its own version again, and it never rebooted.
    expect(machine.pendingVersion).toBe("v1.13.0");
    expect(machine.version).toBe("v1.13.0");
    // Two installs reached it: v1.13.1's, then its own again; no upgrade of it was ever called.
    expect(machine.upgrades.map((u) => [u.api, u.reinstall === true])).toEqual([
      ["lifecycle", false],
      ["lifecycle", true],
    ]);
    expect(machine.calls.filter((c) => c.method === "/machine.MachineService/Reboot")).toEqual([]);
    expect(await scenario.cordonedNodes()).toEqual([]);
  }, 240_000);

  it("a Node deleted while its machine reboots is reported NodeGone; once it re-registers, a retry finishes it", async () => {
    // A reboot long enough that the deletion lands while the machine is down, however loaded the
    // machine running the test is: the kubelet registers the Node again only once it is back.
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2, timing: { rebootMs: 3_000 } });
    const worker = scenario.node("worker-1");
    const machine = scenario.fleet.node(worker);
    const core = scenario.kc.makeApiClient(CoreV1Api);
    let deleting = false;
    let deletionError: unknown;
    machine.listen({
      down: () => {
        if (deleting) return;
        deleting = true;
        // After the kubelet's last status post (its Node NotReady, shutting down), as a person or an
        // autoscaler would.
        void waitUntil(
          "the kubelet's last status post",
          async () =>
            (await core.readNode({ name: worker })).status?.conditions?.find((c) => c.type === "Ready")
              ?.message === "node is shutting down",
          { timeoutMs: 10_000, intervalMs: 50 },
        )
          .then(() => core.deleteNode({ name: worker }))
          .catch((error: unknown) => {
            deletionError = error;
          });
      },
    });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await waitUntil(
      "the node in flight reported gone",
      async () => (await scenario.status()).nodes?.find((n) => n.name === worker)?.reason === "NodeGone",
      {
        timeoutMs: 40_000,
        describe: () =>
          `deletion: ${deletionError ?? "asked"}\n${scenario.recorder.timeline.join("\n")}\n${scenario.operator.logs().slice(-6000)}`,
      },
    );
    const status = await scenario.status();
    expect(status.nodes?.find((n) => n.name === worker)?.message).toContain("deleted during its upgrade");
    // Its slot was not given away while it rebooted: the other worker never went down beside it.
    expect(scenario.recorder.maxWorkersDown).toBeLessThanOrEqual(1);
    await scenario.waitFor("jsonpath={.status.phase}=Failed", 60);
    // The kubelet registers the Node again once the machine is up.
    await waitUntil(
      "the Node registered again",
      async () =>
        (await kubectl(["get", "node", worker, "--ignore-not-found", "-o", "name"])).stdout.includes(worker),
      { timeoutMs: 30_000 },
    );
    await kubectl(["annotate", "tup", scenario.name, "upgrade.talos-operator.dev/retry=1"]);
    await scenario.waitFor("condition=Ready");
    expect(machine.version).toBe("v1.12.4");
    expect(scenario.recorder.upgradeCalls()[worker]).toBe(1);
    expect((await scenario.status()).nodes?.find((n) => n.name === worker)).toMatchObject({ state: "Done" });
    expect(await scenario.cordonedNodes()).toEqual([]);
  }, 180_000);

  it("a worker labelled exclude while it reboots: the plan finishes it, writes its installer, then lists it no more", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const worker = scenario.node("worker-1");
    const machine = scenario.fleet.node(worker);
    let labelled: Promise<unknown> | undefined;
    machine.listen({
      down: () => {
        labelled ??= kubectl(["label", "node", worker, "upgrade.talos-operator.dev/exclude=true"]);
      },
    });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await waitUntil("worker-1 excluded while it reboots", async () => labelled !== undefined, {
      timeoutMs: 90_000,
      intervalMs: 50,
    });
    await labelled;
    await scenario.waitFor("condition=Ready", 150);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1, 1]);
    expect(machine.version).toBe("v1.12.4");
    expect(await scenario.cordonedNodes()).toEqual([]);
    // Its configuration names the installer it now runs, though it left the plan mid-way: a later
    // reinstall or reset boots v1.12.4, not the version it had.
    const called = machine.upgrades.at(-1)?.image;
    expect(called).toContain(":v1.12.4");
    await waitUntil(
      "worker-1's entry gone once its installer is written",
      async () => {
        const listed = (await scenario.status()).nodes?.some((n) => n.name === worker);
        return !listed && installImage(scenario.fleet.machineConfig(machine)) === called;
      },
      { timeoutMs: 10_000, describe: () => `${installImage(scenario.fleet.machineConfig(machine))}` },
    );
  }, 180_000);

  it("Talos refuses to write a verified node's installer into its configuration: a Warning says so once, and the plan completes", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 1 });
    const worker = scenario.node("worker-1");
    const machine = scenario.fleet.node(worker);
    scenario.fleet.inject(worker, { applyConfigurationError: "injected: the configuration is locked" });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready", 150);
    expect(machine.version).toBe("v1.12.4");
    // The uncordon is the action of the pass that writes Completed, so it lands just after.
    await waitUntil("no cordon left", async () => (await scenario.cordonedNodes()).length === 0, {
      timeoutMs: 10_000,
    });
    const refusal = async () =>
      (await scenario.events()).filter(
        (e) => e.reason === "ConfigPatchRefused" && e.message.includes(worker),
      );
    await waitUntil("the refusal's Warning", async () => (await refusal()).length > 0, { timeoutMs: 10_000 });
    expect((await refusal())[0]?.message).toContain("injected: the configuration is locked");
    // Said once: the entry no longer asks for the write, and Talos is not asked again.
    const applied = () => machine.calls.filter((c) => c.method.endsWith("/ApplyConfiguration")).length;
    await waitUntil(
      "worker-1's entry without its installer and call record",
      async () => {
        const entry = (await scenario.status()).nodes?.find((n) => n.name === worker);
        return entry?.upgradeCalledAt === undefined && entry?.reason === "ConfigPatchRefused";
      },
      { timeoutMs: 10_000 },
    );
    const asked = applied();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(applied()).toBe(asked);
    expect(await refusal()).toHaveLength(1);
  }, 180_000);

  it("a talosconfig Secret rotated mid-rollout to a new client certificate: the next calls use it", async () => {
    scenario = await new Scenario().start({
      controlPlanes: 1,
      workers: 3,
      operatorEnv: { TALOSCONFIG: "/nonexistent" },
    });
    const secret = await scenario.putTalosconfigSecret(
      await scenario.fleet.talosconfigFor("operator-before"),
    );
    await scenario.apply({
      talos: { version: "v1.12.4" },
      talosConfig: { secretRef: { name: secret, namespace: "default" } },
    });
    const cp = scenario.node("cp-1");
    await waitUntil(
      "the control plane done",
      async () => (await scenario.status()).nodes?.find((n) => n.name === cp)?.state === "Done",
      { timeoutMs: 60_000 },
    );
    const rotated = await scenario.fleet.talosconfigFor("operator-after");
    const before = Date.now();
    await scenario.putTalosconfigSecret(rotated);
    // Counted from when the apiserver has the new Secret: writing it (two kubectl runs) takes a
    // while on a loaded machine, and calls made meanwhile rightly use the old certificate.
    const rotatedAt = Date.now();
    await scenario.waitFor("condition=Ready");
    const upgradeCalls = scenario.fleet
      .nodes()
      .flatMap((n) => n.calls.filter((c) => c.method === "/machine.MachineService/Upgrade"));
    expect(upgradeCalls).toHaveLength(4);
    expect(upgradeCalls.filter((c) => c.at < before).map((c) => c.caller)).toContain("operator-before");
    // A pass already under way when the Secret changed may finish with the client it had; every
    // call a second later names the new certificate.
    const late = scenario.fleet.nodes().flatMap((n) => n.calls.filter((c) => c.at > rotatedAt + 1_000));
    expect(late.filter((c) => c.method === "/machine.MachineService/Upgrade").length).toBeGreaterThan(0);
    expect(new Set(late.map((c) => c.caller))).toEqual(new Set(["operator-after"]));
    await kubectl(["delete", "secret", secret, "-n", "default"]);
  }, 180_000);

  it("a CEL check pointed at the talosconfig Secret: no key material reaches status, Events or logs", async () => {
    // At debug level: every pass ends with a "reconciled" line, and debug lines are read for leaks too.
    scenario = await new Scenario().start({
      controlPlanes: 1,
      workers: 0,
      operatorEnv: { LOG_LEVEL: "debug" },
    });
    const secret = `${scenario.name}-planted`;
    const key = `-----BEGIN PRIVATE KEY-----\nplanted${scenario.name.replace(/-/g, "")}\n-----END PRIVATE KEY-----`;
    await kubectl(["create", "secret", "generic", secret, "-n", "default", `--from-literal=key=${key}`]);
    // As the README tells users: `get` on the very object, by resourceNames.
    await scenario.grantGet("secrets", secret);
    const check = (name: string, expression: string) => ({
      name,
      resource: { apiVersion: "v1", kind: "Secret", namespace: "default", name: secret },
      expression,
    });
    await scenario.apply({
      talos: { version: "v1.12.4" },
      healthChecks: {
        cel: [
          check("value", "object.data.key"),
          check("decoded", "string(base64.decode(object.data.key))"),
          check("compare", 'string(base64.decode(object.data.key)) == "x"'),
          check("error", "int(string(base64.decode(object.data.key)))"),
        ],
      },
    });
    await waitUntil(
      "every check evaluated",
      async () => {
        const message = scenario.condition(await scenario.status(), "HealthChecksPassing")?.message ?? "";
        return ["value", "decoded", "compare", "error"].every((c) => message.includes(`cel/${c}:`));
      },
      { timeoutMs: 60_000, describe: () => scenario.operator.logs() },
    );
    // The pass that wrote those verdicts goes on to its Events and log lines. Passes of a plan run one
    // at a time, so a pass that ends after the verdicts were read is that pass or a later one: either
    // way that pass is done. An annotation the operator does not read wakes the plan, so that there
    // is such a pass.
    const readAt = Date.now();
    await kubectl(["annotate", "tup", scenario.name, `e2e.test/nudged=${readAt}`]);
    await waitUntil(
      "a pass ended after the verdicts were read",
      async () =>
        planLog(scenario.operator, scenario.name).some((r) => r.msg === "reconciled" && r.time > readAt),
      { timeoutMs: 30_000, describe: () => scenario.operator.logs() },
    );
    const encoded = Buffer.from(key).toString("base64");
    const planted = `planted${scenario.name.replace(/-/g, "")}`;
    const status = JSON.stringify(await scenario.status());
    const events = JSON.stringify(await scenario.events());
    const logs = scenario.operator.logs();
    for (const [where, text] of [
      ["status", status],
      ["events", events],
      ["logs", logs],
    ] as const) {
      expect({ where, leaked: text.includes(planted) || text.includes(encoded.slice(8, 40)) }).toEqual({
        where,
        leaked: false,
      });
    }
    // The checks are named, with their verdicts.
    const gates = scenario.condition(await scenario.status(), "HealthChecksPassing")?.message ?? "";
    expect(gates).toContain("cel/compare");
    expect(scenario.recorder.upgradeCalls()[scenario.node("cp-1")] ?? 0).toBe(0);
    await kubectl(["delete", "secret,role,rolebinding", secret, "-n", "default"]);
  }, 180_000);
});
