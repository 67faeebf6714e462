// decide(observation) → { status, actions, events, requeueAfterMs }: the whole upgrade policy as a
// pure function. No I/O and no clock: everything it knows is in the observation.

import { parseDuration } from "../api/v1alpha1/duration.ts";
import { excludeLabel, type NodeStatus, type PlanStatus, retryAnnotation } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { unsupportedCombination } from "./kubernetes-compat.ts";
import {
  kubernetesNodes,
  previewKubernetes,
  runningVersions,
  stepKubernetes,
  supportProblem,
} from "./kubernetes-phase.ts";
import { activeStates, stepNode, upgradeAction } from "./node-steps.ts";
import { assembleStatus } from "./plan-status.ts";
import { matchesSelector, upgradeOrder, workerBudget } from "./selection.ts";
import { currentStep, upgradePath } from "./version-path.ts";
import { evaluateWindows } from "./windows.ts";

export interface Decision {
  status: PlanStatus;
  actions: Action[];
  events: PlanEvent[];
  /** Look again after this long even if no watch fires (timeouts, soak, windows); undefined: only on change. */
  requeueAfterMs?: number;
}

/** Re-observe in-progress or held work at least this often: a safety net under the watches, and the pace of polling what cannot be watched. */
const activeResync = 10_000;

function selectedNodes(obs: Observation): NodeView[] {
  const selector = obs.plan.spec.nodeSelector;
  return upgradeOrder(
    obs.nodes.filter((n) => n.labels[excludeLabel] !== "true" && matchesSelector(n.labels, selector)),
  );
}

/** The status entries for this pass: existing ones kept, new nodes and new steps added as Pending. */
function reconcileEntries(
  previous: NodeStatus[],
  selected: NodeView[],
  step: string | undefined,
  retry: boolean,
  talos: boolean,
): NodeStatus[] {
  return selected.map((node) => {
    const version = node.talos.version;
    const existing = previous.find((e) => e.name === node.name);
    const fresh = (state: NodeStatus["state"], message: string): NodeStatus => ({
      name: node.name,
      role: node.role,
      state,
      attempts: existing?.attempts ?? 0,
      message,
      ...(version ? { fromVersion: version } : {}),
      ...(step ? { version: step } : {}),
    });
    if (existing && (activeStates.has(existing.state) || (existing.state === "Failed" && !retry)))
      return existing;
    if (existing?.state === "Done" && (existing.version === step || step === undefined)) return existing;
    // A node whose Talos version is unknown (its API unreachable) is not done: it waits to be seen.
    if (talos && version === undefined)
      return fresh("Pending", existing?.state === "Failed" ? "retry requested" : "");
    if (
      step === undefined ||
      (version !== undefined &&
        compareVersions(version, step) >= 0 &&
        (version === step || existing?.state === "Done"))
    ) {
      return existing?.state === "Done" ? existing : fresh("Done", `already at ${version ?? step}`);
    }
    return fresh("Pending", existing?.state === "Failed" ? "retry requested" : "");
  });
}

