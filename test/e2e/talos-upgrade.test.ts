// Talos upgrades end to end: a plan applied with kubectl, the operator as a process, the real
// control plane, a simulated fleet with kubelets; the invariants are checked over each whole run.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { tool } from "../../testkit/control-plane/tools.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { fleetLabel } from "../../testkit/fleet/kubelet.ts";
import { installImage } from "../../testkit/fleet/machine-config.ts";

describe("Talos upgrades, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("legacy API (v1.11 → v1.12): every node once, control planes one at a time, Ready at the end", async () => {
    scenario = await new Scenario().start();
    // The example a user starts from, as it is in deploy/examples.
    const examples = join(import.meta.dirname, "..", "..", "deploy", "examples");
    const example = parse(readFileSync(join(examples, "talos-upgrade.yaml"), "utf8")) as {
      spec: Record<string, unknown>;
    };
    await scenario.apply(example.spec);
    // Once a node is done, `kubectl get tup` shows the time left in its own column.
    let row: Record<string, string> = {};
    await waitUntil(
      "kubectl get tup shows the time left",
      async () => {
        const { stdout } = await scenario.kubectl(["get", "tup", scenario.name]);
        const [header = "", line = ""] = stdout.split("\n");
        // kubectl aligns columns and leaves an empty one blank: read each at its header's offset.
        const starts = [...header.matchAll(/\S+/g)].map((m) => ({ column: m[0], at: m.index }));
        row = Object.fromEntries(
          starts.map(({ column, at }, i) => [column, line.slice(at, starts[i + 1]?.at).trim()]),
        );
        return /^\d+(m|h)/.test(row.LEFT ?? "");
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(row).toMatchObject({ PHASE: "UpgradingTalos", TALOS: "v1.12.4" });
    expect(Number(row.PROGRESS?.split("/")[0])).toBeGreaterThanOrEqual(1);
    const estimate = (await scenario.status()).estimate;
    expect(estimate?.message).toMatch(/^\d node\(s\) left in the Talos phase; measured: /);
    // `kubectl describe` shows what is happening first in the status: the work under way and what is next.
    const described = (await scenario.kubectl(["describe", "tup", scenario.name])).stdout.split("\n");
    const statusAt = described.indexOf("Status:");
    expect(described.slice(statusAt + 1, statusAt + 2)).toEqual(["  Activity:"]);
    expect(described.slice(statusAt + 2, statusAt + 4).join("\n")).toMatch(
      /^ {4}Current: +(no node under way|\S.* v1\.12\.4: .+)\n {4}Next: +\S/,
    );
    await scenario.waitFor("condition=Ready");
    expect((await scenario.status()).estimate).toBeUndefined();

    const { fleet, recorder } = scenario;
    expect(fleet.nodes().map((n) => n.version)).toEqual(Array(6).fill("v1.12.4"));
    expect(Object.values(recorder.upgradeCalls())).toEqual(Array(6).fill(1));
    expect(recorder.maxControlPlanesDown).toBe(1);
    expect(recorder.maxWorkersDown).toBe(1);
    expect(
      fleet.nodes().every((n) => n.calls.some((c) => c.method === "/machine.MachineService/Upgrade")),
    ).toBe(true);

    const status = await scenario.status();
    expect(status.phase).toBe("Completed");
    expect(status.progress).toBe("6/6");
    expect(status.nodes?.map((n) => n.name)).toEqual(
      ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"].map((n) => scenario.node(n)),
    );
    const cordoned = await kubectl([
      "get",
      "nodes",
      "-l",
      `fleet.talos-operator.dev/name=${scenario.name}`,
      "-o",
      "jsonpath={.items[*].spec.unschedulable}",
    ]);
    expect(cordoned.stdout.trim()).toBe("");

    const events = await scenario.events();
    expect(events.filter((e) => e.reason === "NodeUpgraded")).toHaveLength(6);
  });

  it("a node ahead of the target is left alone and named, and the plan completes", async () => {
    scenario = new Scenario();
    const ahead = scenario.node("worker-2");
    await scenario.start({ controlPlanes: 1, workers: 2, versions: { [ahead]: "v1.12.5" } });
    await scenario.apply({ talos: { version: "v1.12.4" } });
    await scenario.waitFor("condition=Ready");
    const { fleet, recorder } = scenario;
    expect(fleet.nodes().find((n) => n.hostname === ahead)?.version).toBe("v1.12.5");
    expect(recorder.upgradeCalls()[ahead] ?? 0).toBe(0);
    const status = await scenario.status();
    expect(status.nodes?.find((n) => n.name === ahead)).toMatchObject({
      state: "Skipped",
      reason: "AheadOfTarget",
    });
    expect(scenario.condition(status, "Ready")?.message).toContain(`ahead of it and left alone: ${ahead}`);
    expect(await scenario.cordonedNodes()).toEqual([]);
  });

  it("two plans bumped in one sync: one plan at a time, never two control planes down", async () => {
    scenario = await new Scenario().start({ controlPlanes: 3, workers: 2 });
    const only = (...short: string[]) => ({
      matchLabels: { [fleetLabel]: scenario.name },
      matchExpressions: [
        { key: "kubernetes.io/hostname", operator: "In", values: short.map((n) => scenario.node(n)) },
      ],
    });
    const [first, second] = [`${scenario.name}-a`, `${scenario.name}-b`];
    // As a GitOps sync applies them: both at once.
    await Promise.all([
      scenario.apply({ talos: { version: "v1.12.4" }, nodeSelector: only("cp-1", "worker-1") }, {}, first),
      scenario.apply(
        { talos: { version: "v1.12.4" }, nodeSelector: only("cp-2", "cp-3", "worker-2") },
        {},
        second,
      ),
    ]);
    await scenario.waitFor("condition=Ready", 180, first);
    await scenario.waitFor("condition=Ready", 180, second);
    const { recorder, fleet } = scenario;
    expect(recorder.maxControlPlanesDown).toBe(1);
    expect(recorder.maxWorkersDown).toBe(1);
    expect(Object.values(recorder.upgradeCalls())).toEqual(Array(5).fill(1));
    expect(fleet.nodes().map((n) => n.version)).toEqual(Array(5).fill("v1.12.4"));
    // One writer at a time: the plans' node windows (first start to last finish) do not overlap.
    const windowOf = async (plan: string) => {
      const nodes = (await scenario.status(plan)).nodes ?? [];
      const starts = nodes.map((n) => Date.parse((n as { startedAt?: string }).startedAt ?? ""));
      const ends = nodes.map((n) => Date.parse((n as { finishedAt?: string }).finishedAt ?? ""));
      return [Math.min(...starts), Math.max(...ends)] as const;
    };
    const [a, b] = [await windowOf(first), await windowOf(second)];
    expect(a[1] <= b[0] || b[1] <= a[0]).toBe(true);
  });

  it("v1.13+ API (v1.13 → v1.14) with maxUnavailable 2: Pull and Lifecycle Upgrade while the node serves, then cordon and Reboot, two workers at a time", async () => {
    const schematic = "b".repeat(64);
    scenario = await new Scenario().start({
      talosVersion: "v1.13.0",
      workers: 4,
      platform: "aws",
      schematic,
    });
    await scenario.apply({
      talos: { version: "v1.14.0" },
      rollout: { maxUnavailable: 2, nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready");

    const { fleet, recorder } = scenario;
    expect(fleet.nodes().map((n) => n.version)).toEqual(Array(7).fill("v1.14.0"));
    expect(Object.values(recorder.upgradeCalls())).toEqual(Array(7).fill(1));
    expect(recorder.maxControlPlanesDown).toBe(1);
    expect(recorder.maxWorkersDown).toBe(2);
    for (const node of fleet.nodes()) {
      const methods = node.calls.map((c) => c.method);
      expect(methods).toContain("/machine.ImageService/Pull");
      expect(methods).toContain("/machine.LifecycleService/Upgrade");
      expect(methods).toContain("/machine.MachineService/Reboot");
      expect(methods).not.toContain("/machine.MachineService/Upgrade");
      // Installed before its cordon (as the watch saw it, later than it was), once, from the image
      // its pull named; cordoned when its reboot call came (read from the apiserver then).
      const at = (method: string) => node.calls.find((c) => c.method === method)?.at ?? Number.NaN;
      const cordonedAt = recorder.firstCordonAt.get(node.hostname) ?? Number.NaN;
      expect({
        node: node.hostname,
        installedBeforeCordon: at("/machine.LifecycleService/Upgrade") < cordonedAt,
        cordonedWhenRebooted: await recorder.cordonedWhenRebooted(node.hostname),
        pulls: methods.filter((m) => m === "/machine.ImageService/Pull").length,
        installs: methods.filter((m) => m === "/machine.LifecycleService/Upgrade").length,
      }).toEqual({
        node: node.hostname,
        installedBeforeCordon: true,
        cordonedWhenRebooted: [true],
        pulls: 1,
        installs: 1,
      });
      // Each node keeps its platform and Image Factory schematic (its extensions).
      expect([...node.pulled]).toContain(
        `CRI:NS_SYSTEM/factory.talos.dev/aws-installer/${schematic}:v1.14.0`,
      );
    }
  });

  it("a mixed fleet keeps each node's platform, schematic, SecureBoot, factory and kernel arguments through a version upgrade; then a GPU pool's new extension rolls exactly that pool, staged, at the same version", async () => {
    const gpu = "c".repeat(64);
    const fleetScenario = new Scenario();
    const selfHosted = "https://images.factory.corp.example:8443";
    const toolkit = { name: "nvidia-container-toolkit-production", version: "v1.17.0", image: "" };
    const kernelArgs = ["console=ttyS1,115200", "net.ifnames=0"];
    scenario = await fleetScenario.start({
      talosVersion: "v1.14.0",
      controlPlanes: 1,
      workers: 4,
      images: {
        [fleetScenario.node("cp-1")]: { factoryUrl: selfHosted },
        [fleetScenario.node("worker-1")]: { platform: "aws", schematic: gpu, extensions: [toolkit] },
        [fleetScenario.node("worker-2")]: { platform: "aws", schematic: gpu, extensions: [toolkit] },
        [fleetScenario.node("worker-3")]: { secureBoot: true },
        // GRUB with kernel arguments: the lifecycle API would boot without them.
        [fleetScenario.node("worker-4")]: { bootloader: "grub", kernelArgs },
      },
    });
    await scenario.apply({ talos: { version: "v1.14.1" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready");

    const byShort = <T>(f: (n: ReturnType<typeof scenario.fleet.nodes>[number]) => T) =>
      Object.fromEntries(
        scenario.fleet.nodes().map((n) => [n.hostname.replace(`${scenario.name}-`, ""), f(n)]),
      );
    const vanilla = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
    const installer = {
      "cp-1": `images.factory.corp.example:8443/metal-installer/${vanilla}:v1.14.1`,
      "worker-1": `factory.talos.dev/aws-installer/${gpu}:v1.14.1`,
      "worker-2": `factory.talos.dev/aws-installer/${gpu}:v1.14.1`,
      "worker-3": `factory.talos.dev/metal-installer-secureboot/${vanilla}:v1.14.1`,
      "worker-4": `factory.talos.dev/metal-installer/${vanilla}:v1.14.1`,
    };
    // What each machine was asked to install, and through which API.
    expect(byShort((n) => n.upgrades.map((u) => `${u.api} ${u.image}`))).toEqual({
      "cp-1": [`lifecycle ${installer["cp-1"]}`],
      "worker-1": [`lifecycle ${installer["worker-1"]}`],
      "worker-2": [`lifecycle ${installer["worker-2"]}`],
      "worker-3": [`lifecycle ${installer["worker-3"]}`],
      "worker-4": [`legacy ${installer["worker-4"]}`],
    });
    // What each booted: the version, and the identity its installer carried.
    expect(
      byShort((n) => [
        n.version,
        n.identity.platform,
        n.identity.schematic,
        n.identity.secureBoot,
        n.identity.factoryUrl,
      ]),
    ).toEqual({
      "cp-1": ["v1.14.1", "metal", vanilla, false, selfHosted],
      "worker-1": ["v1.14.1", "aws", gpu, false, "https://factory.talos.dev"],
      "worker-2": ["v1.14.1", "aws", gpu, false, "https://factory.talos.dev"],
      "worker-3": ["v1.14.1", "metal", vanilla, true, "https://factory.talos.dev"],
      "worker-4": ["v1.14.1", "metal", vanilla, false, "https://factory.talos.dev"],
    });
    expect(scenario.fleet.node(scenario.node("worker-4")).cmdline).toEqual(
      expect.arrayContaining(kernelArgs),
    );
    expect(scenario.fleet.nodes().flatMap((n) => n.bootProblems)).toEqual([]);
    // Each machine's configuration names the installer it now runs, for a later reinstall or reset.
    const installed = () => byShort((n) => installImage(scenario.fleet.machineConfig(n)));
    await waitUntil(
      "every install image is patched",
      async () => JSON.stringify(installed()) === JSON.stringify(installer),
      {
        timeoutMs: 10_000,
        describe: () => JSON.stringify(installed(), null, 1),
      },
    );

    // The GPU pool gets a second extension: the plan declares its schematic; the factory knows it.
    const nvidia = [
      "siderolabs/nvidia-container-toolkit-production",
      "siderolabs/nvidia-open-gpu-kernel-modules-production",
    ];
    // The factory's ID for that schematic, computed outside the operator (its YAML library, hashed).
    const gpuNext = "6698d6f136c5bb37ca8bb8482c9084305084da0a5ead1f4dcae760796f8ab3a2";
    scenario.fleet.registry.addSchematic(gpuNext, nvidia);
    for (const w of ["worker-1", "worker-2"])
      await scenario.kubectl(["label", "node", scenario.node(w), "pool=gpu"]);
    await scenario.apply({
      talos: {
        version: "v1.14.1",
        stage: true,
        overrides: [
          {
            name: "gpu",
            nodeSelector: { matchLabels: { pool: "gpu" } },
            schematic: { customization: { systemExtensions: { officialExtensions: nvidia } } },
          },
        ],
      },
      rollout: { nodeTimeout: "2m" },
    });
    let seen = await scenario.status();
    await waitUntil(
      "the edited plan is Completed",
      async () => {
        seen = await scenario.status();
        const ready = scenario.condition(seen, "Ready");
        return seen.phase === "Completed" && ready?.status === "True" && ready.observedGeneration === 2;
      },
      { timeoutMs: 90_000, describe: () => JSON.stringify(seen, null, 1) },
    );
    const next = `factory.talos.dev/aws-installer/${gpuNext}:v1.14.1`;
    expect(byShort((n) => n.upgrades.length)).toEqual({
      "cp-1": 1,
      "worker-1": 2,
      "worker-2": 2,
      "worker-3": 1,
      "worker-4": 1,
    });
    for (const w of ["worker-1", "worker-2"]) {
      const node = scenario.fleet.node(scenario.node(w));
      expect(node.upgrades[1]).toMatchObject({ api: "legacy", image: next, stage: true });
      expect([node.version, node.identity.schematic]).toEqual(["v1.14.1", gpuNext]);
    }
    // Done entries name their pool; its schematic is the spec's (the machines above run it).
    const status = await scenario.status();
    expect(
      status.nodes?.filter((e) => e.override === "gpu").map((e) => [e.name, e.state, e.schematic]),
    ).toEqual([
      [scenario.node("worker-1"), "Done", undefined],
      [scenario.node("worker-2"), "Done", undefined],
    ]);
    // As the user checks it: the real talosctl lists the new extension on the pool's machines.
    const extensions = await promisify(execFile)(tool("talosctl", "talosctl"), [
      "--talosconfig",
      scenario.fleet.talosconfig.reader,
      "-n",
      scenario.fleet.node(scenario.node("worker-1")).address,
      "get",
      "extensions",
    ]);
    expect(extensions.stdout).toContain("nvidia-open-gpu-kernel-modules-production");
    const reinstalled = { ...installer, "worker-1": next, "worker-2": next };
    await waitUntil(
      "the pool's install images are patched",
      async () => JSON.stringify(installed()) === JSON.stringify(reinstalled),
      {
        timeoutMs: 10_000,
        describe: () => JSON.stringify(installed(), null, 1),
      },
    );
  });

  it("rebootMode Force: every node reboots with Talos' FORCE mode; refused up front on the legacy API", async () => {
    scenario = await new Scenario().start({ talosVersion: "v1.13.0", controlPlanes: 1, workers: 1 });
    await scenario.apply({
      talos: { version: "v1.13.1", rebootMode: "Force" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready");
    expect(scenario.fleet.nodes().map((n) => n.rebootModes)).toEqual([["FORCE"], ["FORCE"]]);
    await scenario.stop();

    scenario = await new Scenario().start({ talosVersion: "v1.12.3", controlPlanes: 1, workers: 1 });
    await scenario.apply({
      talos: { version: "v1.12.4", rebootMode: "Force" },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Stalled", 60);
    expect(scenario.condition(await scenario.status(), "Stalled")).toMatchObject({
      reason: "RebootModeUnsupported",
    });
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0]);
  });

  it("a node with extensions but no Image Factory schematic is refused up front, with nothing cordoned", async () => {
    const fleetScenario = new Scenario();
    scenario = await fleetScenario.start({
      talosVersion: "v1.13.0",
      controlPlanes: 1,
      workers: 1,
      images: {
        [fleetScenario.node("worker-1")]: {
          extensions: [{ name: "iscsi-tools", version: "v0.2.0", image: "" }],
        },
      },
    });
    await scenario.apply({ talos: { version: "v1.13.1" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Stalled", 60);
    const stalled = scenario.condition(await scenario.status(), "Stalled");
    expect(stalled).toMatchObject({ reason: "InstallerUnknown" });
    expect(stalled?.message).toContain(
      `${scenario.node("worker-1")} runs extensions (iscsi-tools) but reports no Image Factory schematic`,
    );
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([0, 0]);
    expect(await scenario.cordonedNodes()).toEqual([]);
  });

  it("slow pulls: at most maxUnavailable at once, in parallel, and no pass waits on one", async () => {
    scenario = await new Scenario().start({
      controlPlanes: 1,
      workers: 5,
      timing: { rebootMs: 1_500, pullMs: 3_000 },
    });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { maxUnavailable: 2 } });
    await scenario.waitFor("condition=Ready");

    const { fleet, recorder } = scenario;
    expect(fleet.nodes().map((n) => n.version)).toEqual(Array(6).fill("v1.12.4"));
    expect(recorder.maxWorkersDown).toBe(2);
    const spans = fleet.nodes().flatMap((n) => n.pulls.map((p) => ({ node: n.hostname, ...p })));
    // Every node's installer pulled, and a pull under way never asked for again (a pull cut off by
    // the control plane's reboot, the API endpoint, is asked for again once it answers).
    expect(new Set(spans.map((p) => p.node))).toEqual(new Set(fleet.nodes().map((n) => n.hostname)));
    for (const [i, a] of spans.entries()) {
      const twice = spans.filter(
        (b, j) => j !== i && b.node === a.node && b.start >= a.start && b.start < (a.end ?? Infinity),
      );
      expect(twice).toEqual([]);
    }
    const overlap = (at: number) => spans.filter((p) => p.start <= at && at < (p.end ?? Infinity)).length;
    // Parallel (two at once) and capped (never three).
    expect(Math.max(...spans.map((p) => overlap(p.start)))).toBe(2);
    // Off the pass: some node's upgrade call is made while a pull on another node is under way.
    const upgradeCalls = fleet
      .nodes()
      .flatMap((n) =>
        n.calls
          .filter((c) => c.method === "/machine.MachineService/Upgrade")
          .map((c) => ({ node: n.hostname, at: c.at })),
      );
    const duringPull = upgradeCalls.filter((c) =>
      spans.some((p) => p.node !== c.node && p.start < c.at && c.at < (p.end ?? Infinity)),
    );
    expect(duringPull.length).toBeGreaterThan(0);
  });

  it("a single-node cluster: one control plane, nothing to drain to", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 0 });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready");
    expect(scenario.fleet.nodes()[0]?.version).toBe("v1.12.4");
    expect(scenario.recorder.upgradeCalls()).toEqual({ [scenario.node("cp-1")]: 1 });
  });
});
