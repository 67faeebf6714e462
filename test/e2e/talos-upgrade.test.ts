// The product end to end: a plan applied with kubectl, the operator as a process, the real
// control plane, a simulated Talos fleet with kubelets. The Talos phase of 3 control planes and 3
// workers, legacy API (v1.11 → v1.12), with the invariants checked over the whole run.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api } from "@kubernetes/client-node";
import { Fleet } from "../fleet/fleet.ts";
import { fleetLabel, Kubelets } from "../fleet/kubelet.ts";
import { ImageRegistry } from "../fleet/registry.ts";
import { adminKubeConfig, sharedKubeconfigPath, uniqueName } from "../harness/shared-control-plane.ts";
import { type OperatorProcess, startOperator } from "./operator-process.ts";
import { Recorder } from "./recorder.ts";

const run = promisify(execFile);
const crd = join(
  import.meta.dirname,
  "..",
  "..",
  "deploy",
  "crds",
  "upgrade.talos-operator.dev_talosupgradeplans.yaml",
);

function kubectl(args: string[], input?: string) {
  const child = run("kubectl", ["--kubeconfig", sharedKubeconfigPath(), ...args], { timeout: 180_000 });
  child.child.stdin?.end(input ?? "");
  return child;
}

describe("a Talos upgrade, end to end", () => {
  const kc = adminKubeConfig();
  const name = uniqueName("e2e");
  let fleet: Fleet;
  let kubelets: Kubelets;
  let recorder: Recorder;
  let operator: OperatorProcess;

  beforeAll(async () => {
    await kubectl(["apply", "--server-side", "-f", crd]);
    await kubectl([
      "wait",
      "--for=condition=Established",
      "crd/talosupgradeplans.upgrade.talos-operator.dev",
    ]);
    fleet = await Fleet.start({
      controlPlanes: 3,
      workers: 3,
      talosVersion: "v1.11.6",
      namePrefix: `${name}-`,
      registry: new ImageRegistry(),
      timing: { rebootMs: 1_500 },
    });
    kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 2_000, podReadyMs: 100 });
    recorder = await Recorder.start(fleet, kc);
    operator = startOperator({
      kubeconfig: sharedKubeconfigPath(),
      talosconfig: fleet.talosconfig.admin,
      planSelector: `test=${name}`,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await recorder?.stop();
    await kubelets?.stop();
    await fleet?.stop();
    const core = kc.makeApiClient(CoreV1Api);
    for (const node of fleet?.nodes() ?? [])
      await core.deleteNode({ name: node.hostname }).catch(() => undefined);
  });

  it("upgrades every node once, control planes one at a time, and reports Ready", async () => {
    const plan = {
      apiVersion: "upgrade.talos-operator.dev/v1alpha1",
      kind: "TalosUpgradePlan",
      metadata: { name, labels: { test: name } },
      spec: {
        talos: { version: "v1.12.4" },
        nodeSelector: { matchLabels: { [fleetLabel]: name } },
        rollout: { maxUnavailable: 1, nodeTimeout: "2m" },
        drain: { timeout: "1m" },
      },
    };
    await kubectl(["apply", "-f", "-"], JSON.stringify(plan));
    try {
      await kubectl(["wait", `tup/${name}`, "--for=condition=Ready", "--timeout=150s"]);
    } catch (error) {
      const status = (await kubectl(["get", "tup", name, "-o", "jsonpath={.status}"])).stdout;
      throw new Error(`${(error as Error).message}\nstatus: ${status}\noperator log:\n${operator.logs()}`);
    }

    expect(fleet.nodes().map((n) => n.version)).toEqual(Array(6).fill("v1.12.4"));
    expect(Object.values(recorder.upgradeCalls())).toEqual(Array(6).fill(1));
    expect(recorder.maxControlPlanesDown).toBe(1);
    expect(recorder.maxWorkersDown).toBe(1);

    const status = JSON.parse((await kubectl(["get", "tup", name, "-o", "jsonpath={.status}"])).stdout);
    expect(status.phase).toBe("Completed");
    expect(status.progress).toBe("6/6");
    expect(status.nodes.map((n: { name: string }) => n.name)).toEqual([
      ...["cp-1", "cp-2", "cp-3"].map((n) => `${name}-${n}`),
      ...["worker-1", "worker-2", "worker-3"].map((n) => `${name}-${n}`),
    ]);
    const nodes = (
      await kubectl([
        "get",
        "nodes",
        "-l",
        `${fleetLabel}=${name}`,
        "-o",
        "jsonpath={.items[*].spec.unschedulable}",
      ])
    ).stdout;
    expect(nodes.trim()).toBe("");

    // The upgrades came in the computed order, as Events say.
    const events = (
      await kubectl([
        "get",
        "events",
        "-n",
        "default",
        "--field-selector",
        `involvedObject.name=${name}`,
        "-o",
        "json",
      ])
    ).stdout;
    const started = (
      JSON.parse(events).items as { reason: string; message: string; firstTimestamp: string }[]
    )
      .filter((e) => e.reason === "NodeUpgradeStarted")
      .sort((a, b) => a.firstTimestamp.localeCompare(b.firstTimestamp))
      .map((e) => e.message.split(":")[0]);
    expect(started.slice(0, 3).sort()).toEqual(["cp-1", "cp-2", "cp-3"].map((n) => `${name}-${n}`));
  });
});