export function decide(obs: Observation): Decision {
  const { plan, now } = obs;
  const spec = plan.spec;
  const generation = plan.metadata.generation ?? 0;
  const previous: PlanStatus = plan.status ?? { conditions: [], nodes: [], history: [] };
  const selected = selectedNodes(obs);
  const retryValue = plan.metadata.annotations?.[retryAnnotation];
  const retry = retryValue !== undefined && retryValue !== previous.lastRetry;
  const events: PlanEvent[] = [];
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const wake = (at: number | undefined) => {
    if (at !== undefined && (wakeAt === undefined || at < wakeAt)) wakeAt = at;
  };
  const base = { obs, generation, previous, selected, retryValue: retry ? retryValue : previous.lastRetry };
  if (retry)
    events.push({
      type: "Normal",
      reason: Reason.RetryRequested,
      message: `retry requested (${retryValue})`,
    });

  if (obs.talosConfigError) {
    return assembleStatus({
      ...base,
      entries: previous.nodes,
      events,
      verdict: { kind: "stalled", reason: Reason.TalosConfigError, message: obs.talosConfigError },
    });
  }

  // The Talos path: every selected node from its version to the target, one minor at a time.
  const versions = selected.map((n) => n.talos.version).filter((v): v is string => v !== undefined);
  let step: string | undefined;
  if (spec.talos) {
    const path = upgradePath("Talos", versions, spec.talos.version, spec.talos.intermediateVersions);
    if (!path.ok) {
      return assembleStatus({
        ...base,
        entries: previous.nodes,
        events,
        verdict: { kind: "stalled", reason: path.reason, message: path.message },
      });
    }
    step = currentStep(versions, path.steps);
  }

  // Talos and Kubernetes must fit together on every node, before, between and after the phases.
  const support = supportCheck(obs, selected);
  if (support && !previous.nodes.some((e) => activeStates.has(e.state))) {
    return assembleStatus({
      ...base,
      entries: previous.nodes,
      events,
      verdict: { kind: "stalled", reason: Reason.UnsupportedKubernetesVersion, message: support },
    });
  }

  const windows = evaluateWindows(spec.maintenanceWindows, now);
  if (!windows.ok) {
    return assembleStatus({
      ...base,
      entries: previous.nodes,
      events,
      verdict: { kind: "stalled", reason: windows.reason, message: windows.message },
    });
  }

  // Entries first: the computed order is in status before any node is touched.
  let entries = reconcileEntries(previous.nodes, selected, step, retry, spec.talos !== undefined);
  const byName = new Map(obs.nodes.map((n) => [n.name, n]));

  if (spec.dryRun) {
    // The Kubernetes tasks can be listed once the Talos phase has nothing left to do.
    const talosLeft = entries.some((e) => e.state !== "Done" && e.state !== "Skipped");
    const preview = spec.kubernetes && !talosLeft ? previewKubernetes(obs) : undefined;
    const detail = !spec.kubernetes
      ? undefined
      : preview
        ? `Kubernetes ${preview.phase.status.fromVersion ?? "?"} → ${spec.kubernetes.version}: ${preview.phase.status.tasks.length} task(s), in the order of status.kubernetes.tasks`
        : "the Kubernetes tasks are listed once the Talos phase is done";
    return assembleStatus({
      ...base,
      entries,
      events,
      verdict: preview?.refusal ?? { kind: "dryRun", ...(detail ? { detail } : {}) },
      ...(preview ? { kubernetes: preview.phase } : {}),
    });
  }
  // Move every started node forward, whatever else holds new work back: another plan going first
  // included, or a node would stay cordoned half-way.
  entries = entries.map((entry) => {
    const result = stepNode(entry, byName.get(entry.name), spec, now);
    actions.push(...result.actions);
    events.push(...result.events);
    wake(result.wakeAt);
    return result.entry;
  });

  // Gates hold new work; failing longer than the health timeout stalls the plan. The clock runs
  // while another plan goes first: held back, a plan does not wait out the timeout again.
  const failingGates = obs.gates.filter((g) => !g.passing);
  const gatesFailingSince =
    failingGates.length === 0 ? undefined : (previous.gatesFailingSince ?? now.toISOString());
  const gateTimeout = parseDuration(spec.healthChecks.timeout);

  if (obs.blockingPlan) {
    // The other plan's progress or stall changes no Node this plan watches: look again regularly.
    const waiting = assembleStatus({
      ...base,
      entries,
      events,
      verdict: {
        kind: "waiting",
        reason: Reason.WaitingForPlan,
        message: `waiting for plan ${obs.blockingPlan} to finish`,
      },
      gatesFailingSince,
    });
    const timers = wakeAt === undefined ? activeResync : Math.max(0, wakeAt - now.getTime());
    return {
      ...waiting,
      actions: [...waiting.actions, ...actions],
      requeueAfterMs: Math.min(timers, activeResync),
    };
  }

  const failed = entries.filter((e) => e.state === "Failed");
  const pending = entries.filter((e) => e.state === "Pending");
  let verdict: Verdict = { kind: "progressing" };

  if (failed.length > 0) {
    const first = failed[0] as NodeStatus;
    // Failed nodes keep the cordon the operator put on them; the condition says which.
    const cordoned = failed
      .filter((e) => byName.get(e.name)?.unschedulable && byName.get(e.name)?.cordonedByOperator)
      .map((e) => e.name);
    const left = cordoned.length > 0 ? `; left cordoned: ${cordoned.join(", ")}` : "";
    verdict = {
      kind: "failed",
      reason: first.reason ?? Reason.NodeFailed,
      message: `node ${first.name} failed: ${first.message}${left}`,
    };
  } else if (pending.length > 0) {
    const hold = holdReason(windows, failingGates, spec.paused);
    if (hold) {
      verdict = hold;
      if (hold.kind === "waiting" && hold.reason === Reason.WaitingForHealthChecks && gatesFailingSince) {
        const deadline = Date.parse(gatesFailingSince) + gateTimeout;
        if (now.getTime() > deadline)
          verdict = {
            kind: "stalled",
            reason: Reason.HealthCheckTimeout,
            message: hold.message,
            retrying: true,
          };
        else wake(deadline);
      }
      if (windows.nextOpen && !windows.open) wake(windows.nextOpen.getTime());
    } else {
      const started = startNodes(entries, byName, obs, now);
      entries = started.entries;
      actions.push(...started.actions);
      events.push(...started.events);
      if (started.hold && started.entries.every((e) => !activeStates.has(e.state))) verdict = started.hold;
      const newlyFailed = entries.find((e) => e.state === "Failed");
      if (newlyFailed) {
        verdict = {
          kind: "failed",
          reason: newlyFailed.reason ?? Reason.NodeFailed,
          message: `node ${newlyFailed.name} failed: ${newlyFailed.message}`,
        };
      }
    }
  }
  if (windows.ok && windows.open && windows.closesAt) wake(windows.closesAt.getTime());

  // The Kubernetes phase, once every selected node runs the Talos target.
  const talosDone = entries.length > 0 && entries.every((e) => e.state === "Done" || e.state === "Skipped");
  let kubernetes: ReturnType<typeof stepKubernetes> | undefined;
  if (spec.kubernetes && talosDone && verdict.kind === "progressing") {
    let hold = holdReason(windows, failingGates, spec.paused);
    if (hold?.kind === "waiting" && hold.reason === Reason.WaitingForHealthChecks && gatesFailingSince) {
      const deadline = Date.parse(gatesFailingSince) + gateTimeout;
      if (now.getTime() > deadline)
        hold = { kind: "stalled", reason: Reason.HealthCheckTimeout, message: hold.message, retrying: true };
      else wake(deadline);
    }
    if (windows.nextOpen && !windows.open) wake(windows.nextOpen.getTime());
    kubernetes = stepKubernetes(obs, hold, retry);
    verdict = kubernetes.verdict;
    actions.push(...kubernetes.actions);
    events.push(...kubernetes.events);
    wake(kubernetes.wakeAt);
  }

  const decision = assembleStatus({
    ...base,
    entries,
    events,
    verdict,
    gatesFailingSince,
    nextWindow: windows.open ? undefined : windows.nextOpen,
    ...(kubernetes ? { kubernetes } : {}),
  });
  const stillActive =
    decision.status.nodes.some((e) => activeStates.has(e.state)) ||
    (decision.status.kubernetes?.tasks.some((t) => t.state === "Applying") ?? false);
  const timers = wakeAt === undefined ? undefined : Math.max(0, wakeAt - now.getTime());
  // Health checks and etcd cannot be watched: while they hold the plan, look again regularly.
  const polling =
    stillActive ||
    (verdict.kind === "waiting" && verdict.reason !== Reason.WaitingForWindow) ||
    (verdict.kind === "stalled" && verdict.retrying === true);
  const requeue = polling ? Math.min(timers ?? activeResync, activeResync) : timers;
  return {
    ...decision,
    actions: [...decision.actions, ...actions],
    ...(requeue !== undefined ? { requeueAfterMs: requeue } : {}),
  };
}

