// A node's end and the next one's start in one pass: the node verified is done as its cordon goes,
// and the start it frees a place for is made in the same pass, after the uncordon. Only where that
// is as safe as two passes: no afterNode hooks to run on the uncordoned node first, and a machine
// that booted clean (a Talos diagnostic is for the health checks to see before anything starts).
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import type { NodeView } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, entryOf, kinds, minutes, t0 } from "../builders/observations.ts";
import { aHook, anEntry, aPlan, aStatus, vanillaImage } from "../builders/plans.ts";

const pulled = (node: NodeView): NodeView => ({ ...node, pulls: { [vanillaImage("v1.12.4")]: {} } });

/** `name` back from its reboot on the target, still under this plan's cordon. */
const back = (name: string, talos: { diagnostics?: string[] } = {}) =>
  aNode(name, {
    version: "v1.12.4",
    unschedulable: true,
    kubeletBootId: `${name}-boot-1`,
    talos: {
      reachable: true,
      version: "v1.12.4",
      bootId: `${name}-boot-1`,
      stage: "RUNNING",
      ready: true,
      ...talos,
    },
  });

/** `name` called and rebooted, the next in line pending. */
const verifying = (name: string, next: string): PlanStatus =>
  aStatus(
    anEntry(name, "Verifying", {
      startedAt: t0.toISOString(),
      bootIdBefore: `${name}-boot-0`,
      upgradeCalledAt: t0.toISOString(),
      image: vanillaImage("v1.12.4"),
      message: "verifying",
    }),
    anEntry(next, "Pending"),
  );

describe("a node's end and the next start", () => {
  it("take one pass for workers at maxUnavailable 1: done, uncordoned, then the next cordoned", () => {
    const plan = aPlan({ rollout: { maxUnavailable: 1, soakTime: "0s" } }, verifying("worker-1", "worker-2"));
    const d = decide(anObservation(plan, [back("worker-1"), pulled(aNode("worker-2"))], { now: minutes(3) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Done");
    expect(entryOf(d, "worker-2")?.state).toBe("Draining");
    // Then the installer it runs is named in its configuration, as for any node done.
    expect(kinds(d)).toEqual(["uncordon:worker-1", "cordon:worker-2", "patchInstallImage:worker-1"]);
  });

  it("take one pass for control planes too, etcd keeping its quorum without the next", () => {
    const status = verifying("cp-1", "cp-2");
    const plan = aPlan(
      { rollout: { soakTime: "0s" } },
      { ...status, nodes: [...status.nodes, anEntry("cp-3", "Done")] },
    );
    const nodes = [back("cp-1"), pulled(aNode("cp-2")), aNode("cp-3", { version: "v1.12.4" })];
    const d = decide(anObservation(plan, nodes, { now: minutes(3) }));
    expect(entryOf(d, "cp-1")?.state).toBe("Done");
    expect(kinds(d)).toEqual(["uncordon:cp-1", "cordon:cp-2", "patchInstallImage:cp-1"]);
  });

  it("take two when afterNode hooks run on the uncordoned node first", () => {
    const plan = aPlan(
      { rollout: { maxUnavailable: 1, soakTime: "0s" }, hooks: { afterNode: [aHook("smoke")] } },
      verifying("worker-1", "worker-2"),
    );
    const d = decide(anObservation(plan, [back("worker-1"), pulled(aNode("worker-2"))], { now: minutes(3) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Soaking");
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });

  it("take two when the new boot has a Talos diagnostic: the health checks see it before a start", () => {
    const plan = aPlan({ rollout: { maxUnavailable: 1, soakTime: "0s" } }, verifying("worker-1", "worker-2"));
    const sick = back("worker-1", { diagnostics: ["address-overlap: host and pod subnets overlap"] });
    const d = decide(anObservation(plan, [sick, pulled(aNode("worker-2"))], { now: minutes(3) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Done");
    expect(entryOf(d, "worker-2")?.state).toBe("Pending");
    expect(kinds(d)).toEqual(["uncordon:worker-1", "patchInstallImage:worker-1"]);
  });

  it("take as long as the soak: the uncordon comes first, done once soaked", () => {
    const plan = aPlan({ rollout: { maxUnavailable: 1, soakTime: "5m" } }, verifying("worker-1", "worker-2"));
    const d = decide(anObservation(plan, [back("worker-1"), pulled(aNode("worker-2"))], { now: minutes(3) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Soaking");
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });
});
