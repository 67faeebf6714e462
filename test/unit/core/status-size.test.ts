// The plan object at 5000 nodes, as the store writes it: etcd refuses a value over 1.5 MiB, so a
// completed Talos rollout and one half-way through must both stay well under it, the Kubernetes phase
// that follows too, and no pass go over. The fleet is driven pass by pass as a real one goes:
// installers pulled, pods drained, a reboot the next pass cannot reach, the shell recording each
// accepted upgrade call, the install image patched; then images pre-pulled and each component's
// configuration patched, control planes one task at a time and workers 10% at a time. Each pass
// reads back the status as stored, as the operator does from its watch.
import { planStatusSchema, storedStatus } from "../../../src/api/v1alpha1/plan.ts";
import type { Decision } from "../../../src/core/decide.ts";
import { activeStates } from "../../../src/core/node-steps.ts";
import type { NodeView, Observation } from "../../../src/model/observation.ts";
import { apply, readManifests } from "../builders/kubernetes-world.ts";
import { aK8sNode } from "../builders/nodes.ts";
import { anObservation, drive } from "../builders/observations.ts";
import { aPlan, planName, previousVersion, vanillaSchematic } from "../builders/plans.ts";

const controlPlanes = 3;
const workers = 4997;
/** What etcd takes for one object; and what a plan of either phase may, room left for longer names. */
const etcdLimit = 1.5 * 1024 * 1024;
const allowed = 384 * 1024;

/** A boot ID as Talos writes one (a UUID), per node and boot. */
const bootId = (index: number, boot: number) =>
  `${String(boot).padStart(8, "0")}-0000-4000-8000-${String(index).padStart(12, "0")}`;

/**
 * A machine on v1.11.6 with the vanilla schematic and Kubernetes v1.34.2, two pods to evict, no
 * installer pulled yet.
 */
function machine(name: string, index: number): NodeView {
  const boot = bootId(index, 0);
  return aK8sNode(name, "v1.34.2", {
    version: previousVersion,
    evictablePods: 2,
    pulls: {},
    kubeletBootId: boot,
    talos: {
      reachable: true,
      version: previousVersion,
      bootId: boot,
      stage: "RUNNING",
      ready: true,
      platform: "metal",
      image: { schematic: vanillaSchematic, extensions: [] },
    },
  });
}

const shortName = (i: number) => `worker-${String(i + 1).padStart(4, "0")}`;
/** A cloud provider's node name (44 characters), as EKS names nodes after their private DNS. */
const cloudName = (i: number) => `ip-10-0-${String(i + 1).padStart(4, "0")}-45.eu-central-1.compute.internal`;

const fleet = (workerName: (i: number) => string) => [
  ...Array.from({ length: controlPlanes }, (_, i) => machine(`cp-${i + 1}`, i)),
  ...Array.from({ length: workers }, (_, i) => machine(workerName(i), controlPlanes + i)),
];

/**
 * The cluster's answer to a pass: cordons, pulls, drains and install image patches take effect; an
 * upgraded machine is away for one pass, then back on the new version with a new boot. And the
 * shell's own write: upgradeCalledAt on the entries whose call Talos accepted.
 */
function cluster() {
  const rebooting = new Map<string, string>();
  let called = new Set<string>();
  const world = (nodes: NodeView[], d: Decision): NodeView[] => {
    const acted = new Map<string, Decision["actions"]>();
    for (const action of d.actions)
      if (action.node) acted.set(action.node, [...(acted.get(action.node) ?? []), action]);
    called = new Set(d.actions.filter((a) => a.kind === "upgrade").map((a) => a.node));
    return nodes.map((node, index) => {
      let n = node;
      const back = rebooting.get(n.name);
      if (back !== undefined) {
        rebooting.delete(n.name);
        const boot = bootId(index, 1);
        n = {
          ...n,
          ready: true,
          kubeletBootId: boot,
          talos: { ...n.talos, reachable: true, version: back, bootId: boot, stage: "RUNNING", ready: true },
        };
      }
      for (const action of acted.get(n.name) ?? []) {
        switch (action.kind) {
          case "cordon":
            n = { ...n, unschedulable: true, cordonedBy: planName };
            break;
          case "uncordon": {
            const { cordonedBy: _c, ...rest } = n;
            n = { ...rest, unschedulable: false };
            break;
          }
          case "prepull":
            n = { ...n, pulls: { ...n.pulls, [action.image]: {} } };
            break;
          case "drain":
            n = { ...n, evictablePods: 0 };
            break;
          case "upgrade":
            rebooting.set(n.name, action.version);
            n = { ...n, ready: false, talos: { ...n.talos, reachable: false, error: "connection refused" } };
            break;
          case "patchInstallImage":
            n = { ...n, installImagePatched: action.image };
            break;
        }
      }
      return n;
    });
  };
  const read = (obs: Observation): Observation => {
    const status = obs.plan.status;
    if (!status) return obs;
    const at = obs.now.toISOString();
    const nodes = status.nodes.map((e) => (called.has(e.name) ? { ...e, upgradeCalledAt: at } : e));
    const stored = JSON.parse(JSON.stringify(storedStatus({ ...status, nodes })));
    return { ...obs, plan: { ...obs.plan, status: planStatusSchema.parse(stored) } };
  };
  return { world, read };
}