function holdReason(
  windows: { open: boolean; nextOpen?: Date },
  failingGates: { name: string; message: string; invalid?: boolean }[],
  paused: boolean,
): Verdict | undefined {
  if (paused) return { kind: "paused" };
  const invalid = failingGates.filter((g) => g.invalid);
  if (invalid.length > 0) {
    const list = invalid.map((g) => `${g.name}: ${g.message}`).join("; ");
    return {
      kind: "stalled",
      reason: Reason.InvalidHealthCheck,
      message: `health check cannot run: ${list}`,
    };
  }
  if (!windows.open) {
    const next = windows.nextOpen ? `; the next opens at ${windows.nextOpen.toISOString()}` : "";
    return {
      kind: "waiting",
      reason: Reason.WaitingForWindow,
      message: `outside every maintenance window${next}`,
    };
  }
  if (failingGates.length > 0) {
    const list = failingGates.map((g) => `${g.name}: ${g.message}`).join("; ");
    return {
      kind: "waiting",
      reason: Reason.WaitingForHealthChecks,
      message: `health checks failing: ${list}`,
    };
  }
  return undefined;
}

function installerPull(node: NodeView, upgrade: Extract<Action, { kind: "upgrade" }>): Action {
  return {
    kind: "prepull",
    node: node.name,
    address: upgrade.address,
    image: upgrade.image,
    api: upgrade.api,
    namespace: "NS_SYSTEM",
  };
}

