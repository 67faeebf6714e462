// The plan's status from a pass's verdict and node entries: phase, kstatus conditions (Ready,
// Reconciling, Stalled) and TalosUpToDate/HealthChecksPassing, summary, progress and history.
import type { NodeStatus, PlanStatus } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { setCondition } from "./conditions.ts";
import {
  countedVersions,
  type KubernetesPhase,
  kubernetesNodes,
  runningVersions,
} from "./kubernetes-phase.ts";
import { activeStates, settledStates } from "./node-steps.ts";
import { talosComplete } from "./talos-targets.ts";

export interface StatusInput {
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
}

export function assembleStatus(input: StatusInput): {
  status: PlanStatus;
  actions: Action[];
  events: PlanEvent[];
} {
  const { obs, generation, previous, entries, selected } = input;
  const spec = obs.plan.spec;
  const now = obs.now;
  const events = [...input.events];
  const count = (states: NodeStatus["state"][]) => entries.filter((e) => states.includes(e.state)).length;
  const summary = {
    total: entries.length,
    done: entries.filter((e) => settledStates.has(e.state)).length,
    inProgress: entries.filter((e) => activeStates.has(e.state)).length,
    failed: count(["Failed"]),
    pending: count(["Pending"]),
  };
  const talosDone = talosComplete(entries, spec.talos?.version);
  const verdict = input.verdict;
  const kubernetes = input.kubernetes;
  const completed =
    verdict.kind === "progressing" && talosDone && (!spec.kubernetes || kubernetes?.done === true);
  // A dry run's preview of the Kubernetes phase upgrades nothing.
  const upgradingKubernetes = kubernetes !== undefined && !kubernetes.done && !spec.dryRun;
  // Out of the nodes the phase works on: with the kubelets left alone, the control planes.
  const kubernetesTotal = kubernetes?.status.tasks.length
    ? new Set(kubernetes.status.tasks.map((t) => t.node)).size
    : kubernetesNodes(obs.nodes).length;
  const kubernetesProgress = kubernetes
    ? `${kubernetes.status.nodesDone ?? 0}/${kubernetesTotal}`
    : undefined;

  const phase: NonNullable<PlanStatus["phase"]> = completed
    ? "Completed"
    : verdict.kind === "failed"
      ? "Failed"
      : verdict.kind === "paused"
        ? "Paused"
        : verdict.kind === "waiting" && verdict.reason === Reason.WaitingForWindow
          ? "WaitingForWindow"
          : upgradingKubernetes
            ? "UpgradingKubernetes"
            : spec.talos && (summary.inProgress > 0 || summary.done > 0)
              ? "UpgradingTalos"
              : "Pending";

  const [readyReason, readyMessage] = ((): [string, string] => {
    switch (verdict.kind) {
      case "progressing":
        return completed
          ? [Reason.Succeeded, describeTargets(obs, aheadNames(entries))]
          : upgradingKubernetes
            ? [
                Reason.Progressing,
                `Kubernetes ${kubernetes?.status.version}: ${kubernetesProgress} nodes done, step ${kubernetes?.status.step}`,
              ]
            : [Reason.Progressing, `${summary.done}/${summary.total} nodes upgraded`];
      case "paused":
        return [Reason.Paused, "spec.paused is true: no new node is started"];
      case "dryRun":
        return [
          Reason.DryRun,
          `dry run: ${summary.pending} node(s) would be upgraded, in the order of status.nodes${verdict.detail ? `; ${verdict.detail}` : ""}`,
        ];
      default:
        return [verdict.reason, verdict.message];
    }
  })();

  let conditions = previous.conditions;
  const set = (type: string, status: "True" | "False", reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message }, now, generation);
  };
  set("Ready", completed ? "True" : "False", readyReason, readyMessage);
  const reconciling =
    verdict.kind === "progressing"
      ? !completed
      : verdict.kind === "waiting" || (verdict.kind === "stalled" && verdict.retrying === true);
  set(
    "Reconciling",
    reconciling ? "True" : "False",
    reconciling ? readyReason : Reason.Succeeded,
    reconciling ? readyMessage : "",
  );
  const stalled = verdict.kind === "stalled" || verdict.kind === "failed";
  set(
    "Stalled",
    stalled ? "True" : "False",
    stalled ? readyReason : Reason.Progressing,
    stalled ? readyMessage : "",
  );
  if (spec.talos) {
    const target = spec.talos.version;
    const ahead = aheadNames(entries);
    const behind = selected
      .filter((n) => !ahead.includes(n.name))
      .filter((n) => n.talos.version === undefined || compareVersions(n.talos.version, target) !== 0)
      .map((n) => n.name);
    const aside = ahead.length > 0 ? `; ahead of the target, left alone: ${nameList(ahead)}` : "";
    set(
      "TalosUpToDate",
      behind.length === 0 ? "True" : "False",
      behind.length === 0 ? Reason.UpToDate : Reason.NotUpToDate,
      behind.length === 0
        ? `all ${selected.length - ahead.length} node(s) run ${target}${aside}`
        : `not on ${target} yet: ${nameList(behind)}${aside}`,
    );
  }
  if (spec.kubernetes) {
    const target = spec.kubernetes.version;
    const counted = countedVersions(spec.kubernetes);
    const behind = kubernetesNodes(obs.nodes)
      .filter((n) => runningVersions([n], counted).some((v) => v !== target))
      .map((n) => n.name);
    set(
      "KubernetesUpToDate",
      behind.length === 0 ? "True" : "False",
      behind.length === 0 ? Reason.UpToDate : Reason.NotUpToDate,
      behind.length === 0
        ? `every node runs Kubernetes ${target}`
        : `not on ${target} yet: ${nameList(behind)}`,
    );
  }
  const failing = obs.gates.filter((g) => !g.passing);
  set(
    "HealthChecksPassing",
    failing.length === 0 ? "True" : "False",
    failing.length === 0 ? Reason.HealthChecksPassing : Reason.HealthChecksFailing,
    failing.length === 0
      ? `${obs.gates.length} check(s) passing`
      : failing.map((g) => `${g.name}: ${g.message}`).join("; "),
  );

  let history = previous.history;
  const finished = phase === "Completed" || phase === "Failed";
  if (finished && previous.phase !== phase) {
    const startedAt = [...entries, ...(kubernetes?.status.tasks ?? [])]
      .map((e) => e.startedAt)
      .filter((s): s is string => s !== undefined)
      .sort()[0];
    history = [
      ...history,
      {
        generation,
        ...(spec.talos ? { talosVersion: spec.talos.version } : {}),
        ...(spec.kubernetes ? { kubernetesVersion: spec.kubernetes.version } : {}),
        result: phase,
        ...(startedAt ? { startedAt } : {}),
        completedAt: now.toISOString(),
      },
    ].slice(-10);
    events.push({
      type: phase === "Completed" ? "Normal" : "Warning",
      reason: phase === "Completed" ? Reason.Succeeded : readyReason,
      message: readyMessage,
    });
  }

  const status: PlanStatus = {
    observedGeneration: generation,
    phase,
    conditions,
    nodes: entries,
    summary,
    progress:
      upgradingKubernetes && kubernetesProgress ? kubernetesProgress : `${summary.done}/${summary.total}`,
    history,
    ...(spec.talos && !completed
      ? { currentTalosStep: entries.find((e) => !settledStates.has(e.state))?.version ?? spec.talos.version }
      : {}),
    ...(input.nextWindow ? { nextWindow: input.nextWindow.toISOString() } : {}),
    ...(input.gatesFailingSince ? { gatesFailingSince: input.gatesFailingSince } : {}),
    ...(input.retryValue !== undefined ? { lastRetry: input.retryValue } : {}),
    ...(kubernetes
      ? { kubernetes: kubernetes.status }
      : previous.kubernetes
        ? { kubernetes: previous.kubernetes }
        : {}),
  };
  return { status, actions: [], events };
}

const aheadNames = (entries: NodeStatus[]) =>
  entries.filter((e) => e.reason === Reason.AheadOfTarget).map((e) => e.name);

function describeTargets(obs: Observation, ahead: string[]): string {
  const talos = obs.plan.spec.talos?.version;
  const kubernetes = obs.plan.spec.kubernetes?.version;
  const aside = ahead.length > 0 ? ` (ahead of it and left alone: ${nameList(ahead)})` : "";
  const parts = [
    ...(talos ? [`all selected nodes run Talos ${talos}${aside}`] : []),
    ...(kubernetes ? [`every node runs Kubernetes ${kubernetes}`] : []),
  ];
  return parts.join("; ") || "nothing to do";
}