const plan = aPlan({
  rollout: { maxUnavailable: "10%", nodeTimeout: "30m", soakTime: "0s" },
  kubernetes: { version: "v1.35.0" },
});
/** Every pass's decision, from the first to the Kubernetes phase's completion. */
function rollout(workerName: (i: number) => string): Decision[] {
  const world = cluster();
  return drive(anObservation(plan, fleet(workerName)), 200, {
    world: (nodes, d) => apply(world.world(nodes, d), d),
    read: (obs) => readManifests(world.read(obs)),
    stepMs: 60_000,
  }).decisions;
}
const decisions = rollout(shortName);
const inPhase = (phase: string) => decisions.filter((d) => d.status.phase === phase);

const size = (d: Decision) => Buffer.byteLength(JSON.stringify({ ...plan, status: storedStatus(d.status) }));
/** The Talos entries' bytes as stored, whole and by name, per node. */
const perEntry = (d: Decision) => {
  const { nodes, workerNodes } = storedStatus(d.status);
  return Math.round(Buffer.byteLength(JSON.stringify({ nodes, workerNodes })) / d.status.nodes.length);
};
const figures = (d: Decision) => ({ bytes: size(d), perEntry: perEntry(d) });

describe("the plan object at 5000 nodes", () => {
  const talosDone = inPhase("UpgradingKubernetes")[0] as Decision;
  const talosMidway = inPhase("UpgradingTalos").find(
    (d) => d.status.summary && d.status.summary.done >= 2_000 && d.status.summary.inProgress > 0,
  ) as Decision;
  const kubernetes = inPhase("UpgradingKubernetes");
  const tasks = (d: Decision) => d.status.kubernetes?.tasks ?? [];
  const kubeletsMidway = kubernetes.find((d) => {
    const states = new Set(
      tasks(d)
        .filter((t) => t.component === "kubelet")
        .map((t) => t.state),
    );
    return states.has("Done") && states.has("Applying") && states.has("Pending");
  }) as Decision;
  const completed = decisions.at(-1) as Decision;

  it("is driven through the Talos rollout, then the Kubernetes phase, to completion", () => {
    expect(talosMidway).toBeDefined();
    const seen = new Set(talosMidway.status.nodes.map((e) => e.state));
    expect(seen).toContain("Done");
    expect(seen).toContain("Pending");
    expect([...seen].some((s) => activeStates.has(s))).toBe(true);
    expect(talosDone.status.nodes.every((e) => e.state === "Done")).toBe(true);
    expect(kubeletsMidway).toBeDefined();
    expect(completed.status.phase).toBe("Completed");
    expect(tasks(completed)).toHaveLength(3 * 5 + workers);
    expect(tasks(completed).every((t) => t.state === "Done")).toBe(true);
    expect(completed.actions).toEqual([]);
    // Read back as stored each pass, every node is asked to upgrade once.
    const upgrades = decisions.flatMap((d) =>
      d.actions.filter((a) => a.kind === "upgrade").map((a) => a.node),
    );
    expect(upgrades).toHaveLength(controlPlanes + workers);
    expect(new Set(upgrades).size).toBe(controlPlanes + workers);
  });

  it("stays well under etcd's limit through the Talos phase", () => {
    const { kubernetes: _tasks, ...talosStatus } = talosDone.status;
    const talos = { completed: figures({ ...talosDone, status: talosStatus }), midway: figures(talosMidway) };
    console.log(`plan object at ${controlPlanes + workers} nodes, Talos phase: ${JSON.stringify(talos)}`);
    expect(talos.completed.bytes).toBeLessThan(allowed);
    expect(talos.midway.bytes).toBeLessThan(allowed);
    expect(Math.max(...inPhase("UpgradingTalos").map(size))).toBeLessThan(allowed);
  });

  // Every node's Talos entry stays; the Kubernetes phase adds its worker kubelets, by name.
  it("stays well under etcd's limit through the Kubernetes phase", () => {
    const phase = {
      firstPass: figures(kubernetes[0] as Decision),
      kubeletsMidway: figures(kubeletsMidway),
      completed: figures(completed),
      largest: Math.max(...kubernetes.map(size)),
    };
    console.log(
      `plan object at ${controlPlanes + workers} nodes, Kubernetes phase: ${JSON.stringify(phase)}`,
    );
    expect(phase.largest).toBeLessThan(allowed);
  });
});

// Names four times as long: the largest pass, by the margin printed, stays under half etcd's limit.
describe("the plan object at 5000 nodes named by a cloud provider", () => {
  it("stays under half etcd's limit at every pass", () => {
    const passes = rollout(cloudName);
    const completed = passes.at(-1) as Decision;
    expect(completed.status.phase).toBe("Completed");
    expect(completed.status.nodes.filter((e) => e.name === cloudName(0))).toHaveLength(1);
    const largest = Math.max(...passes.map(size));
    console.log(
      `plan object at ${controlPlanes + workers} nodes named like ${cloudName(0)}: ${JSON.stringify({
        completed: figures(completed),
        largest,
        underEtcdLimit: etcdLimit - largest,
      })}`,
    );
    expect(largest).toBeLessThan(etcdLimit / 2);
  });
});
