// The plan object at 5000 nodes, as the decision core writes it: etcd refuses a value over 1.5 MiB,
// so a completed rollout and one half-way through must both stay well under it, and no pass go over.
// The fleet is driven pass by pass as a real one goes: installers pulled, pods drained, a reboot the
// next pass cannot reach, the shell recording each accepted upgrade call, the install image patched.
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import type { Decision } from "../../../src/core/decide.ts";
import { activeStates } from "../../../src/core/node-steps.ts";
import type { NodeView, Observation } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, drive } from "../builders/observations.ts";
import { aPlan, planName, previousVersion, vanillaSchematic } from "../builders/plans.ts";

const controlPlanes = 3;
const workers = 4997;
/** What etcd takes for one object; and what a completed or half-way plan may, room left for longer names. */
const etcdLimit = 1.5 * 1024 * 1024;
const allowed = 1024 * 1024;

/** A boot ID as Talos writes one (a UUID), per node and boot. */
const bootId = (index: number, boot: number) =>
  `${String(boot).padStart(8, "0")}-0000-4000-8000-${String(index).padStart(12, "0")}`;

/** A machine on v1.11.6 with the vanilla schematic, two pods to evict, no installer pulled yet. */
function machine(name: string, index: number): NodeView {
  const boot = bootId(index, 0);
  return aNode(name, {
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

const fleet = () => [
  ...Array.from({ length: controlPlanes }, (_, i) => machine(`cp-${i + 1}`, i)),
  ...Array.from({ length: workers }, (_, i) =>
    machine(`worker-${String(i + 1).padStart(4, "0")}`, controlPlanes + i),
  ),
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
    if (!status || called.size === 0) return obs;
    const at = obs.now.toISOString();
    const nodes = status.nodes.map((e) => (called.has(e.name) ? { ...e, upgradeCalledAt: at } : e));
    return { ...obs, plan: { ...obs.plan, status: { ...status, nodes } } };
  };
  return { world, read };
}

const plan = aPlan({ rollout: { maxUnavailable: "10%", nodeTimeout: "30m", soakTime: "0s" } });
const { decisions } = drive(anObservation(plan, fleet()), 90, { ...cluster(), stepMs: 60_000 });

const size = (p: Plan) => Buffer.byteLength(JSON.stringify(p));
const withStatus = (d: Decision): Plan => ({ ...plan, status: d.status });
const perEntry = (d: Decision) =>
  Math.round(Buffer.byteLength(JSON.stringify(d.status.nodes)) / d.status.nodes.length);

describe("the plan object at 5000 nodes", () => {
  const completed = decisions.at(-1) as Decision;
  const midway = decisions.find(
    (d) => d.status.summary && d.status.summary.done >= 2_000 && d.status.summary.inProgress > 0,
  ) as Decision;

  it("is driven to a completed rollout and through a half-way one", () => {
    expect(completed.status.phase).toBe("Completed");
    expect(completed.status.nodes.every((e) => e.state === "Done")).toBe(true);
    expect(completed.actions).toEqual([]);
    const seen = new Set(midway.status.nodes.map((e) => e.state));
    expect(seen).toContain("Done");
    expect(seen).toContain("Pending");
    expect([...seen].some((s) => activeStates.has(s))).toBe(true);
  });

  it("stays well under etcd's limit, completed and half-way, and under it at every pass", () => {
    const figures = {
      completed: { bytes: size(withStatus(completed)), perEntry: perEntry(completed) },
      midway: { bytes: size(withStatus(midway)), perEntry: perEntry(midway) },
      largest: Math.max(...decisions.map((d) => size(withStatus(d)))),
    };
    console.log(`plan object at ${controlPlanes + workers} nodes: ${JSON.stringify(figures)}`);
    expect(figures.completed.bytes).toBeLessThan(allowed);
    expect(figures.midway.bytes).toBeLessThan(allowed);
    expect(figures.largest).toBeLessThan(etcdLimit);
  });
});
