// decide(observation) → { status, actions, events, requeueAfterMs }: the whole upgrade policy as a
// pure function. No I/O and no clock: everything it knows is in the observation. A short
// orchestrator: pre-flight chain → advance every node already in flight (always) → start new
// nodes within the rules → the Kubernetes phase → release cordons nothing needs.

import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";
import { retryAnnotation } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { etcdBackupStep } from "./etcd-backup.ts";
import { holdReason } from "./holds.ts";
import { HookLedger, hookVerdict } from "./hooks.ts";
import { kubernetesBehind, previewKubernetes, stepKubernetes } from "./kubernetes-phase.ts";
import { activeStates, type NodeHooks, settleEntries, stepNode } from "./node-steps.ts";
import { outbox } from "./notifications.ts";
import { assembleStatus } from "./plan-status.ts";
import { preflight } from "./preflight.ts";
import { selectedNodes } from "./selection.ts";
import { silenceStep } from "./silence.ts";
import { startNodes } from "./start-nodes.ts";
import {
  keptOutOfSelection,
  lastKnownVersion,
  reconcileEntries,
  type TalosPass,
  talosComplete,
  talosPass,
} from "./talos-targets.ts";
import { evaluateWindows } from "./windows.ts";

export interface Decision {
  status: PlanStatus;
  actions: Action[];
  events: PlanEvent[];
  /** Look again after this long even if no watch fires (timeouts, soak, windows); undefined: only on change. */
  requeueAfterMs?: number;
  /** A deleted plan has nothing in flight and no cordon left to release: its finalizer may go. */
  release?: true;
}

/** Re-observe in-progress or held work at least this often: a safety net under the watches, and the pace of polling what cannot be watched. */
const activeResync = 10_000;

/** What every step of a pass adds: actions, events, and the earliest time to look again. */
class Effects {
  readonly actions: Action[] = [];
  readonly events: PlanEvent[] = [];
  wakeAt: number | undefined;
  /** The etcd snapshot's status as this pass leaves it. */
  etcdBackup: PlanStatus["etcdBackup"];
  add(part: { actions?: Action[]; events?: PlanEvent[]; wakeAt?: number | undefined }): void {
    this.actions.push(...(part.actions ?? []));
    this.events.push(...(part.events ?? []));
    this.wake(part.wakeAt);
  }
  wake(at: number | undefined): void {
    if (at !== undefined && (this.wakeAt === undefined || at < this.wakeAt)) this.wakeAt = at;
  }
}

