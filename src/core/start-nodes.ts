// Starting new work, within the rules: one control plane at a time, gated on etcd keeping its
// quorum, then workers within maxUnavailable; a node starts only once its installer is pulled, and
// on Talos ≥ 1.13 installs it before its cordon.

import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { EtcdView, NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { activeStates, installerPull, installStep, settledStates, upgradeAction } from "./node-steps.ts";
import { workerBudget } from "./selection.ts";

const isActive = (e: NodeStatus) => activeStates.has(e.state);

/** One pass's starts: the entries as they become, and the pulls, cordons and events on the way. */
class Starts {
  readonly out: NodeStatus[];
  readonly actions: Action[] = [];
  readonly events: PlanEvent[] = [];
  /** When to look again, if sooner than anything else asks. */
  wakeAt: number | undefined;
  /** Workers that may be down at once; pulls under way are capped at it too. */
  readonly budget: number;
  private pullsUnderWay: number;
  private readonly byName: Map<string, NodeView>;
  private readonly spec: PlanSpec;
  private readonly now: Date;
  /** Nodes whose cordon this pass releases before its starts (see decide's releasedNow). */
  private readonly released: Set<string>;

  constructor(
    entries: NodeStatus[],
    byName: Map<string, NodeView>,
    spec: PlanSpec,
    now: Date,
    released: Set<string>,
    selected: Set<string>,
  ) {
    this.out = [...entries];
    this.byName = byName;
    this.spec = spec;
    this.now = now;
    this.released = released;
    // The plan's workers: those it selects, and those out of it still in flight or failed (not one
    // verified that stays only for its installer's write).
    const workers = entries.filter(
      (e) => e.role === "worker" && (selected.has(e.name) || !settledStates.has(e.state)),
    ).length;
    this.budget = workerBudget(spec.rollout.maxUnavailable, workers);
    // Pulls run off the pass, at most a budget's worth at once across the plan's nodes.
    this.pullsUnderWay = entries.filter((e) => (byName.get(e.name)?.pulling?.length ?? 0) > 0).length;
  }

  wakeNow(): void {
    this.wakeAt = this.now.getTime();
  }

  node(entry: NodeStatus | undefined): NodeView | undefined {
    return entry ? this.byName.get(entry.name) : undefined;
  }

  /** Cordoned, and staying so through this pass. */
  cordoned(node: NodeView): boolean {
    return node.unschedulable && !this.released.has(node.name);
  }

  /**
   * Asks for an installer pull within the cap; says what the node waits on. Past the cap the
   * message names no image: every pending worker of a large fleet may carry it.
   */
  private pull(node: NodeView, upgrade: Extract<Action, { kind: "upgrade" }>): string {
    if (node.pulling?.includes(upgrade.image)) return `pulling ${upgrade.image}`;
    if (this.pullsUnderWay >= this.budget) return `waiting to pull its installer (${this.budget} at a time)`;
    this.pullsUnderWay++;
    this.actions.push(installerPull(node, upgrade));
    return `pulling ${upgrade.image}`;
  }

  /**
   * Starts the node at `index` (cordon first) once its installer image is on it; a missing image
   * fails the node before anything is cordoned. True when the node started.
   */
  start(index: number): boolean {
    const entry = this.out[index] as NodeStatus;
    const node = this.byName.get(entry.name) as NodeView;
    const upgrade = upgradeAction(node, entry, this.spec);
    if (upgrade.kind !== "upgrade") return false;
    const pulled = node.pulls[upgrade.image];
    if (!pulled) {
      this.out[index] = { ...entry, message: this.pull(node, upgrade) };
      return false;
    }
    if (pulled.error) {
      const message = `the installer image ${upgrade.image} cannot be pulled: ${pulled.error}`;
      this.out[index] = {
        ...entry,
        state: "Failed",
        reason: Reason.ImagePullFailed,
        finishedAt: this.now.toISOString(),
        message,
      };
      this.events.push({
        type: "Warning",
        reason: Reason.ImagePullFailed,
        message: `${entry.name}: ${message}`,
      });
      return false;
    }
    const started: NodeStatus = {
      ...entry,
      state: "Draining",
      startedAt: this.now.toISOString(),
      image: upgrade.image,
      message: "cordoning",
    };
    // On Talos ≥ 1.13 the node installs before its cordon, still serving.
    const installing = installStep(started, node, upgrade, this.now);
    this.out[index] = installing?.entry ?? started;
    this.actions.push(...(installing?.actions ?? [{ kind: "cordon", node: entry.name }]));
    this.events.push(...(installing?.events ?? []));
    return installing?.entry.state !== "Failed";
  }

  /**
   * While the rules hold new work back, the next nodes' installers are pulled ahead (a pull does
   * not disturb a node), so that a freed slot is taken in the same pass.
   */
  pullAhead(count: number): void {
    for (const entry of this.out.filter((e) => e.state === "Pending").slice(0, count)) {
      const node = this.byName.get(entry.name);
      if (!node?.talos.reachable || !node.talos.version) continue;
      const upgrade = upgradeAction(node, entry, this.spec);
      if (upgrade.kind === "upgrade" && !node.pulls[upgrade.image]) this.pull(node, upgrade);
    }
  }
}

/** Starts as much new work as the rules allow: one control plane at a time, then workers within budget. */
export function startNodes(
  entries: NodeStatus[],
  byName: Map<string, NodeView>,
  obs: Observation,
  now: Date,
  released: Set<string>,
  selected: Set<string>,
): { entries: NodeStatus[]; actions: Action[]; events: PlanEvent[]; wakeAt?: number; hold?: Verdict } {
  const starts = new Starts(entries, byName, obs.plan.spec, now, released, selected);
  const controlPlanes = starts.out.filter((e) => e.role === "controlplane");
  const hold = controlPlanes.some((e) => !settledStates.has(e.state))
    ? controlPlaneTurn(starts, obs.etcd)
    : workersTurn(starts);
  return {
    entries: starts.out,
    actions: starts.actions,
    events: starts.events,
    ...(starts.wakeAt !== undefined ? { wakeAt: starts.wakeAt } : {}),
    ...(hold ? { hold } : {}),
  };
}

/**
 * The pending nodes the next starts take, in the order startNodes takes them: the next control
 * plane while any is left to settle, else the first workers within the budget. A node `skipped`
 * (not Ready, or its Talos API not answering) takes no place, as startNodes passes over it.
 */
export function nextToStart(
  entries: NodeStatus[],
  spec: PlanSpec,
  skipped: (name: string) => boolean,
): Set<string> {
  const controlPlaneTurn = entries.some((e) => e.role === "controlplane" && !settledStates.has(e.state));
  const role = controlPlaneTurn ? "controlplane" : "worker";
  const places = controlPlaneTurn
    ? 1
    : workerBudget(spec.rollout.maxUnavailable, entries.filter((e) => e.role === "worker").length);
  const next = new Set<string>();
  for (const entry of entries) {
    if (next.size >= places) break;
    if (entry.role === role && entry.state === "Pending" && !skipped(entry.name)) next.add(entry.name);
  }
  return next;
}

/**
 * The installers pulled ahead in the control planes' turn: the next control plane's, or once the
 * last is under way, the whole first wave of workers', which the budget lets start together in the
 * pass that settles it (one pulled ahead left the rest of the wave a pull behind).
 */
function controlPlanePullsAhead(starts: Starts): number {
  return starts.out.some((e) => e.role === "controlplane" && e.state === "Pending") ? 1 : starts.budget;
}

/** The next control plane starts when no other is down and etcd keeps its quorum without it. */
function controlPlaneTurn(starts: Starts, etcd: EtcdView | undefined): Verdict | undefined {
  const { out } = starts;
  if (out.some((e) => e.role === "controlplane" && isActive(e))) {
    starts.pullAhead(controlPlanePullsAhead(starts));
    return undefined;
  }
  const next = out.findIndex((e) => e.role === "controlplane" && e.state === "Pending");
  if (next < 0) return undefined;
  const node = starts.node(out[next]);
  const waiting = (reason: string, message: string): Verdict => ({ kind: "waiting", reason, message });
  if (!node?.talos.reachable || !node.talos.version) {
    const why = node?.talos.error ?? "no facts yet";
    return waiting(Reason.Progressing, `waiting for the Talos API of ${node?.name}: ${why}`);
  }
  // Another control plane cordoned or not Ready is one down already: never a second.
  const down = out
    .filter((e) => e.role === "controlplane" && e.name !== node.name)
    .map((e) => starts.node(e))
    .filter((n): n is NodeView => n !== undefined && (starts.cordoned(n) || !n.ready))
    .map((n) => n.name);
  if (down.length > 0)
    return waiting(
      Reason.Progressing,
      `waiting for control plane ${nameList(down)} to be Ready and uncordoned`,
    );
  // A view read by an earlier pass does not take a control plane down: the next pass reads afresh.
  if (etcd?.earlier) {
    starts.wakeNow();
    return waiting(Reason.WaitingForEtcd, `reading etcd afresh before ${node.name} goes down`);
  }
  const quorum = etcd ? Math.floor(etcd.members / 2) + 1 : 0;
  // Taking this member down must leave a quorum, unless there is nothing to keep (a single member).
  if (!etcd?.healthy || (etcd.members > 1 && etcd.healthyMembers - 1 < quorum)) {
    const message = etcd ? `etcd is not safe to lose ${node.name}: ${etcd.message}` : "etcd health unknown";
    return waiting(Reason.WaitingForEtcd, message);
  }
  if (starts.start(next)) starts.pullAhead(controlPlanePullsAhead(starts));
  return undefined;
}

/** Workers start within a budget of maxUnavailable, counting workers down for any reason. */
function workersTurn(starts: Starts): Verdict | undefined {
  const { out, budget } = starts;
  // Cordoned counts as down, unless this pass releases the cordon (before any new one).
  const down = (e: NodeStatus) => {
    const node = starts.node(e);
    return isActive(e) || !node?.ready || starts.cordoned(node);
  };
  let unavailable = out.filter((e) => e.role === "worker" && down(e)).length;
  for (let index = 0; index < out.length && unavailable < budget; index++) {
    const entry = out[index] as NodeStatus;
    if (entry.role !== "worker" || entry.state !== "Pending") continue;
    const away = unavailableBecause(starts.node(entry));
    if (away) {
      out[index] = { ...entry, message: away };
      continue;
    }
    if (starts.start(index)) unavailable++;
    else if (out[index]?.state === "Failed") break;
  }
  if (unavailable >= budget) starts.pullAhead(budget);
  // Nothing could start and nothing is in flight: say which workers wait, and on what.
  const waiting = out.filter(
    (e) => e.role === "worker" && e.state === "Pending" && unavailableBecause(starts.node(e)),
  );
  if (out.some(isActive) || waiting.length === 0) return undefined;
  const message = `no worker can start: ${nameList(
    waiting.map((e) => `${e.name} (${e.message})`),
    5,
  )}`;
  return { kind: "waiting", reason: Reason.Progressing, message };
}

/** Why a node cannot be started now, or undefined: its Node not Ready, or its Talos API not answering. */
function unavailableBecause(node: NodeView | undefined): string | undefined {
  if (!node) return "its Node is gone";
  if (!node.talos.reachable || !node.talos.version)
    return `waiting for its Talos API: ${(node.talos.error ?? "no facts yet").slice(0, 200)}`;
  if (!node.ready) return "waiting for its Node to be Ready";
  return undefined;
}
