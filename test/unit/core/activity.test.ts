// status.activity, what `kubectl describe tup` shows first: the work under way, what comes next, and
// what the plan waits for.
import { activityOf } from "../../../src/core/activity.ts";
import { decide } from "../../../src/core/decide.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, aTask } from "../builders/plans.ts";

describe("the plan's activity", () => {
  test("nodes under way by what they do, the next step's nodes, and later steps counted", () => {
    const entries = [
      anEntry("cp-1", "Done"),
      anEntry("worker-1", "Rebooting"),
      anEntry("worker-2", "Rebooting"),
      anEntry("worker-3", "Draining"),
      ...[4, 5, 6, 7, 8, 9, 10].map((i) => anEntry(`worker-${i}`, "Pending")),
      anEntry("worker-11", "Pending", { version: "v1.12.5" }),
    ];
    expect(
      activityOf({
        phase: "UpgradingTalos",
        entries,
        kubernetesTasks: [],
        kubernetesVersion: undefined,
        waitingFor: undefined,
      }),
    ).toEqual({
      current: "rebooting into v1.12.4: worker-1, worker-2; cordoned and draining for v1.12.4: worker-3",
      next: "worker-4, worker-5, worker-6, worker-7, worker-8 and 2 more to Talos v1.12.4, then 1 node(s) to a later step",
    });
  });

  test("after the Talos phase: the Kubernetes phase, then its tasks by component", () => {
    const settled = [anEntry("cp-1", "Done"), anEntry("worker-1", "Skipped")];
    const base = { phase: "UpgradingKubernetes" as const, entries: settled, kubernetesVersion: "v1.35.0" };
    expect(activityOf({ ...base, kubernetesTasks: [], waitingFor: undefined })).toEqual({
      current: "no node under way",
      next: "the Kubernetes phase, to v1.35.0",
    });
    const tasks = [
      aTask("kube-apiserver", "cp-1", "Applying"),
      aTask("kube-controller-manager", "cp-1", "Pending"),
      aTask("kubelet", "cp-1", "Pending"),
      aTask("kubelet", "worker-1", "Pending"),
    ];
    expect(activityOf({ ...base, kubernetesTasks: tasks, waitingFor: undefined })).toEqual({
      current: "applying kube-apiserver v1.35.0: cp-1",
      next: "kube-controller-manager v1.35.0 on cp-1, then 2 more task(s)",
    });
  });

  test("what it waits for, in the words of Ready; none once completed", () => {
    const nodes = [aNode("cp-1"), aNode("worker-1")];
    const paused = decide(anObservation(aPlan({ paused: true }), nodes));
    expect(paused.status.activity).toEqual({
      current: "no node under way",
      next: "cp-1, worker-1 to Talos v1.12.4",
      waitingFor: "spec.paused is true: no new node is started",
    });

    const done = aStatus(anEntry("cp-1", "Done"), anEntry("worker-1", "Done"));
    const upgraded = nodes.map((n) => aNode(n.name, { role: n.role, version: "v1.12.4" }));
    const completed = decide(anObservation(aPlan({}, done), upgraded));
    expect(completed.status.phase).toBe("Completed");
    expect(completed.status.activity).toBeUndefined();
  });

  test("names bounded whatever the fleet's size", () => {
    const entries = Array.from({ length: 5000 }, (_, i) =>
      anEntry(`worker-${i}`, i < 500 ? "Rebooting" : "Pending"),
    );
    const activity = activityOf({
      phase: "UpgradingTalos",
      entries,
      kubernetesTasks: [],
      kubernetesVersion: undefined,
      waitingFor: undefined,
    });
    expect(activity?.current).toBe(
      "rebooting into v1.12.4: worker-0, worker-1, worker-2, worker-3, worker-4 and 495 more",
    );
    expect(activity?.next.length).toBeLessThan(200);
  });
});