export function decide(obs: Observation): Decision {
  const { plan, now } = obs;
  const spec = plan.spec;
  const previous: PlanStatus = plan.status ?? { conditions: [], nodes: [], history: [] };
  const effects = new Effects();
  const { retry, attempt } = retryOf(plan, previous, effects);

  const deleting = plan.metadata.deletionTimestamp !== undefined;
  const selected = selectedNodes(obs.nodes, spec.nodeSelector);
  const chosen = new Set(selected.map((n) => n.name));
  const byName = new Map(obs.nodes.map((n) => [n.name, n]));
  const talosPass = spec.talos ? fleetPass(spec.talos, selected, previous.nodes) : undefined;
  const windows = evaluateWindows(spec.maintenanceWindows, now);
  const refusal = preflight({ obs, selected: chosen, talosPass, windows });

  const ledger = new HookLedger(plan, obs.hookJobs, now, { requested: retry, value: attempt });
  const entries = talosEntries({
    obs,
    previous,
    selected,
    chosen,
    byName,
    talosPass,
    retry,
    effects,
    ledger,
  });
  const failing = obs.gates.some((g) => !g.passing);
  const gatesFailingSince = failing ? (previous.gatesFailingSince ?? now.toISOString()) : undefined;
  const base = {
    obs,
    generation: plan.metadata.generation ?? 0,
    previous,
    selected,
    retryValue: attempt,
    gatesFailingSince,
  };
  if (spec.dryRun)
    return finish(dryRun({ ...base, entries, effects, refusal, hooks: previous.hooks }), effects, now);

  const hold = holdReason({
    spec,
    now,
    windows,
    gates: obs.gates,
    gatesFailingSince,
    blockingPlan: obs.blockingPlan,
    deleting,
  });
  effects.wake(hold.wakeAt);
  if (windows.ok && windows.open && windows.closesAt) effects.wake(windows.closesAt.getTime());
  const holds =
    hold.verdict ??
    beforePlan(ledger, entries, obs, refusal, deleting, effects) ??
    etcdSnapshotGate(entries, base, refusal, deleting, retry, effects);
  const started = startNew(
    entries,
    byName,
    obs,
    refusal,
    holds,
    effects,
    releasedNow(entries, byName, effects),
    chosen,
  );
  const settled = settleEntries(started.entries, byName, deleting);
  effects.add(settled);
  let verdict = started.verdict;
  // A plan going away says so, whatever is left: it finishes nothing but the nodes in flight.
  if (deleting && verdict.kind === "progressing" && hold.verdict) verdict = hold.verdict;

  const after = laterPhases({
    obs,
    entries: settled.entries,
    verdict,
    holds,
    retry,
    deleting,
    ledger,
    effects,
  });
  verdict = after.verdict;
  const kubernetes = after.kubernetes;
  effects.add({ actions: releaseCordons(plan.metadata.name, settled.entries, obs.nodes, deleting) });

  const assembled = assembleStatus({
    ...base,
    entries: settled.entries,
    events: effects.events,
    verdict,
    nextWindow: windows.ok && !windows.open ? windows.nextOpen : undefined,
    ...(kubernetes ? { kubernetes } : {}),
    hooks: ledger.status(settled.entries),
    ...(effects.etcdBackup ? { etcdBackup: effects.etcdBackup } : {}),
    uncordoning: [...new Set(effects.actions.flatMap((a) => (a.kind === "uncordon" ? [a.node] : [])))],
  });
  const decision = withSilence(withNotifications(assembled, obs, previous, base.generation), obs, effects);
  return conclude(decision, verdict, effects, now, deleting);
}

/** A new value of the retry annotation asks for a retry; the value acted on is the attempt. */
function retryOf(
  plan: Observation["plan"],
  previous: PlanStatus,
  effects: Effects,
): { retry: boolean; attempt: string | undefined } {
  const value = plan.metadata.annotations?.[retryAnnotation];
  const retry = value !== undefined && value !== previous.lastRetry;
  if (retry)
    effects.events.push({
      type: "Normal",
      reason: Reason.RetryRequested,
      message: `retry requested (${value})`,
    });
  return { retry, attempt: retry ? value : previous.lastRetry };
}

/**
 * The node entries of this pass: the computed order goes into status before any node is touched.
 * A refused path leaves them as they were, apart from the nodes in flight, which move on.
 */
function talosEntries(input: {
  obs: Observation;
  previous: PlanStatus;
  selected: NodeView[];
  /** The selected nodes' names. */
  chosen: Set<string>;
  byName: Map<string, NodeView>;
  talosPass: TalosPass | undefined;
  retry: boolean;
  effects: Effects;
  ledger: HookLedger;
}): NodeStatus[] {
  const { obs, previous, selected, chosen, byName, talosPass, retry, effects, ledger } = input;
  const spec = obs.plan.spec;
  const reconcile = (entries: NodeStatus[], again: boolean) =>
    reconcileEntries({
      previous: entries,
      selected,
      byName,
      talosSpec: spec.talos,
      step: talosPass?.step,
      retry: again,
    });
  const reconciled = talosPass && !talosPass.path.ok ? previous.nodes : reconcile(previous.nodes, retry);
  const before = new Map(reconciled.map((e) => [e.name, e.state]));
  const advanced = advanceInFlight(reconciled, chosen, byName, obs, effects, ledger);
  // A node verified in this pass is looked at again as the next pass would: its rule may have moved
  // on while it was under way (its pool given a new schematic), and the plan must not call itself
  // done for a pass in between.
  const verified = advanced.some((e) => e.state === "Done" && activeStates.has(before.get(e.name) ?? "Done"));
  return verified && talosPass?.path.ok ? reconcile(advanced, false) : advanced;
}

