// The time a plan still needs: from this plan's measured node durations, on the rollout's slots
// (one control plane at a time, then the worker budget), stretched over the maintenance windows.
// Expected values are worked out here by hand, in minutes from t0.
import type { KubernetesTask } from "../../../src/api/v1alpha1/kubernetes-status.ts";
import { decide } from "../../../src/core/decide.ts";
import { estimate, roughly } from "../../../src/core/estimate.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, minutes, t0 } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, aTask, aWindow } from "../builders/plans.ts";

const at = (m: number) => minutes(m).toISOString();
/** A node done in `took` minutes, ending `endedAgo` minutes before t0. */
const done = (name: string, took: number, endedAgo = 0) =>
  anEntry(name, "Done", { startedAt: at(-endedAgo - took), finishedAt: at(-endedAgo) });

describe("the time left", () => {
  test("none before a node of the plan is done, and none once nothing is left", () => {
    const spec = aPlan().spec;
    expect(
      estimate(spec, { talos: [anEntry("cp-1", "Pending"), anEntry("worker-1", "Pending")] }, t0),
    ).toBeUndefined();
    expect(estimate(spec, { talos: [done("cp-1", 10), done("worker-1", 5)] }, t0)).toBeUndefined();
  });

  test("control planes one at a time from the one under way, then the workers in waves of the budget", () => {
    const spec = aPlan({ rollout: { maxUnavailable: 2 } }).spec;
    const entries = [
      done("cp-1", 10),
      anEntry("cp-2", "Rebooting", { startedAt: at(-4) }),
      anEntry("cp-3", "Pending"),
      ...["a", "b", "c", "d", "e", "f"].map((w) => anEntry(`worker-${w}`, "Pending")),
    ];
    // cp-2 ends 6 minutes from now, cp-3 ten after: 16. No worker measured: 10 minutes each (the
    // control planes' figure), six in waves of two: 30 more. 46 minutes.
    expect(estimate(spec, { talos: entries }, t0)).toEqual({
      completionTime: at(46),
      timeLeft: "46m",
      message: "8 node(s) left in the Talos phase; measured: 1 control plane(s), 10m each",
    });
  });

  test("a percentage budget, a soak per node, and workers measured on their own", () => {
    const spec = aPlan({ rollout: { maxUnavailable: "50%", soakTime: "1m" } }).spec;
    const entries = [
      done("cp-1", 12, 30),
      done("worker-a", 3, 10),
      done("worker-b", 5, 10),
      anEntry("worker-c", "Draining", { startedAt: at(-1) }),
      anEntry("worker-d", "Pending"),
      anEntry("worker-e", "Pending"),
      anEntry("worker-f", "Pending"),
    ];
    // Six workers at 50%: 3 lanes; 4 + 1 = 5 minutes each. worker-c ends at 4; d and e at 5; f
    // takes the lane that frees first (c's, at 4) and ends at 9.
    const left = estimate(spec, { talos: entries }, t0);
    expect(left?.completionTime).toBe(at(9));
    expect(left?.timeLeft).toBe("9m");
    expect(left?.message).toBe(
      "4 node(s) left in the Talos phase; measured: 1 control plane(s), 12m each, 2 worker(s), 4m each, plus a soak of 1m each",
    );
  });

  test("a node under way longer than measured is taken to end now, not in the past", () => {
    const spec = aPlan().spec;
    const entries = [done("worker-a", 5), anEntry("worker-b", "Rebooting", { startedAt: at(-20) })];
    expect(estimate(spec, { talos: entries }, t0)).toMatchObject({ completionTime: at(0), timeLeft: "1m" });
  });

  test("work counted inside the maintenance windows only", () => {
    // A one-hour window every day at 02:00 UTC; t0 is 02:00, so it is open for 60 more minutes.
    const spec = aPlan({ maintenanceWindows: [aWindow("0 2 * * *", "1h")] }).spec;
    const entries = [done("worker-a", 30), ...["b", "c", "d"].map((w) => anEntry(`worker-${w}`, "Pending"))];
    // 90 minutes of work: 60 today, 30 from 02:00 tomorrow.
    const left = estimate(spec, { talos: entries }, t0);
    expect(left?.completionTime).toBe(at(24 * 60 + 30));
    expect(left?.timeLeft).toBe("1d");
    expect(left?.message).toContain("counted inside the maintenance windows");
  });

  test("the Kubernetes phase: its tasks one at a time, then the workers' kubelets within the budget", () => {
    const spec = aPlan({ kubernetes: { version: "v1.35.0" }, rollout: { maxUnavailable: 2 } }).spec;
    const tasks: KubernetesTask[] = [
      aTask("kube-apiserver", "cp-1", "Done", { startedAt: at(-3), finishedAt: at(-1) }),
      aTask("kube-controller-manager", "cp-1", "Applying", { startedAt: at(-1) }),
      aTask("kube-scheduler", "cp-1", "Pending"),
      aTask("kubelet", "worker-1", "Pending"),
      aTask("kubelet", "worker-2", "Pending"),
      aTask("kubelet", "worker-3", "Pending"),
    ];
    // Two minutes a task: the controller manager ends at 1, the scheduler at 3; three kubelets on
    // two lanes, two minutes each (measured on the serial tasks): 5 and 7.
    expect(estimate(spec, { kubernetes: tasks }, t0)).toEqual({
      completionTime: at(7),
      timeLeft: "7m",
      message: "5 task(s) left in the Kubernetes phase; measured: 1 task(s) one at a time, 2m each",
    });
  });

  test("durations read as minutes, then hours and minutes, then days and hours", () => {
    expect([1, 59_000, 90_000, 3_600_000, 95 * 60_000, 50 * 3_600_000, 48 * 3_600_000].map(roughly)).toEqual([
      "1m",
      "1m",
      "2m",
      "1h",
      "1h35m",
      "2d2h",
      "2d",
    ]);
  });

  test("in the plan's status while it rolls out; not while paused, and not once completed", () => {
    const nodes = [aNode("cp-1", { version: "v1.12.4" }), aNode("worker-1"), aNode("worker-2")];
    const status = aStatus(done("cp-1", 8), anEntry("worker-1", "Pending"), anEntry("worker-2", "Pending"));
    const rolling = decide(anObservation(aPlan({}, status), nodes));
    expect(rolling.status.phase).toBe("UpgradingTalos");
    expect(rolling.status.estimate?.timeLeft).toBe("16m");

    const paused = decide(anObservation(aPlan({ paused: true }, status), nodes));
    expect(paused.status.phase).toBe("Paused");
    expect(paused.status.estimate).toBeUndefined();

    const upgraded = nodes.map((n) => aNode(n.name, { role: n.role, version: "v1.12.4" }));
    const all = aStatus(done("cp-1", 8), done("worker-1", 4), done("worker-2", 4));
    const completed = decide(anObservation(aPlan({}, all), upgraded));
    expect(completed.status.phase).toBe("Completed");
    expect(completed.status.estimate).toBeUndefined();
  });
});
