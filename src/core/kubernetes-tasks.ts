// The Kubernetes phase's tasks, one component on one node each: planning them for a version,
// pre-pulling what they run, moving those applying forward and starting new ones within the rules
// (one control plane task at a time, then worker kubelets within maxUnavailable).
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { KubeComponent, KubernetesTask } from "../api/v1alpha1/kubernetes-status.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import type { NodeView } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { defaultRepositories, kubernetesImage } from "./image-refs.ts";
import { workerBudget } from "./selection.ts";

type KubernetesSpec = NonNullable<PlanSpec["kubernetes"]>;

export const staticPods: KubeComponent[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** What one part of a pass did to the tasks. */
interface TaskStep {
  tasks: KubernetesTask[];
  actions: Action[];
  events: PlanEvent[];
}

/**
 * Before the first patch, every image the tasks run is pulled on its node (static pods into the
 * CRI namespace, the kubelet into the system one). A failed pull fails its task; pulls still
 * missing come back as a waiting verdict.
 */
export function prePull(
  byName: Map<string, NodeView>,
  version: string,
  tasks: KubernetesTask[],
  now: Date,
): TaskStep & { verdict?: Verdict } {
  const none = { tasks, actions: [], events: [] };
  if (tasks.some((t) => t.state !== "Pending" && t.startedAt)) return none;
  const pulls = tasks
    .filter((t) => t.state === "Pending" && t.component !== "kube-proxy" && t.image)
    .map((task) => ({ task, node: byName.get(task.node) as NodeView, image: task.image as string }))
    .filter((p) => p.node !== undefined);
  const failed = pulls.find((p) => p.node.pulls[p.image]?.error);
  if (failed) {
    const message = `${failed.image} cannot be pulled on ${failed.node.name}: ${failed.node.pulls[failed.image]?.error}`;
    const failedTask: KubernetesTask = {
      ...failed.task,
      state: "Failed",
      reason: Reason.ImagePullFailed,
      finishedAt: now.toISOString(),
      message,
    };
    return {
      tasks: tasks.map((t) => (t === failed.task ? failedTask : t)),
      actions: [],
      events: [{ type: "Warning", reason: Reason.ImagePullFailed, message }],
      verdict: { kind: "failed", reason: Reason.ImagePullFailed, message },
    };
  }
  const missing = new Map<string, (typeof pulls)[number]>();
  for (const p of pulls.filter((p) => !p.node.pulls[p.image] && p.node.address))
    missing.set(`${p.node.name} ${p.image}`, p);
  if (missing.size === 0) return none;
  const actions: Action[] = [...missing.values()]
    .filter(({ node, image }) => !node.pulling?.includes(image))
    .map(({ task, node, image }) => ({
      kind: "prepull",
      node: node.name,
      address: node.address as string,
      image,
      api: compareVersions(node.talos.version ?? "v0.0.0", "v1.13.0") >= 0 ? "lifecycle" : "legacy",
      namespace: task.component === "kubelet" ? "NS_SYSTEM" : "NS_CRI",
    }));
  const message = `pre-pulling ${missing.size} image(s) for Kubernetes ${version}`;
  return { tasks, actions, events: [], verdict: { kind: "waiting", reason: Reason.PullingImage, message } };
}

/**
 * Tasks applying move on: done once the component runs the new image, failed when Talos refuses
 * the patch or nodeTimeout passes, patched again while the configuration still differs.
 */
export function advanceTasks(
  byName: Map<string, NodeView>,
  version: string,
  tasks: KubernetesTask[],
  rollout: PlanSpec["rollout"],
  now: Date,
): TaskStep & { wakeAt?: number } {
  const timeout = parseDuration(rollout.nodeTimeout);
  const actions: Action[] = [];
  const events: PlanEvent[] = [];
  let wakeAt: number | undefined;
  const advanced = tasks.map((task): KubernetesTask => {
    if (!isActive(task)) return task;
    const node = byName.get(task.node);
    const fail = (reason: string, message: string): KubernetesTask => {
      events.push({ type: "Warning", reason, message: `${task.component} on ${task.node}: ${message}` });
      return { ...task, state: "Failed", reason, finishedAt: now.toISOString(), message };
    };
    if (!node) return fail(Reason.NodeFailed, "the Kubernetes Node disappeared");
    const refused = node.patchErrors?.[task.component];
    if (refused) return fail(Reason.ConfigPatchRefused, `Talos refused the configuration patch: ${refused}`);
    if (converged(task, node, version)) {
      events.push({
        type: "Normal",
        reason: Reason.ComponentUpgraded,
        message: `${task.component} on ${task.node} runs ${version}`,
      });
      return { ...task, state: "Done", finishedAt: now.toISOString(), message: `running ${version}` };
    }
    const deadline = Date.parse(task.startedAt ?? now.toISOString()) + timeout;
    if (now.getTime() > deadline)
      return fail(
        Reason.ComponentTimeout,
        `not running ${version} within ${rollout.nodeTimeout}: ${waitingFor(task, node, version)}`,
      );
    wakeAt = wakeAt === undefined ? deadline : Math.min(wakeAt, deadline);
    const facts = node.kubernetes;
    if (facts?.reachable && facts.images[task.component] !== task.image && node.address) {
      actions.push(patch(node, task));
      return { ...task, message: `patching the machine configuration to ${task.image}` };
    }
    return { ...task, message: waitingFor(task, node, version) };
  });
  return { tasks: advanced, actions, events, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/**
 * Starts new tasks unless `hold` says no: one control plane task at a time, then worker kubelets
 * within the budget, counting workers not Ready as down.
 */
export function startTasks(
  nodes: NodeView[],
  tasks: KubernetesTask[],
  hold: Verdict | undefined,
  maxUnavailable: PlanSpec["rollout"]["maxUnavailable"],
  now: Date,
): { tasks: KubernetesTask[]; actions: Action[]; verdict: Verdict } {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const active = tasks.filter(isActive);
  const next = tasks.findIndex((t) => t.state === "Pending");
  if (next < 0) return { tasks, actions: [], verdict: { kind: "progressing" } };
  if (hold) return { tasks, actions: [], verdict: active.length === 0 ? hold : { kind: "progressing" } };
  const out = [...tasks];
  const actions: Action[] = [];
  /** Starts the task at `index`; false when its node cannot take it yet (the task says why). */
  const start = (index: number): boolean => {
    const task = out[index] as KubernetesTask;
    const node = byName.get(task.node);
    if (!node?.address) return false;
    // As upgrade-k8s checks: a kubelet is patched only while it runs healthy, so that its restart
    // onto the new image can be told apart from a kubelet that was failing already.
    if (task.component === "kubelet" && !node.kubernetes?.kubeletHealthy) {
      out[index] = { ...task, message: "waiting for the kubelet service to be healthy before patching it" };
      return false;
    }
    out[index] = { ...task, state: "Applying", startedAt: now.toISOString(), message: "patching" };
    if (node.kubernetes?.images[task.component] !== task.image) actions.push(patch(node, task));
    return true;
  };
  const first = out[next] as KubernetesTask;
  if (first.role === "controlplane" || first.component !== "kubelet") {
    if (active.length === 0) start(next);
    return { tasks: out, actions, verdict: { kind: "progressing" } };
  }
  const workers = out.filter((t) => t.component === "kubelet" && t.role === "worker");
  const budget = workerBudget(maxUnavailable, workers.length);
  const down = new Set([
    ...active.map((t) => t.node),
    ...nodes.filter((n) => n.role === "worker" && !n.ready).map((n) => n.name),
  ]);
  let busy = down.size;
  for (let i = next; i < out.length && busy < budget; i++) {
    const task = out[i] as KubernetesTask;
    if (task.state !== "Pending" || task.component !== "kubelet") continue;
    if (!byName.get(task.node)?.ready) continue;
    if (start(i)) busy++;
  }
  return { tasks: out, actions, verdict: { kind: "progressing" } };
}

/** Where a plan takes each component's image from, by the plan's field names. */
const repositoryField: Record<KubeComponent, keyof NonNullable<KubernetesSpec["repositories"]>> = {
  "kube-apiserver": "apiServer",
  "kube-controller-manager": "controllerManager",
  "kube-scheduler": "scheduler",
  "kube-proxy": "proxy",
  kubelet: "kubelet",
};

function imageFor(node: NodeView, component: KubeComponent, version: string, spec: KubernetesSpec): string {
  const current =
    component === "kubelet"
      ? (node.kubernetes?.images.kubelet ?? node.kubernetes?.kubeletImage)
      : node.kubernetes?.images[component];
  const repository = spec.repositories?.[repositoryField[component]];
  return kubernetesImage(current, defaultRepositories[component], version, repository);
}

/** A task is already done when the configuration names its image and the component runs it. */
function converged(task: KubernetesTask, node: NodeView, version: string): boolean {
  const facts = node.kubernetes;
  if (!facts?.reachable || facts.images[task.component] !== task.image) return false;
  if (task.component === "kube-proxy") return true;
  if (task.component === "kubelet") {
    return (
      facts.kubeletImage === task.image &&
      facts.kubeletHealthy &&
      node.kubeletVersion === version &&
      node.ready
    );
  }
  const rendered = facts.rendered[task.component];
  const pod = node.mirrorPods[task.component];
  return (
    rendered !== undefined &&
    rendered.image === task.image &&
    pod?.configVersion === rendered.version &&
    pod.image === task.image &&
    pod.ready
  );
}

/** Tasks for one version, in order: each static pod on every control plane, kube-proxy, kubelets. */
export function plannedTasks(
  nodes: NodeView[],
  version: string,
  spec: KubernetesSpec,
  now: Date,
): KubernetesTask[] | string {
  const unreadable = nodes.filter((n) => !n.kubernetes?.reachable);
  if (unreadable.length > 0) {
    return unreadable.map((n) => `${n.name}: ${n.kubernetes?.error ?? "not read yet"}`).join("; ");
  }
  const controlPlanes = nodes.filter((n) => n.role === "controlplane");
  const pairs: [NodeView, KubeComponent][] = [
    ...staticPods.flatMap((c) => controlPlanes.map((n): [NodeView, KubeComponent] => [n, c])),
    ...controlPlanes
      .filter((n) => !n.kubernetes?.proxyDisabled)
      .map((n): [NodeView, KubeComponent] => [n, "kube-proxy"]),
    ...(spec.upgradeKubelet ? nodes.map((n): [NodeView, KubeComponent] => [n, "kubelet"]) : []),
  ];
  return pairs.map(([node, component]) => {
    const task: KubernetesTask = {
      component,
      node: node.name,
      role: node.role,
      state: "Pending",
      image: imageFor(node, component, version, spec),
      message: "",
    };
    return converged(task, node, version)
      ? { ...task, state: "Done", finishedAt: now.toISOString(), message: `already at ${version}` }
      : task;
  });
}

export const isActive = (t: KubernetesTask) => t.state === "Applying";

function patch(node: NodeView, task: KubernetesTask): Action {
  return {
    kind: "patchConfig",
    node: node.name,
    address: node.address as string,
    component: task.component,
    image: task.image as string,
  };
}

function waitingFor(task: KubernetesTask, node: NodeView, version: string): string {
  const facts = node.kubernetes;
  if (!facts?.reachable) return `the Talos API does not answer: ${facts?.error ?? "not read yet"}`;
  if (facts.images[task.component] !== task.image) return "the configuration patch is not applied yet";
  if (task.component === "kubelet") {
    if (facts.kubeletImage !== task.image || !facts.kubeletHealthy)
      return "waiting for the kubelet service to restart healthy";
    return `waiting for the Node to be Ready on kubelet ${version} (reports ${node.kubeletVersion ?? "none"})`;
  }
  const rendered = facts.rendered[task.component];
  if (!rendered || rendered.image !== task.image) return "waiting for Talos to render the new configuration";
  const pod = node.mirrorPods[task.component];
  return `waiting for the mirror pod with config version ${rendered.version} to be Ready (${pod ? `has ${pod.configVersion ?? "none"}, ${pod.ready ? "Ready" : "not Ready"}` : "no pod"})`;
}

export function stepName(tasks: KubernetesTask[]): string {
  return tasks.find((t) => t.state !== "Done")?.component ?? "Done";
}

export function nodesDone(tasks: KubernetesTask[]): number {
  const open = new Set(tasks.filter((t) => t.state !== "Done").map((t) => t.node));
  return new Set(tasks.map((t) => t.node).filter((n) => !open.has(n))).size;
}