/** The status with its notification outbox, when the plan has receivers. */
function withNotifications(
  assembled: ReturnType<typeof assembleStatus>,
  obs: Observation,
  previous: PlanStatus,
  generation: number,
): ReturnType<typeof assembleStatus> {
  const notifications = outbox({
    spec: obs.plan.spec,
    previous,
    next: assembled.status,
    generation,
    now: obs.now,
    delivered: obs.notifications?.delivered ?? [],
    error: obs.notifications?.error,
  });
  return notifications ? { ...assembled, status: { ...assembled.status, notifications } } : assembled;
}

/**
 * The Kubernetes phase, once every selected node is verified on the Talos target; then, with
 * everything done, the afterPlan hooks.
 */
function laterPhases(input: {
  obs: Observation;
  entries: NodeStatus[];
  verdict: Verdict;
  holds: Verdict | undefined;
  retry: boolean;
  deleting: boolean;
  ledger: HookLedger;
  effects: Effects;
}): { verdict: Verdict; kubernetes?: ReturnType<typeof stepKubernetes> } {
  const { obs, holds, retry, effects } = input;
  const spec = obs.plan.spec;
  const talosDone = talosComplete(input.entries, spec.talos?.version);
  const kubernetes =
    spec.kubernetes && talosDone && input.verdict.kind === "progressing"
      ? stepKubernetes(obs, holds, retry)
      : undefined;
  if (kubernetes) effects.add(kubernetes);
  const verdict = kubernetes?.verdict ?? input.verdict;
  const complete =
    verdict.kind === "progressing" && talosDone && (!spec.kubernetes || kubernetes?.done === true);
  const hooked = complete && !input.deleting ? afterPlan(input.ledger, effects) : undefined;
  return { verdict: hooked ?? verdict, ...(kubernetes ? { kubernetes } : {}) };
}

/** The status with the plan's silence, and the write to Alertmanager it needs. */
function withSilence(
  assembled: ReturnType<typeof assembleStatus>,
  obs: Observation,
  effects: Effects,
): ReturnType<typeof assembleStatus> {
  const step = silenceStep({ plan: obs.plan, next: assembled.status, seen: obs.silence, now: obs.now });
  effects.add(step);
  if (!step.status) return assembled;
  return { ...assembled, status: { ...assembled.status, silence: step.status } };
}

/** Every started node moves forward, whatever holds new work back, or it would stay cordoned half-way. */
function advanceInFlight(
  entries: NodeStatus[],
  chosen: Set<string>,
  byName: Map<string, NodeView>,
  obs: Observation,
  effects: Effects,
  ledger: HookLedger,
): NodeStatus[] {
  const hooks: NodeHooks = {
    has: (stage) => ledger.has(stage),
    run: (stage, entry, boot) => ledger.run(stage, { name: entry.name, version: entry.version, step: boot }),
  };
  return entries
    .map((entry) => {
      const result = stepNode(entry, byName.get(entry.name), obs.plan.spec, obs.now, hooks);
      effects.add(result);
      return result.entry;
    })
    .filter((e) => chosen.has(e.name) || keptOutOfSelection(e, byName, false));
}

/**
 * Before the rollout's first node or task: its beforePlan hooks, which hold new work back while
 * they run. Nothing to start (or a plan held, refused or going away) runs none.
 */
function beforePlan(
  ledger: HookLedger,
  entries: NodeStatus[],
  obs: Observation,
  refusal: Verdict | undefined,
  deleting: boolean,
  effects: Effects,
): Verdict | undefined {
  const kubernetes = obs.plan.spec.kubernetes;
  const work =
    entries.some((e) => e.state === "Pending") ||
    (kubernetes !== undefined && kubernetesBehind(obs.nodes, kubernetes).length > 0);
  if (!work || refusal || deleting || entries.some((e) => e.state === "Failed")) return undefined;
  const gate = ledger.begin();
  if (gate.kind === "running") effects.add(gate);
  return hookVerdict(gate);
}

/**
 * Before a pass's first control plane: a verified etcd snapshot. Like the beforePlan hooks it holds
 * new work only, and a refused, failed or deleted plan takes none.
 */