/** Starts as much new work as the rules allow: one control plane at a time, then workers within budget. */
function startNodes(
  entries: NodeStatus[],
  byName: Map<string, NodeView>,
  obs: Observation,
  now: Date,
): { entries: NodeStatus[]; actions: Action[]; events: PlanEvent[]; hold?: Verdict } {
  const spec = obs.plan.spec;
  const out = [...entries];
  const actions: Action[] = [];
  const events: PlanEvent[] = [];
  // A node starts only once its installer image has been pulled on it: a missing image fails the
  // plan before anything is cordoned.
  const start = (index: number): boolean => {
    const entry = out[index] as NodeStatus;
    const node = byName.get(entry.name) as NodeView;
    const upgrade = upgradeAction(node, entry, spec);
    if (upgrade.kind !== "upgrade") return false;
    const pull = node.pulls[upgrade.image];
    if (!pull) {
      out[index] = { ...entry, message: `pulling ${upgrade.image}` };
      actions.push(installerPull(node, upgrade));
      return false;
    }
    if (pull.error) {
      const message = `the installer image ${upgrade.image} cannot be pulled: ${pull.error}`;
      out[index] = {
        ...entry,
        state: "Failed",
        reason: Reason.ImagePullFailed,
        finishedAt: now.toISOString(),
        message,
      };
      events.push({ type: "Warning", reason: Reason.ImagePullFailed, message: `${entry.name}: ${message}` });
      return false;
    }
    out[index] = {
      ...entry,
      state: "Draining",
      startedAt: now.toISOString(),
      image: upgrade.image,
      message: "cordoning",
    };
    actions.push({ kind: "cordon", node: entry.name });
    return true;
  };
  const isActive = (e: NodeStatus) => activeStates.has(e.state);
  // While the rules hold new work back, the next nodes' installers are pulled ahead (a pull does
  // not disturb a node), so that a freed slot is taken in the same pass.
  const pullAhead = (count: number) => {
    const next = out.filter((e) => e.state === "Pending").slice(0, count);
    for (const entry of next) {
      const node = byName.get(entry.name);
      if (!node?.talos.reachable || !node.talos.version) continue;
      const upgrade = upgradeAction(node, entry, spec);
      if (upgrade.kind === "upgrade" && !node.pulls[upgrade.image])
        actions.push(installerPull(node, upgrade));
    }
  };
  const workerCount = out.filter((e) => e.role === "worker").length;
  const budget = workerBudget(spec.rollout.maxUnavailable, workerCount);

  const controlPlanes = out.filter((e) => e.role === "controlplane");
  if (controlPlanes.some(isActive)) {
    pullAhead(1);
    return { entries: out, actions, events };
  }
  const nextControlPlane = out.findIndex((e) => e.role === "controlplane" && e.state === "Pending");
  if (nextControlPlane >= 0) {
    const node = byName.get(out[nextControlPlane]?.name ?? "");
    if (!node?.talos.reachable || !node.talos.version) {
      return {
        entries: out,
        actions,
        events,
        hold: {
          kind: "waiting",
          reason: Reason.Progressing,
          message: `waiting for the Talos API of ${node?.name}: ${node?.talos.error ?? "no facts yet"}`,
        },
      };
    }
    const etcd = obs.etcd;
    const quorum = etcd ? Math.floor(etcd.members / 2) + 1 : 0;
    // Taking this member down must leave a quorum, unless there is nothing to keep (a single member).
    if (!etcd?.healthy || (etcd.members > 1 && etcd.healthyMembers - 1 < quorum)) {
      const message = etcd ? `etcd is not safe to lose ${node.name}: ${etcd.message}` : "etcd health unknown";
      return {
        entries: out,
        actions,
        events,
        hold: { kind: "waiting", reason: Reason.WaitingForEtcd, message },
      };
    }
    if (start(nextControlPlane)) pullAhead(1);
    return { entries: out, actions, events };
  }
  if (controlPlanes.some((e) => e.state !== "Done")) return { entries: out, actions, events };

  // Workers: a budget of maxUnavailable, counting workers that are down for any reason.
  const workers = out.filter((e) => e.role === "worker");
  let unavailable = workers.filter((e) => isActive(e) || !(byName.get(e.name)?.ready ?? false)).length;
  for (let index = 0; index < out.length && unavailable < budget; index++) {
    const entry = out[index] as NodeStatus;
    if (entry.role !== "worker" || entry.state !== "Pending") continue;
    const node = byName.get(entry.name);
    if (!node?.ready || !node.talos.reachable || !node.talos.version) continue;
    if (start(index)) unavailable++;
    else if (out[index]?.state === "Failed") break;
  }
  if (unavailable >= budget) pullAhead(budget);
  return { entries: out, actions, events };
}

/**
 * Why the plan's versions do not fit together: a Talos target that cannot run the cluster's
 * Kubernetes, or a Kubernetes target that some node's Talos (after this plan) cannot run.
 */
function supportCheck(obs: Observation, selected: NodeView[]): string | undefined {
  const spec = obs.plan.spec;
  const running = runningVersions(kubernetesNodes(obs.nodes)).sort(compareVersions);
  const lowest = running[0];
  if (spec.talos && lowest) {
    const talosSteps = [...spec.talos.intermediateVersions, spec.talos.version];
    for (const talos of talosSteps) {
      const problem = unsupportedCombination(talos, lowest);
      if (problem) return `${problem}: upgrade Kubernetes first`;
    }
  }
  return supportProblem(obs, new Set(selected.map((n) => n.name)));
}
