// The Kubernetes phase as a pure step, the `talosctl upgrade-k8s` sequence done by the operator:
// pre-flight (path, support matrix, removed flags and APIs) → pre-pull → kube-apiserver,
// kube-controller-manager, kube-scheduler one control plane at a time → kube-proxy → kubelets
// (control planes, then workers maxUnavailable at a time). Each task patches one image in one
// machine configuration and waits for the result; a patch is made only while the configuration
// still differs, so a restart resumes where the status says without applying anything twice.

import { parseDuration } from "../api/v1alpha1/duration.ts";
import {
  excluded,
  type KubeComponent,
  type KubernetesStatus,
  type KubernetesTask,
  type Plan,
  type PlanSpec,
} from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { defaultRepositories, imageVersion, kubernetesImage } from "./image-refs.ts";
import { removedBetween, removedInArgs, unsupportedCombination } from "./kubernetes-compat.ts";
import { upgradeOrder, workerBudget } from "./selection.ts";
import { talosComplete } from "./talos-targets.ts";
import { currentStep, upgradePath } from "./version-path.ts";

const staticPods: KubeComponent[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** The nodes whose kubelets the phase upgrades: every node but the excluded ones. */
export function kubernetesNodes(nodes: NodeView[]): NodeView[] {
  return upgradeOrder(nodes.filter((n) => !excluded(n.labels)));
}

/** Every Kubernetes version running: control plane mirror pod images and kubelets. */
export function runningVersions(nodes: NodeView[]): string[] {
  const versions = nodes.flatMap((node) => [
    node.kubeletVersion,
    ...staticPods.map((c) => imageVersion(node.mirrorPods[c]?.image)),
  ]);
  return versions.filter((v): v is string => v !== undefined && /^v?\d+\.\d+\.\d+/.test(v));
}

const lowest = (versions: string[]) => [...versions].sort(compareVersions)[0];

/**
 * Why the Kubernetes versions a plan goes through cannot run on the Talos each node will have
 * then (its target if the plan upgrades it, else its own), or undefined.
 */
export function supportProblem(obs: Observation, selectedForTalos: Set<string>): string | undefined {
  const spec = obs.plan.spec;
  if (!spec.kubernetes) return undefined;
  const nodes = kubernetesNodes(obs.nodes);
  const from = lowest(runningVersions(nodes));
  const steps = [...spec.kubernetes.intermediateVersions, spec.kubernetes.version].filter(
    (v) => from === undefined || compareVersions(v, from) > 0 || v === spec.kubernetes?.version,
  );
  const problems: string[] = [];
  for (const node of nodes) {
    const talos =
      spec.talos && selectedForTalos.has(node.name) ? spec.talos.version : (node.talos.version ?? undefined);
    if (!talos) continue;
    for (const step of steps) {
      const problem = unsupportedCombination(talos, step);
      if (problem) {
        problems.push(`${node.name}: ${problem}`);
        break;
      }
    }
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

export interface KubernetesPhase {
  status: KubernetesStatus;
  actions: Action[];
  events: PlanEvent[];
  verdict: Verdict;
  /** Every node runs the target. */
  done: boolean;
  wakeAt?: number;
}

function imageFor(node: NodeView, component: KubeComponent, version: string): string {
  const current =
    component === "kubelet"
      ? (node.kubernetes?.images.kubelet ?? node.kubernetes?.kubeletImage)
      : node.kubernetes?.images[component];
  return kubernetesImage(current, defaultRepositories[component], version);
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
function plannedTasks(nodes: NodeView[], version: string, now: Date): KubernetesTask[] | string {
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
    ...nodes.map((n): [NodeView, KubeComponent] => [n, "kubelet"]),
  ];
  return pairs.map(([node, component]) => {
    const task: KubernetesTask = {
      component,
      node: node.name,
      role: node.role,
      state: "Pending",
      image: imageFor(node, component, version),
      message: "",
    };
    return converged(task, node, version)
      ? { ...task, state: "Done", finishedAt: now.toISOString(), message: `already at ${version}` }
      : task;
  });
}

/** What the pre-flight finds in the way of `version`: removed flags, feature gates and APIs. */
function removedInUse(nodes: NodeView[], obs: Observation, from: string, version: string): string[] {
  const removed = removedBetween(from, version);
  const found: string[] = [];
  for (const node of nodes) {
    const facts = node.kubernetes;
    if (!facts) continue;
    for (const component of staticPods) {
      for (const item of removedInArgs(facts.staticPodArgs[component] ?? [], component, removed))
        found.push(`${item} on ${component} of ${node.name}`);
    }
    for (const item of removedInArgs(facts.kubeletArgs, "kubelet", removed))
      found.push(`${item} on the kubelet of ${node.name}`);
  }
  for (const api of obs.removedApis ?? []) {
    if (!removed.apiResources.includes(api.resource)) continue;
    if (api.error) found.push(`cannot tell whether objects of ${api.resource} remain: ${api.error}`);
    else if (api.count > 0)
      found.push(`${api.count} object(s) of ${api.resource}, which ${version} no longer serves`);
  }
  return found;
}

const isActive = (t: KubernetesTask) => t.state === "Applying";

/**
 * Which nodes' Kubernetes facts the next pass needs from the Talos API: all of them to plan a
 * version's tasks, else those applying and those that may start next; none outside the phase.
 */
export function nodesToInspect(plan: Plan): "all" | Set<string> {
  const status = plan.status;
  const talosDone = talosComplete(status?.nodes ?? [], plan.spec.talos?.version);
  if (!plan.spec.kubernetes || !talosDone) return new Set();
  const tasks = status?.kubernetes?.tasks ?? [];
  if (tasks.length === 0 || status?.kubernetes?.step === "Preflight") return "all";
  const workers = tasks.filter((t) => t.component === "kubelet" && t.role === "worker").length;
  const budget = workerBudget(plan.spec.rollout.maxUnavailable, workers);
  const next = tasks.filter((t) => t.state === "Pending").slice(0, budget);
  return new Set([...tasks.filter(isActive), ...next].map((t) => t.node));
}

/**
 * One pass of the Kubernetes phase. `hold` is why no new task may start now (paused, window
 * closed, health checks failing); tasks already applying go on regardless.
 */
export function stepKubernetes(obs: Observation, hold: Verdict | undefined, retry: boolean): KubernetesPhase {
  const spec = obs.plan.spec.kubernetes as NonNullable<PlanSpec["kubernetes"]>;
  const now = obs.now;
  const previous = retried(obs.plan.status?.kubernetes, retry);
  const nodes = kubernetesNodes(obs.nodes);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const events: PlanEvent[] = [];
  const actions: Action[] = [];
  // A new target starts afresh; the same target resumes what status says.
  const sameTarget = previous?.targetVersion === spec.version;
  const running = runningVersions(nodes);
  const from = lowest(running);
  const fromVersion = (sameTarget ? previous?.fromVersion : undefined) ?? from;
  const base = { ...(fromVersion ? { fromVersion } : {}), targetVersion: spec.version };
  const result = (
    status: Omit<KubernetesStatus, "targetVersion" | "fromVersion">,
    verdict: Verdict,
    done = false,
    wakeAt?: number,
  ): KubernetesPhase => ({
    status: { ...status, ...base },
    actions,
    events,
    verdict,
    done,
    ...(wakeAt !== undefined ? { wakeAt } : {}),
  });
  const stalled = (reason: string, message: string, retrying = false): KubernetesPhase =>
    result(
      { ...previous, step: "Preflight", tasks: sameTarget ? (previous?.tasks ?? []) : [] },
      { kind: "stalled", reason, message, retrying },
    );

  if (!from) return stalled(Reason.KubernetesVersionUnknown, "no Kubernetes version found on any node", true);

  // Tasks listed but never started (by a dry run, or before a pre-flight stall) are planned
  // again, pre-flight first: the cluster may have changed since.
  const listedOnly = previous?.step === "Preflight" && !previous.tasks.some((t) => t.startedAt);
  // The version being rolled out: the one in status until its tasks are done, else the next step.
  const unfinished =
    sameTarget && !listedOnly && previous?.version && previous.tasks.some((t) => t.state !== "Done");
  let version = unfinished ? previous?.version : undefined;
  if (!version) {
    const path = upgradePath("Kubernetes", running, spec.version, spec.intermediateVersions);
    if (!path.ok) return stalled(path.reason, path.message);
    version = currentStep(running, path.steps);
  }
  if (!version) {
    return result(
      {
        version: spec.version,
        step: "Done",
        nodesDone: nodes.length,
        tasks: sameTarget ? (previous?.tasks ?? []) : [],
      },
      { kind: "progressing" },
      true,
    );
  }

  let tasks = sameTarget && previous?.version === version && !listedOnly ? previous.tasks : [];
  if (tasks.length === 0) {
    const support = supportProblem(obs, new Set());
    if (support) return stalled(Reason.UnsupportedKubernetesVersion, support);
    const blockers = removedInUse(nodes, obs, from, version);
    if (blockers.length > 0) {
      // Looked at again regularly: once the flags and objects are gone, the plan goes on.
      return stalled(
        Reason.RemovedItemsInUse,
        `Kubernetes ${version} removed what the cluster still uses: ${blockers.join("; ")}`,
        true,
      );
    }
    const planned = plannedTasks(nodes, version, now);
    if (typeof planned === "string") {
      return result(
        { ...previous, version, step: "Preflight", tasks: [] },
        {
          kind: "waiting",
          reason: Reason.Progressing,
          message: `reading the Kubernetes components: ${planned}`,
        },
      );
    }
    tasks = planned;
    events.push({
      type: "Normal",
      reason: Reason.KubernetesUpgradeStarted,
      message: `upgrading Kubernetes ${from} → ${version}${version === spec.version ? "" : ` (on the way to ${spec.version})`}`,
    });
  }

  // Pre-pull what the remaining tasks run, before anything is patched.
  const pulls: { task: KubernetesTask; node: NodeView }[] = tasks
    .filter((t) => t.state === "Pending" && t.component !== "kube-proxy" && t.image)
    .map((task) => ({ task, node: byName.get(task.node) as NodeView }))
    .filter((p) => p.node !== undefined);
  const started = tasks.some((t) => t.state !== "Pending" && t.startedAt);
  if (!started) {
    const missing = pulls.filter((p) => !p.node.pulls[p.task.image as string]);
    const failed = pulls.find((p) => p.node.pulls[p.task.image as string]?.error);
    if (failed) {
      const error = failed.node.pulls[failed.task.image as string]?.error;
      const message = `${failed.task.image} cannot be pulled on ${failed.node.name}: ${error}`;
      tasks = tasks.map((t) =>
        t === failed.task
          ? { ...t, state: "Failed", reason: Reason.ImagePullFailed, finishedAt: now.toISOString(), message }
          : t,
      );
      events.push({ type: "Warning", reason: Reason.ImagePullFailed, message });
      return result(
        { version, step: "PrePull", tasks, nodesDone: nodesDone(tasks) },
        { kind: "failed", reason: Reason.ImagePullFailed, message },
      );
    }
    if (missing.length > 0) {
      const seen = new Set<string>();
      for (const { task, node } of missing) {
        const key = `${node.name} ${task.image}`;
        if (seen.has(key) || !node.address) continue;
        seen.add(key);
        if (node.pulling?.includes(task.image as string)) continue;
        actions.push({
          kind: "prepull",
          node: node.name,
          address: node.address,
          image: task.image as string,
          api: compareVersions(node.talos.version ?? "v0.0.0", "v1.13.0") >= 0 ? "lifecycle" : "legacy",
          namespace: task.component === "kubelet" ? "NS_SYSTEM" : "NS_CRI",
        });
      }
      return result(
        { version, step: "PrePull", tasks, nodesDone: nodesDone(tasks) },
        {
          kind: "waiting",
          reason: Reason.PullingImage,
          message: `pre-pulling ${seen.size} image(s) for Kubernetes ${version}`,
        },
      );
    }
  }

  // Move applying tasks forward.
  const timeout = parseDuration(obs.plan.spec.rollout.nodeTimeout);
  let wakeAt: number | undefined;
  tasks = tasks.map((task) => {
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
        `not running ${version} within ${obs.plan.spec.rollout.nodeTimeout}: ${waitingFor(task, node, version)}`,
      );
    wakeAt = wakeAt === undefined ? deadline : Math.min(wakeAt, deadline);
    const facts = node.kubernetes;
    if (facts?.reachable && facts.images[task.component] !== task.image && node.address) {
      actions.push(patch(node, task));
      return { ...task, message: `patching the machine configuration to ${task.image}` };
    }
    return { ...task, message: waitingFor(task, node, version) };
  });

  const failed = tasks.find((t) => t.state === "Failed");
  if (failed) {
    const message = `${failed.component} on ${failed.node}: ${failed.message}`;
    return result(
      { version, step: stepName(tasks), tasks, nodesDone: nodesDone(tasks) },
      { kind: "failed", reason: failed.reason ?? Reason.NodeFailed, message },
    );
  }

  // Start new work: one control plane task at a time, then worker kubelets within the budget.
  const active = tasks.filter(isActive);
  const next = tasks.findIndex((t) => t.state === "Pending");
  let verdict: Verdict = { kind: "progressing" };
  if (next >= 0 && hold && active.length === 0) verdict = hold;
  else if (next >= 0 && !hold) {
    const start = (index: number) => {
      const task = tasks[index] as KubernetesTask;
      const node = byName.get(task.node);
      if (!node?.address) return;
      tasks[index] = { ...task, state: "Applying", startedAt: now.toISOString(), message: "patching" };
      if (node.kubernetes?.images[task.component] !== task.image) actions.push(patch(node, task));
    };
    tasks = [...tasks];
    const first = tasks[next] as KubernetesTask;
    if (first.role === "controlplane" || first.component !== "kubelet") {
      if (active.length === 0) start(next);
    } else {
      const workers = tasks.filter((t) => t.component === "kubelet" && t.role === "worker");
      const budget = workerBudget(obs.plan.spec.rollout.maxUnavailable, workers.length);
      const down = new Set([
        ...active.map((t) => t.node),
        ...nodes.filter((n) => n.role === "worker" && !n.ready).map((n) => n.name),
      ]);
      let busy = down.size;
      for (let i = next; i < tasks.length && busy < budget; i++) {
        const task = tasks[i] as KubernetesTask;
        if (task.state !== "Pending" || task.component !== "kubelet") continue;
        if (!byName.get(task.node)?.ready) continue;
        start(i);
        busy++;
      }
    }
  }
  if (tasks.every((t) => t.state === "Done")) {
    events.push({
      type: "Normal",
      reason: Reason.KubernetesStepDone,
      message: `Kubernetes ${version} runs on all ${nodes.length} node(s)`,
    });
  }
  return result(
    { version, step: stepName(tasks), tasks, nodesDone: nodesDone(tasks) },
    verdict,
    false,
    wakeAt,
  );
}

/** Failed tasks back to Pending when a retry is requested. */
function retried(status: KubernetesStatus | undefined, retry: boolean): KubernetesStatus | undefined {
  if (!status || !retry) return status;
  const tasks = status.tasks.map((task): KubernetesTask => {
    if (task.state !== "Failed") return task;
    const { reason: _reason, startedAt: _startedAt, finishedAt: _finishedAt, ...rest } = task;
    return { ...rest, state: "Pending", message: "retry requested" };
  });
  return { ...status, tasks };
}

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

function stepName(tasks: KubernetesTask[]): string {
  return tasks.find((t) => t.state !== "Done")?.component ?? "Done";
}

function nodesDone(tasks: KubernetesTask[]): number {
  const open = new Set(tasks.filter((t) => t.state !== "Done").map((t) => t.node));
  return new Set(tasks.map((t) => t.node).filter((n) => !open.has(n))).size;
}

/**
 * The Kubernetes phase as a dry run shows it: the pre-flight and the tasks the first pass would
 * plan, with nothing pulled, patched or announced. A pre-flight refusal comes back as `refusal`.
 */
export function previewKubernetes(obs: Observation): { phase: KubernetesPhase; refusal?: Verdict } {
  const { kubernetes: _listed, ...status } = obs.plan.status ?? { conditions: [], nodes: [], history: [] };
  const phase = stepKubernetes({ ...obs, plan: { ...obs.plan, status } }, { kind: "dryRun" }, false);
  const refused = phase.verdict.kind === "stalled" || phase.verdict.kind === "failed";
  return {
    phase: {
      ...phase,
      actions: [],
      events: [],
      status: { ...phase.status, step: phase.done ? "Done" : "Preflight" },
    },
    ...(refused ? { refusal: phase.verdict } : {}),
  };
}