function etcdSnapshotGate(
  entries: NodeStatus[],
  base: { obs: Observation; previous: PlanStatus },
  refusal: Verdict | undefined,
  deleting: boolean,
  retry: boolean,
  effects: Effects,
): Verdict | undefined {
  const { obs, previous } = base;
  if (refusal || deleting || entries.some((e) => e.state === "Failed")) return undefined;
  const step = etcdBackupStep({ obs, entries, previous, retry });
  effects.add(step);
  effects.etcdBackup = step.status;
  return step.verdict;
}

/** Once everything is done: the afterPlan hooks, then the rollout is finished. */
function afterPlan(ledger: HookLedger, effects: Effects): Verdict | undefined {
  if (!ledger.active) return undefined;
  const gate = ledger.run("AfterPlan");
  if (gate.kind === "done") ledger.finish();
  if (gate.kind === "running") effects.add(gate);
  return hookVerdict(gate);
}

/** The verdict on the Talos phase, and new nodes started when nothing refuses or holds them. */
function startNew(
  entries: NodeStatus[],
  byName: Map<string, NodeView>,
  obs: Observation,
  refusal: Verdict | undefined,
  hold: Verdict | undefined,
  effects: Effects,
  released: Set<string>,
  selected: Set<string>,
): { entries: NodeStatus[]; verdict: Verdict } {
  const verdict = failedVerdict(entries, byName) ?? refusal ?? { kind: "progressing" };
  if (verdict.kind !== "progressing") return { entries, verdict };
  if (obs.plan.spec.talos && entries.length === 0) {
    const message =
      "no node matches spec.nodeSelector (nodes labelled upgrade.talos-operator.dev/exclude are left out)";
    return { entries, verdict: { kind: "waiting", reason: Reason.NoNodesSelected, message } };
  }
  if (!entries.some((e) => e.state === "Pending")) return { entries, verdict };
  if (hold) return { entries, verdict: hold };
  const started = startNodes(entries, byName, obs, obs.now, released, selected);
  effects.add(started);
  const waiting = started.hold && !started.entries.some((e) => activeStates.has(e.state));
  return {
    entries: started.entries,
    verdict: failedVerdict(started.entries, byName) ?? (waiting && started.hold ? started.hold : verdict),
  };
}

/**
 * The nodes done in this pass whose cordon the pass releases, Ready on a machine that booted clean
 * (running, no Talos diagnostic): the starts of the same pass may take their places, as the
 * uncordons are carried out first.
 */
function releasedNow(entries: NodeStatus[], byName: Map<string, NodeView>, effects: Effects): Set<string> {
  const uncordoned = new Set(effects.actions.filter((a) => a.kind === "uncordon").map((a) => a.node));
  const sound = (node: NodeView | undefined) =>
    node?.ready &&
    node.talos.reachable &&
    node.talos.stage === "RUNNING" &&
    (node.talos.diagnostics?.length ?? 0) === 0;
  return new Set(
    entries
      .filter((e) => e.state === "Done" && uncordoned.has(e.name) && sound(byName.get(e.name)))
      .map((e) => e.name),
  );
}

/** When to look again, and whether a deleted plan may go. */
function conclude(
  decision: ReturnType<typeof assembleStatus>,
  verdict: Verdict,
  effects: Effects,
  now: Date,
  deleting: boolean,
): Decision {
  const stillActive =
    decision.status.nodes.some((e) => activeStates.has(e.state)) ||
    (decision.status.kubernetes?.tasks.some((t) => t.state === "Applying") ?? false);
  // Health checks, etcd and other plans cannot be watched: while they hold the plan, look again regularly.
  const polling =
    stillActive ||
    (verdict.kind === "waiting" && verdict.reason !== Reason.WaitingForWindow) ||
    (verdict.kind === "stalled" && verdict.retrying === true);
  const decided = finish({ ...decision, polling }, effects, now);
  const idle = !stillActive && decided.actions.length === 0;
  return deleting && idle ? { ...decided, release: true } : decided;
}

