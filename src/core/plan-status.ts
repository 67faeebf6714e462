// The plan's status from a pass's verdict and node entries: phase, kstatus conditions (Ready,
// Reconciling, Stalled) and TalosUpToDate/HealthChecksPassing, summary, progress and history.

import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { activityOf } from "./activity.ts";
import { setCondition } from "./conditions.ts";
import { estimate } from "./estimate.ts";
import { type KubernetesPhase, kubernetesBehind, kubernetesNodes } from "./kubernetes-phase.ts";
import { activeStates, settledStates } from "./node-steps.ts";
import { talosComplete } from "./talos-targets.ts";

interface StatusInput {
  obs: Observation;
  generation: number;
  previous: PlanStatus;
  selected: NodeView[];
  entries: NodeStatus[];
  events: PlanEvent[];
  verdict: Verdict;
  retryValue: string | undefined;
  gatesFailingSince?: string | undefined;
  nextWindow?: Date | undefined;
  /** This pass of the Kubernetes phase, once the Talos phase is done. */
  kubernetes?: KubernetesPhase;
  hooks?: PlanStatus["hooks"];
  /** The etcd snapshot as this pass leaves it; by default, as it was. */
  etcdBackup?: PlanStatus["etcdBackup"];
  /** Nodes whose cordon this plan releases in this pass: it completes once they are seen uncordoned. */
  uncordoning?: string[];
}

/** The status, and the pass's events with the closing Event of a finished plan after them. */
export function assembleStatus(input: StatusInput): { status: PlanStatus; events: PlanEvent[] } {
  const { obs, generation, previous, entries, kubernetes } = input;
  const spec = obs.plan.spec;
  const summary = summarize(entries);
  // Ready is not said while a cordon of the plan's is still on: the pass that verifies the last node
  // writes its status before it uncordons it, and the next pass sees the uncordon.
  const releasing = previous.phase !== "Completed" && (input.uncordoning?.length ?? 0) > 0;
  const otherwiseComplete =
    input.verdict.kind === "progressing" &&
    talosComplete(entries, spec.talos?.version) &&
    (!spec.kubernetes || kubernetes?.done === true);
  const completed = otherwiseComplete && !releasing;
  // Ready names the cordons only where they hold the plan back: mid-rollout a node's uncordon is
  // its own last step, and naming it there would cost each node one more status write.
  const holding = otherwiseComplete && releasing ? input.uncordoning : undefined;
  // A dry run's preview of the Kubernetes phase upgrades nothing.
  const upgradingKubernetes = kubernetes !== undefined && !kubernetes.done && !spec.dryRun;
  const kubernetesProgress = kubernetes ? kubernetesProgressOf(kubernetes, obs.nodes) : undefined;
  const phase = phaseOf(input, summary, completed, upgradingKubernetes);
  const ready = readyText(input, summary, completed, holding, upgradingKubernetes, kubernetesProgress);
  const finished = phase === "Completed" || phase === "Failed";
  const transition = finished && previous.phase !== phase;
  const activity = activityOf({
    phase,
    entries,
    kubernetesTasks: kubernetes?.status.tasks ?? [],
    kubernetesVersion: spec.kubernetes?.version,
    waitingFor: input.verdict.kind === "progressing" ? undefined : ready.message,
  });
  // While a phase runs or waits: a dry run, a paused, stalled or failed plan gives no time.
  const moving = input.verdict.kind === "progressing" || input.verdict.kind === "waiting";
  const timeLeft = !moving
    ? undefined
    : upgradingKubernetes && kubernetes
      ? estimate(spec, { kubernetes: kubernetes.status.tasks }, obs.now)
      : (phase === "UpgradingTalos" || phase === "WaitingForWindow") && spec.talos
        ? estimate(spec, { talos: entries }, obs.now)
        : undefined;
  const status: PlanStatus = {
    observedGeneration: generation,
    phase,
    conditions: conditionsOf(input, completed, ready),
    nodes: entries,
    summary,
    progress:
      upgradingKubernetes && kubernetesProgress ? kubernetesProgress : `${summary.done}/${summary.total}`,
    history: transition ? historyWith(input, phase) : previous.history,
    ...(spec.talos && !completed
      ? { currentTalosStep: entries.find((e) => !settledStates.has(e.state))?.version ?? spec.talos.version }
      : {}),
    ...(activity ? { activity } : {}),
    ...(timeLeft ? { estimate: timeLeft } : {}),
    ...(input.nextWindow ? { nextWindow: input.nextWindow.toISOString() } : {}),
    ...(input.gatesFailingSince ? { gatesFailingSince: input.gatesFailingSince } : {}),
    ...(input.retryValue !== undefined ? { lastRetry: input.retryValue } : {}),
    ...(input.hooks ? { hooks: input.hooks } : {}),
    ...((input.etcdBackup ?? previous.etcdBackup)
      ? { etcdBackup: input.etcdBackup ?? previous.etcdBackup }
      : {}),
    ...(kubernetes
      ? { kubernetes: kubernetes.status }
      : previous.kubernetes
        ? { kubernetes: previous.kubernetes }
        : {}),
  };
  // History and the closing Event are written on the transition, never on every pass.
  const closing: PlanEvent[] = transition
    ? [
        {
          type: phase === "Completed" ? "Normal" : "Warning",
          reason: phase === "Completed" ? Reason.Succeeded : ready.reason,
          message: ready.message,
        },
      ]
    : [];
  return { status, events: [...input.events, ...closing] };
}

