// The Kubernetes phase as a pure step, the `talosctl upgrade-k8s` sequence done by the operator:
// pre-flight (path, support matrix, removed flags and APIs) → pre-pull → kube-apiserver,
// kube-controller-manager, kube-scheduler one control plane at a time → kube-proxy → kubelets
// (control planes, then workers maxUnavailable at a time). Each task patches one image in one
// machine configuration and waits for the result; a patch is made only while the configuration
// still differs, so a restart resumes where the status says without applying anything twice.

import type { KubernetesStatus, KubernetesTask } from "../api/v1alpha1/kubernetes-status.ts";
import { upgradeOrder } from "../api/v1alpha1/node-entries.ts";
import { excluded, type Plan, type PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { imageVersion } from "./image-refs.ts";
import { removedBetween, removedInArgs, unsupportedCombination } from "./kubernetes-compat.ts";
import {
  advanceTasks,
  isActive,
  nodesDone,
  plannedTasks,
  prePull,
  startTasks,
  staticPods,
  stepName,
} from "./kubernetes-tasks.ts";
import { type ManifestStep, stepManifests } from "./manifests.ts";
import { workerBudget } from "./selection.ts";
import { talosComplete } from "./talos-targets.ts";
import { currentStep, upgradePath } from "./version-path.ts";

/** The nodes whose kubelets the phase upgrades: every node but the excluded ones. */
export function kubernetesNodes(nodes: NodeView[]): NodeView[] {
  return upgradeOrder(nodes.filter((n) => !excluded(n.labels)));
}

/**
 * Every Kubernetes version running: control plane mirror pod images, the kubelets unless the plan
 * leaves them alone, and kube-proxy pods where the plan syncs the manifests that run them (as
 * talosctl finds the version it upgrades from).
 */
export function runningVersions(
  nodes: NodeView[],
  counted: { kubelets: boolean; proxies: boolean },
): string[] {
  const versions = nodes.flatMap((node) => [
    ...(counted.kubelets ? [node.kubeletVersion] : []),
    ...staticPods.map((c) => imageVersion(node.mirrorPods[c]?.image)),
    ...(counted.proxies ? (node.proxyImages ?? []).map(imageVersion) : []),
  ]);
  return versions.filter((v): v is string => v !== undefined && /^v?\d+\.\d+\.\d+/.test(v));
}

/** What tells the version a plan's Kubernetes runs: kubelets it upgrades, kube-proxy it syncs. */
export function countedVersions(spec: NonNullable<PlanSpec["kubernetes"]>): {
  kubelets: boolean;
  proxies: boolean;
} {
  return { kubelets: spec.upgradeKubelet, proxies: spec.manifests.mode === "Apply" };
}

/** The Kubernetes nodes not on `spec.version` yet, by what the plan counts of them. */
export function kubernetesBehind(nodes: NodeView[], spec: NonNullable<PlanSpec["kubernetes"]>): string[] {
  const counted = countedVersions(spec);
  return kubernetesNodes(nodes)
    .filter((n) => runningVersions([n], counted).some((v) => v !== spec.version))
    .map((n) => n.name);
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
  const from = lowest(runningVersions(nodes, countedVersions(spec.kubernetes)));
  const steps = [...spec.kubernetes.intermediateVersions, spec.kubernetes.version].filter(
    (v) => from === undefined || compareVersions(v, from) > 0 || v === spec.kubernetes?.version,
  );
  const problems: string[] = [];
  for (const node of nodes) {
    const talosVersion =
      spec.talos && selectedForTalos.has(node.name) ? spec.talos.version : (node.talos.version ?? undefined);
    if (!talosVersion) continue;
    for (const step of steps) {
      const problem = unsupportedCombination(talosVersion, step);
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
 * Whether the next pass needs the bootstrap manifests and their dry run: once the components of a
 * version are done (until the plan completes), and for a dry run once the Talos phase is done.
 */
export function manifestsWanted(plan: Plan): boolean {
  const spec = plan.spec.kubernetes;
  if (!spec || spec.manifests.mode === "Skip" || plan.status?.phase === "Completed") return false;
  const talosDone = talosComplete(plan.status?.nodes ?? [], plan.spec.talos?.version);
  if (plan.spec.dryRun) return talosDone;
  const status = plan.status?.kubernetes;
  if (!talosDone || status?.targetVersion !== spec.version || status.step === "Preflight") return false;
  return (
    status.step === "Manifests" || (status.tasks.length > 0 && status.tasks.every((t) => t.state === "Done"))
  );
}

/** What a pass of the phase knows before it decides anything. */
interface PhaseContext {
  obs: Observation;
  spec: NonNullable<PlanSpec["kubernetes"]>;
  now: Date;
  /** The phase's status from the last pass, with failed tasks back to Pending on a retry. */
  previous: KubernetesStatus | undefined;
  nodes: NodeView[];
  byName: Map<string, NodeView>;
  /** The target is the one status was written for: resume it (a new target starts afresh). */
  sameTarget: boolean;
  running: string[];
  from: string | undefined;
}

/** The version a pass rolls out and its tasks, the phase done, or why it cannot go on. */
type Rollout =
  | { kind: "rollout"; version: string; tasks: KubernetesTask[]; events: PlanEvent[] }
  | { kind: "done" }
  | { kind: "refused"; status: Omit<KubernetesStatus, "targetVersion" | "fromVersion">; verdict: Verdict };

/**
 * One pass of the Kubernetes phase: the version and its tasks (resumed from status, else planned
 * after the pre-flight) → pre-pull → advance the tasks already applying → start new ones unless
 * `hold` (paused, window closed, health checks failing) says no. A version with tasks under way
 * is always resumed, so no pre-flight finding ever stops a task in flight.
 */
export function stepKubernetes(obs: Observation, hold: Verdict | undefined, retry: boolean): KubernetesPhase {
  const ctx = phaseContext(obs, retry);
  const current = rollout(ctx);
  if (current.kind === "done") return afterLastVersion(ctx, obs, hold);
  if (current.kind === "refused") return phaseResult(ctx, current.status, current.verdict);
  const { version } = current;
  const events = [...current.events];
  const summary = (tasks: KubernetesTask[]) => ({
    version,
    step: stepName(tasks),
    tasks,
    nodesDone: nodesDone(tasks),
  });

  const pulled = prePull(ctx.byName, version, current.tasks, ctx.now);
  events.push(...pulled.events);
  if (pulled.verdict) {
    const status = { version, step: "PrePull", tasks: pulled.tasks, nodesDone: nodesDone(pulled.tasks) };
    return phaseResult(ctx, status, pulled.verdict, { actions: pulled.actions, events });
  }

  const advanced = advanceTasks(ctx.byName, version, pulled.tasks, obs.plan.spec.rollout, ctx.now);
  events.push(...advanced.events);
  const failed = advanced.tasks.find((t) => t.state === "Failed");
  if (failed) {
    const message = `${failed.component} on ${failed.node}: ${failed.message}`;
    const verdict: Verdict = { kind: "failed", reason: failed.reason ?? Reason.NodeFailed, message };
    return phaseResult(ctx, summary(advanced.tasks), verdict, { actions: advanced.actions, events });
  }

  const started = startTasks(ctx.nodes, advanced.tasks, hold, obs.plan.spec.rollout.maxUnavailable, ctx.now);
  const actions = [...advanced.actions, ...started.actions];
  if (!started.tasks.every((t) => t.state === "Done")) {
    return phaseResult(ctx, summary(started.tasks), started.verdict, {
      actions,
      events,
      ...(advanced.wakeAt !== undefined ? { wakeAt: advanced.wakeAt } : {}),
    });
  }
  return endVersion(ctx, version, summary(started.tasks), started.verdict, { actions, events }, hold);
}

/** With every version done: the target's manifests are synced (or found in sync) before the phase ends. */
function afterLastVersion(ctx: PhaseContext, obs: Observation, hold: Verdict | undefined): KubernetesPhase {
  const tasks = ctx.sameTarget ? (ctx.previous?.tasks ?? []) : [];
  // Every node the phase worked on (with kubelets left alone, the control planes), or every node.
  const done = tasks.length > 0 ? nodesDone(tasks) : ctx.nodes.length;
  const status = { version: ctx.spec.version, step: "Done", nodesDone: done, tasks };
  // A completed plan has synced already.
  const completed = obs.plan.status?.phase === "Completed";
  const sync = completed ? undefined : syncPass(ctx, ctx.spec.version, hold);
  const manifests = completed ? ctx.previous?.manifests : sync?.status;
  const withManifests = { ...status, ...(manifests ? { manifests } : {}) };
  if (sync?.verdict) {
    return phaseResult(ctx, { ...withManifests, step: "Manifests" }, sync.verdict, {
      actions: sync.actions,
      events: sync.events,
      ...(sync.wakeAt !== undefined ? { wakeAt: sync.wakeAt } : {}),
    });
  }
  return phaseResult(ctx, withManifests, { kind: "progressing" }, { done: true, events: sync?.events ?? [] });
}

/**
 * The components run `version`: the manifests Talos now renders for it, and kube-proxy running it
 * on every node, end the step.
 */
function endVersion(
  ctx: PhaseContext,
  version: string,
  summary: Omit<KubernetesStatus, "targetVersion" | "fromVersion">,
  verdict: Verdict,
  effects: { actions: Action[]; events: PlanEvent[] },
  hold: Verdict | undefined,
): KubernetesPhase {
  const { actions } = effects;
  const events = [...effects.events];
  const sync = syncPass(ctx, version, hold);
  events.push(...sync.events);
  const status = { ...summary, ...(sync.status ? { manifests: sync.status } : {}) };
  if (sync.verdict) {
    return phaseResult(ctx, { ...status, step: "Manifests" }, sync.verdict, {
      actions: [...actions, ...sync.actions],
      events,
      ...(sync.wakeAt !== undefined ? { wakeAt: sync.wakeAt } : {}),
    });
  }
  // kube-proxy is done when its pods run the version everywhere (the sync rolled them out).
  const behind = countedVersions(ctx.spec).proxies ? proxiesBehind(ctx.nodes, version) : [];
  if (behind.length > 0) {
    const message = `waiting for the kube-proxy pods to run ${version} on ${nameList(behind)}`;
    const waiting: Verdict = { kind: "waiting", reason: Reason.Progressing, message };
    return phaseResult(ctx, { ...status, step: "Manifests" }, waiting, { actions, events });
  }
  events.push({
    type: "Normal",
    reason: Reason.KubernetesStepDone,
    message: `Kubernetes ${version} runs on all ${ctx.nodes.length} node(s)`,
  });
  return phaseResult(ctx, status, verdict, { actions, events });
}

/** Nodes whose kube-proxy pods run another version than `version`. */
function proxiesBehind(nodes: NodeView[], version: string): string[] {
  return nodes
    .filter((n) => (n.proxyImages ?? []).some((image) => imageVersion(image) !== version))
    .map((n) => n.name);
}

/** The manifest sync of `version`, resumed from the status written for it. */
function syncPass(ctx: PhaseContext, version: string, hold: Verdict | undefined): ManifestStep {
  const previous = ctx.sameTarget && ctx.previous?.version === version ? ctx.previous.manifests : undefined;
  return stepManifests({
    view: ctx.obs.manifests,
    spec: ctx.spec.manifests,
    previous,
    now: ctx.now,
    dryRun: false,
    ...(hold ? { hold } : {}),
  });
}

function phaseContext(obs: Observation, retry: boolean): PhaseContext {
  const spec = obs.plan.spec.kubernetes as NonNullable<PlanSpec["kubernetes"]>;
  const previous = retried(obs.plan.status?.kubernetes, retry);
  const nodes = kubernetesNodes(obs.nodes);
  const running = runningVersions(nodes, countedVersions(spec));
  return {
    obs,
    spec,
    now: obs.now,
    previous,
    nodes,
    byName: new Map(nodes.map((n) => [n.name, n])),
    sameTarget: previous?.targetVersion === spec.version,
    running,
    from: lowest(running),
  };
}

function phaseResult(
  ctx: PhaseContext,
  status: Omit<KubernetesStatus, "targetVersion" | "fromVersion">,
  verdict: Verdict,
  more: { actions?: Action[]; events?: PlanEvent[]; done?: boolean; wakeAt?: number } = {},
): KubernetesPhase {
  const fromVersion = (ctx.sameTarget ? ctx.previous?.fromVersion : undefined) ?? ctx.from;
  return {
    status: { ...status, ...(fromVersion ? { fromVersion } : {}), targetVersion: ctx.spec.version },
    actions: more.actions ?? [],
    events: more.events ?? [],
    verdict,
    done: more.done ?? false,
    ...(more.wakeAt !== undefined ? { wakeAt: more.wakeAt } : {}),
  };
}

/** The version to roll out: the one in status while its tasks are unfinished, else the path's next step. */
function rollout(ctx: PhaseContext): Rollout {
  const { previous, sameTarget, spec } = ctx;
  // Tasks listed but never started (by a dry run, or before a pre-flight stall) are planned
  // again, pre-flight first: the cluster may have changed since.
  const listedOnly = previous?.step === "Preflight" && !previous.tasks.some((t) => t.startedAt);
  const resumable = sameTarget && !listedOnly && previous?.version !== undefined;
  if (resumable && previous?.version && previous.tasks.some((t) => t.state !== "Done"))
    return { kind: "rollout", version: previous.version, tasks: previous.tasks, events: [] };
  const refused = (reason: string, message: string, retrying = false): Rollout => ({
    kind: "refused",
    status: { ...previous, step: "Preflight", tasks: sameTarget ? (previous?.tasks ?? []) : [] },
    verdict: { kind: "stalled", reason, message, retrying },
  });
  if (!ctx.from)
    return refused(Reason.KubernetesVersionUnknown, "no Kubernetes version found on any node", true);
  const path = upgradePath("Kubernetes", ctx.running, spec.version, spec.intermediateVersions);
  if (!path.ok) return refused(path.reason, path.message);
  const version = currentStep(ctx.running, path.steps);
  if (!version) return { kind: "done" };
  if (resumable && previous?.version === version && previous.tasks.length > 0)
    return { kind: "rollout", version, tasks: previous.tasks, events: [] };

  // A version's first pass: the pre-flight, then its tasks.
  const support = supportProblem(ctx.obs, new Set());
  if (support) return refused(Reason.UnsupportedKubernetesVersion, support);
  const blockers = removedInUse(ctx.nodes, ctx.obs, ctx.from, version);
  if (blockers.length > 0) {
    // Looked at again regularly: once the flags and objects are gone, the plan goes on.
    const message = `Kubernetes ${version} removed what the cluster still uses: ${blockers.join("; ")}`;
    return refused(Reason.RemovedItemsInUse, message, true);
  }
  const planned = plannedTasks(ctx.nodes, version, spec, ctx.now);
  if (typeof planned === "string") {
    return {
      kind: "refused",
      status: { ...previous, version, step: "Preflight", tasks: [] },
      verdict: {
        kind: "waiting",
        reason: Reason.Progressing,
        message: `reading the Kubernetes components: ${planned}`,
      },
    };
  }
  const onTheWay = version === spec.version ? "" : ` (on the way to ${spec.version})`;
  const started: PlanEvent = {
    type: "Normal",
    reason: Reason.KubernetesUpgradeStarted,
    message: `upgrading Kubernetes ${ctx.from} → ${version}${onTheWay}`,
  };
  return { kind: "rollout", version, tasks: planned, events: [started] };
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

/**
 * The Kubernetes phase as a dry run shows it: the pre-flight and the tasks the first pass would
 * plan, with nothing pulled, patched or announced. A pre-flight refusal comes back as `refusal`.
 */
export function previewKubernetes(obs: Observation): { phase: KubernetesPhase; refusal?: Verdict } {
  const { kubernetes: _listed, ...status } = obs.plan.status ?? { conditions: [], nodes: [], history: [] };
  const phase = stepKubernetes({ ...obs, plan: { ...obs.plan, status } }, { kind: "dryRun" }, false);
  const refused = phase.verdict.kind === "stalled" || phase.verdict.kind === "failed";
  // What a manifest sync would change, as the nodes render them now.
  const spec = obs.plan.spec.kubernetes;
  const diff =
    spec && obs.manifests
      ? stepManifests({
          view: obs.manifests,
          spec: spec.manifests,
          previous: undefined,
          now: obs.now,
          dryRun: true,
        })
      : undefined;
  return {
    phase: {
      ...phase,
      actions: [],
      events: [],
      status: {
        ...phase.status,
        step: phase.done ? "Done" : "Preflight",
        ...(diff?.status ? { manifests: diff.status } : {}),
      },
    },
    ...(refused ? { refusal: phase.verdict } : {}),
  };
}