/** The fleet's Talos pass, placing each selected node by its last known version. */
function fleetPass(
  talosSpec: NonNullable<Observation["plan"]["spec"]["talos"]>,
  selected: NodeView[],
  previous: NodeStatus[],
): TalosPass {
  const entries = new Map(previous.map((e) => [e.name, e]));
  const known = selected
    .map((n) => lastKnownVersion(n, entries.get(n.name)))
    .filter((v): v is string => v !== undefined);
  return talosPass(talosSpec, known);
}

function failedVerdict(entries: NodeStatus[], byName: Map<string, NodeView>): Verdict | undefined {
  const failed = entries.filter((e) => e.state === "Failed");
  const first = failed[0];
  if (!first) return undefined;
  // Failed nodes keep the cordon the operator put on them; the condition says which.
  const cordoned = failed.filter((e) => byName.get(e.name)?.cordonedBy !== undefined).map((e) => e.name);
  const left = cordoned.length > 0 ? `; left cordoned: ${nameList(cordoned)}` : "";
  return {
    kind: "failed",
    reason: first.reason ?? Reason.NodeFailed,
    message: `node ${first.name} failed: ${first.message}${left}`,
  };
}

/**
 * The cordons this plan put on nodes it no longer works on (done, left alone, retried back to
 * pending, out of its selection) are released. A failed node keeps its cordon, and says so,
 * unless the plan is being deleted: nothing would release it after.
 */
function releaseCordons(plan: string, entries: NodeStatus[], nodes: NodeView[], deleting: boolean): Action[] {
  const kept = (e: NodeStatus) => activeStates.has(e.state) || (e.state === "Failed" && !deleting);
  const held = new Set(entries.filter(kept).map((e) => e.name));
  return nodes
    .filter((n) => n.unschedulable && n.cordonedBy === plan && !held.has(n.name))
    .map((n) => ({ kind: "uncordon", node: n.name }));
}

type Assembled = ReturnType<typeof assembleStatus> & { polling: boolean };

function dryRun(input: {
  obs: Observation;
  generation: number;
  previous: PlanStatus;
  selected: NodeView[];
  retryValue: string | undefined;
  gatesFailingSince: string | undefined;
  entries: NodeStatus[];
  effects: Effects;
  refusal: Verdict | undefined;
  hooks: PlanStatus["hooks"];
}): Assembled {
  const { obs, entries, effects, refusal } = input;
  const spec = obs.plan.spec;
  // The Kubernetes tasks can be listed once the Talos phase has nothing left to do.
  const talosLeft = !talosComplete(entries, spec.talos?.version);
  const preview = spec.kubernetes && !talosLeft && !refusal ? previewKubernetes(obs) : undefined;
  const detail = !spec.kubernetes
    ? undefined
    : preview
      ? `Kubernetes ${preview.phase.status.fromVersion ?? "?"} → ${spec.kubernetes.version}: ${preview.phase.status.tasks.length} task(s), in the order of status.kubernetes.tasks (worker kubelets with nothing to report: workerKubelets)`
      : "the Kubernetes tasks are listed once the Talos phase is done";
  const assembled = assembleStatus({
    ...input,
    events: effects.events,
    verdict: refusal ?? preview?.refusal ?? { kind: "dryRun", ...(detail ? { detail } : {}) },
    ...(preview ? { kubernetes: preview.phase } : {}),
  });
  return { ...assembled, polling: entries.some((e) => activeStates.has(e.state)) };
}

function finish(assembled: Assembled, effects: Effects, now: Date): Decision {
  const timers = effects.wakeAt === undefined ? undefined : Math.max(0, effects.wakeAt - now.getTime());
  const requeue = assembled.polling ? Math.min(timers ?? activeResync, activeResync) : timers;
  // Uncordons before anything else: a start may have taken the place one frees, and the shell
  // stops at the first effect that fails (or a crash), so two cordons are never on at once.
  const releases = [
    ...new Map(effects.actions.filter((a) => a.kind === "uncordon").map((a) => [a.node, a])).values(),
  ];
  return {
    status: assembled.status,
    actions: [...releases, ...effects.actions.filter((a) => a.kind !== "uncordon")],
    events: assembled.events,
    ...(requeue !== undefined ? { requeueAfterMs: requeue } : {}),
  };
}