type Summary = NonNullable<PlanStatus["summary"]>;
type ReadyText = { reason: string; message: string };

function summarize(entries: NodeStatus[]): Summary {
  const count = (state: NodeStatus["state"]) => entries.filter((e) => e.state === state).length;
  return {
    total: entries.length,
    done: entries.filter((e) => settledStates.has(e.state)).length,
    inProgress: entries.filter((e) => activeStates.has(e.state)).length,
    failed: count("Failed"),
    pending: count("Pending"),
  };
}

/** Out of the nodes the phase works on: with the kubelets left alone, the control planes. */
function kubernetesProgressOf(kubernetes: KubernetesPhase, nodes: NodeView[]): string {
  const total = kubernetes.status.tasks.length
    ? new Set(kubernetes.status.tasks.map((t) => t.node)).size
    : kubernetesNodes(nodes).length;
  return `${kubernetes.status.nodesDone ?? 0}/${total}`;
}

function phaseOf(
  input: StatusInput,
  summary: Summary,
  completed: boolean,
  upgradingKubernetes: boolean,
): NonNullable<PlanStatus["phase"]> {
  const verdict = input.verdict;
  if (completed) return "Completed";
  if (verdict.kind === "failed") return "Failed";
  if (verdict.kind === "paused") return "Paused";
  if (verdict.kind === "waiting" && verdict.reason === Reason.WaitingForWindow) return "WaitingForWindow";
  if (upgradingKubernetes) return "UpgradingKubernetes";
  return input.obs.plan.spec.talos && (summary.inProgress > 0 || summary.done > 0)
    ? "UpgradingTalos"
    : "Pending";
}

const uncordoningText = (nodes: string[] | undefined) =>
  nodes && nodes.length > 0 ? `; uncordoning ${nameList(nodes)}` : "";

/** Ready's reason and message, which Reconciling and Stalled repeat when they are True. */
function readyText(
  input: StatusInput,
  summary: Summary,
  completed: boolean,
  holding: string[] | undefined,
  upgradingKubernetes: boolean,
  kubernetesProgress: string | undefined,
): ReadyText {
  const verdict = input.verdict;
  const kubernetes = input.kubernetes?.status;
  switch (verdict.kind) {
    case "progressing":
      if (completed)
        return { reason: Reason.Succeeded, message: describeTargets(input.obs, aheadNames(input.entries)) };
      return {
        reason: Reason.Progressing,
        message: upgradingKubernetes
          ? `Kubernetes ${kubernetes?.version}: ${kubernetesProgress} nodes done, step ${kubernetes?.step}`
          : `${summary.done}/${summary.total} nodes upgraded${uncordoningText(holding)}`,
      };
    case "paused":
      return { reason: Reason.Paused, message: "spec.paused is true: no new node is started" };
    case "dryRun":
      return {
        reason: Reason.DryRun,
        message: `dry run: ${summary.pending} node(s) would be upgraded, in the order of status.nodes${verdict.detail ? `; ${verdict.detail}` : ""}`,
      };
    default:
      return { reason: verdict.reason, message: verdict.message };
  }
}

