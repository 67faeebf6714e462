// The Kubernetes phase's status as stored and as parsed: worker kubelet tasks with nothing but a
// state become names, and parsing gives the decision core back every task, in order.
import fc from "fast-check";
import {
  finishedKubeletsKept,
  type KubernetesStatus,
  type KubernetesTask,
  kubernetesStatusSchema,
  storedKubernetesStatus,
} from "../../../src/api/v1alpha1/kubernetes-status.ts";
import { planStatusSchema, storedStatus } from "../../../src/api/v1alpha1/plan.ts";
import { kubeImage } from "../builders/nodes.ts";
import { anEntry, aStatus, aTask } from "../builders/plans.ts";

const kubelet = kubeImage("kubelet", "v1.35.0");
const mirrored = "mirror.example/siderolabs/kubelet:v1.35.0";
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 2, minute)).toISOString();

/** What the apiserver hands back for what the operator wrote, parsed as the operator parses it. */
const roundTrip = (status: KubernetesStatus) =>
  kubernetesStatusSchema.parse(JSON.parse(JSON.stringify(storedKubernetesStatus(status))));

const withTasks = (tasks: KubernetesTask[]): KubernetesStatus => ({
  version: "v1.35.0",
  step: "kubelet",
  tasks,
});

describe("the Kubernetes tasks as stored", () => {
  const tasks = [
    aTask("kube-apiserver", "cp-1", "Done", { image: "x", startedAt: at(0), finishedAt: at(1) }),
    aTask("kubelet", "cp-1", "Done", { image: kubelet, startedAt: at(1), finishedAt: at(2) }),
    aTask("kubelet", "worker-01", "Done", {
      image: kubelet,
      finishedAt: at(0),
      message: "already at v1.35.0",
    }),
    aTask("kubelet", "worker-02", "Done", { image: kubelet, startedAt: at(2), finishedAt: at(3) }),
    aTask("kubelet", "worker-03", "Applying", { image: kubelet, startedAt: at(3), message: "patching" }),
    aTask("kubelet", "worker-04", "Pending", { image: mirrored }),
    aTask("kubelet", "worker-05", "Pending", {
      image: kubelet,
      message: "waiting for the kubelet service to be healthy before patching it",
    }),
    aTask("kubelet", "worker-06", "Failed", {
      image: kubelet,
      startedAt: at(3),
      finishedAt: at(9),
      reason: "ComponentTimeout",
      message: "not running v1.35.0 within 10m",
    }),
    aTask("kubelet", "worker-07", "Pending", { image: kubelet }),
    aTask("kubelet", "worker-10", "Pending", { image: kubelet }),
  ];

  it("names the pending and done worker kubelets by image, and keeps whole what has more to say", () => {
    const stored = storedKubernetesStatus(withTasks(tasks));
    expect(stored.workerKubelets).toEqual([
      { image: kubelet, pending: ["worker-07", "worker-10"], done: ["worker-01"] },
      { image: mirrored, pending: ["worker-04"], done: [] },
    ]);
    expect(stored.tasks?.map((t) => `${t.component}@${t.node}`)).toEqual([
      "kube-apiserver@cp-1",
      "kubelet@cp-1",
      "kubelet@worker-02",
      "kubelet@worker-03",
      "kubelet@worker-05",
      "kubelet@worker-06",
    ]);
  });

  it("parses back to every task in its place; a named done task keeps only its state", () => {
    const worker01 = tasks[2] as KubernetesTask;
    const { finishedAt: _time, ...bare } = worker01;
    expect(roundTrip(withTasks(tasks)).tasks).toEqual(
      tasks.map((t) => (t === worker01 ? { ...bare, message: "" } : t)),
    );
  });

  it(`keeps whole the ${finishedKubeletsKept} done workers that finished last, whose times the estimate measures`, () => {
    const done = Array.from({ length: 25 }, (_, i) =>
      aTask("kubelet", `worker-${String(i).padStart(2, "0")}`, "Done", {
        image: kubelet,
        startedAt: at(i),
        finishedAt: at(i + (i % 7)),
        message: "running v1.35.0",
      }),
    );
    const latest = [...done]
      .sort((a, b) => (b.finishedAt as string).localeCompare(a.finishedAt as string))
      .slice(0, finishedKubeletsKept)
      .map((t) => t.node)
      .sort();
    const parsed = roundTrip(withTasks(done)).tasks;
    expect(parsed.map((t) => t.node)).toEqual(done.map((t) => t.node));
    expect(parsed.filter((t) => t.finishedAt !== undefined).map((t) => t.node)).toEqual(latest);
  });

  it("is stable: what parsing returns is stored as it was, whatever the tasks", () => {
    const states = ["Pending", "Applying", "Done", "Failed"] as const;
    const task = fc
      .record({
        worker: fc.integer({ min: 0, max: 40 }),
        component: fc.constantFrom("kubelet", "kubelet", "kube-apiserver"),
        state: fc.constantFrom(...states),
        image: fc.constantFrom(kubelet, mirrored),
        minute: fc.integer({ min: 0, max: 59 }),
        message: fc.constantFrom("", "patching", "running v1.35.0"),
      })
      .map(({ worker, component, state, image, minute, message }) =>
        aTask(component as KubernetesTask["component"], `worker-${String(worker).padStart(2, "0")}`, state, {
          image,
          message,
          ...(state !== "Pending" ? { startedAt: at(minute) } : {}),
          ...(state === "Done" || state === "Failed" ? { finishedAt: at(minute) } : {}),
        }),
      );
    fc.assert(
      fc.property(fc.uniqueArray(task, { selector: (t) => `${t.component}@${t.node}` }), (drawn) => {
        // As planned: other components first, then the worker kubelets by node name.
        const ordered = [
          ...drawn.filter((t) => t.component !== "kubelet"),
          ...drawn.filter((t) => t.component === "kubelet").sort((a, b) => a.node.localeCompare(b.node)),
        ];
        const once = roundTrip(withTasks(ordered));
        expect(once.tasks.map((t) => `${t.component}@${t.node}:${t.state}`)).toEqual(
          ordered.map((t) => `${t.component}@${t.node}:${t.state}`),
        );
        expect(roundTrip(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});

it("a node entry's empty message is left to the schema's default", () => {
  const status = aStatus(anEntry("cp-1", "Done"), anEntry("worker-1", "Draining", { message: "draining" }));
  const stored = storedStatus(status);
  expect(stored.nodes?.map((n) => n.message)).toEqual([undefined, "draining"]);
  expect(planStatusSchema.parse(JSON.parse(JSON.stringify(stored)))).toEqual(planStatusSchema.parse(status));
});