/** kstatus' Ready, Reconciling and Stalled, then the plan's own: versions and health checks. */
function conditionsOf(input: StatusInput, completed: boolean, ready: ReadyText): PlanStatus["conditions"] {
  const { obs, generation, verdict } = input;
  let conditions = input.previous.conditions;
  const set = (type: string, status: boolean, reason: string, message: string) => {
    conditions = setCondition(
      conditions,
      { type, status: status ? "True" : "False", reason, message },
      obs.now,
      generation,
    );
  };
  set("Ready", completed, ready.reason, ready.message);
  const reconciling =
    verdict.kind === "progressing"
      ? !completed
      : verdict.kind === "waiting" || (verdict.kind === "stalled" && verdict.retrying === true);
  set(
    "Reconciling",
    reconciling,
    reconciling ? ready.reason : Reason.Succeeded,
    reconciling ? ready.message : "",
  );
  const stalled = verdict.kind === "stalled" || verdict.kind === "failed";
  set("Stalled", stalled, stalled ? ready.reason : Reason.Progressing, stalled ? ready.message : "");
  for (const condition of [talosUpToDate(input), kubernetesUpToDate(input), healthChecks(obs)])
    if (condition) set(condition.type, condition.status, condition.reason, condition.message);
  return conditions;
}

type OwnCondition = { type: string; status: boolean; reason: string; message: string };

function talosUpToDate({ obs, entries, selected }: StatusInput): OwnCondition | undefined {
  const target = obs.plan.spec.talos?.version;
  if (!target) return undefined;
  const ahead = aheadNames(entries);
  const behind = selected
    .filter((n) => !ahead.includes(n.name))
    .filter((n) => n.talos.version === undefined || compareVersions(n.talos.version, target) !== 0)
    .map((n) => n.name);
  const aside = ahead.length > 0 ? `; ahead of the target, left alone: ${nameList(ahead)}` : "";
  return behind.length === 0
    ? {
        type: "TalosUpToDate",
        status: true,
        reason: Reason.UpToDate,
        message: `all ${selected.length - ahead.length} node(s) run ${target}${aside}`,
      }
    : {
        type: "TalosUpToDate",
        status: false,
        reason: Reason.NotUpToDate,
        message: `not on ${target} yet: ${nameList(behind)}${aside}`,
      };
}

function kubernetesUpToDate({ obs }: StatusInput): OwnCondition | undefined {
  const kubernetes = obs.plan.spec.kubernetes;
  if (!kubernetes) return undefined;
  const behind = kubernetesBehind(obs.nodes, kubernetes);
  return behind.length === 0
    ? {
        type: "KubernetesUpToDate",
        status: true,
        reason: Reason.UpToDate,
        message: `every node runs Kubernetes ${kubernetes.version}`,
      }
    : {
        type: "KubernetesUpToDate",
        status: false,
        reason: Reason.NotUpToDate,
        message: `not on ${kubernetes.version} yet: ${nameList(behind)}`,
      };
}

function healthChecks(obs: Observation): OwnCondition {
  const failing = obs.gates.filter((g) => !g.passing);
  return {
    type: "HealthChecksPassing",
    status: failing.length === 0,
    reason: failing.length === 0 ? Reason.HealthChecksPassing : Reason.HealthChecksFailing,
    message:
      failing.length === 0
        ? `${obs.gates.length} check(s) passing`
        : failing.map((g) => `${g.name}: ${g.message}`).join("; "),
  };
}

/** The history gains the finished rollout; the last ten are kept. */
function historyWith(input: StatusInput, result: "Completed" | "Failed"): PlanStatus["history"] {
  const spec = input.obs.plan.spec;
  const startedAt = [...input.entries, ...(input.kubernetes?.status.tasks ?? [])]
    .map((e) => e.startedAt)
    .filter((s): s is string => s !== undefined)
    .sort()[0];
  return [
    ...input.previous.history,
    {
      generation: input.generation,
      ...(spec.talos ? { talosVersion: spec.talos.version } : {}),
      ...(spec.kubernetes ? { kubernetesVersion: spec.kubernetes.version } : {}),
      result,
      ...(startedAt ? { startedAt } : {}),
      completedAt: input.obs.now.toISOString(),
    },
  ].slice(-10);
}

const aheadNames = (entries: NodeStatus[]) =>
  entries.filter((e) => e.reason === Reason.AheadOfTarget).map((e) => e.name);

function describeTargets(obs: Observation, ahead: string[]): string {
  const talosVersion = obs.plan.spec.talos?.version;
  const kubernetesVersion = obs.plan.spec.kubernetes?.version;
  const aside = ahead.length > 0 ? ` (ahead of it and left alone: ${nameList(ahead)})` : "";
  const parts = [
    ...(talosVersion ? [`all selected nodes run Talos ${talosVersion}${aside}`] : []),
    ...(kubernetesVersion ? [`every node runs Kubernetes ${kubernetesVersion}`] : []),
  ];
  return parts.join("; ") || "nothing to do";
}
