// Starting new work, within the rules: one control plane at a time, gated on etcd keeping its
// quorum, then workers within maxUnavailable; a node starts only once its installer is pulled.
import type { NodeStatus } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { activeStates, installerPull, settledStates, upgradeAction } from "./node-steps.ts";
import { workerBudget } from "./selection.ts";

/** Starts as much new work as the rules allow: one control plane at a time, then workers within budget. */
export function startNodes(
  entries: NodeStatus[],
  byName: Map<string, NodeView>,
  obs: Observation,
  now: Date,
): { entries: NodeStatus[]; actions: Action[]; events: PlanEvent[]; hold?: Verdict } {
  const spec = obs.plan.spec;
  const out = [...entries];
  const actions: Action[] = [];
  const events: PlanEvent[] = [];
  const workerCount = out.filter((e) => e.role === "worker").length;
  const budget = workerBudget(spec.rollout.maxUnavailable, workerCount);
  // Pulls run off the pass, at most a budget's worth at once across the plan's nodes.
  let pullsUnderWay = out.filter((e) => (byName.get(e.name)?.pulling?.length ?? 0) > 0).length;
  const pull = (node: NodeView, upgrade: Extract<Action, { kind: "upgrade" }>): string => {
    if (node.pulling?.includes(upgrade.image)) return `pulling ${upgrade.image}`;
    if (pullsUnderWay >= budget) return `waiting to pull ${upgrade.image} (${budget} at a time)`;
    pullsUnderWay++;
    actions.push(installerPull(node, upgrade));
    return `pulling ${upgrade.image}`;
  };
  // A node starts only once its installer image has been pulled on it: a missing image fails the
  // plan before anything is cordoned.
  const start = (index: number): boolean => {
    const entry = out[index] as NodeStatus;
    const node = byName.get(entry.name) as NodeView;
    const upgrade = upgradeAction(node, entry, spec);
    if (upgrade.kind !== "upgrade") return false;
    const pulled = node.pulls[upgrade.image];
    if (!pulled) {
      out[index] = { ...entry, message: pull(node, upgrade) };
      return false;
    }
    if (pulled.error) {
      const message = `the installer image ${upgrade.image} cannot be pulled: ${pulled.error}`;
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
      if (upgrade.kind === "upgrade" && !node.pulls[upgrade.image]) pull(node, upgrade);
    }
  };

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
    // Another control plane cordoned or not Ready is one down already: never a second.
    const down = out
      .filter((e) => e.role === "controlplane" && e.name !== node.name)
      .map((e) => byName.get(e.name))
      .filter((n) => n !== undefined && (n.unschedulable || !n.ready))
      .map((n) => n?.name);
    if (down.length > 0) {
      const message = `waiting for control plane ${nameList(down as string[])} to be Ready and uncordoned`;
      return {
        entries: out,
        actions,
        events,
        hold: { kind: "waiting", reason: Reason.Progressing, message },
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
  if (controlPlanes.some((e) => !settledStates.has(e.state))) return { entries: out, actions, events };

  // Workers: a budget of maxUnavailable, counting workers that are down for any reason.
  const workers = out.filter((e) => e.role === "worker");
  // Cordoned counts as down: a cordon this pass releases is carried out after its new cordons.
  const down = (e: NodeStatus) => {
    const node = byName.get(e.name);
    return isActive(e) || !(node?.ready ?? false) || (node?.unschedulable ?? false);
  };
  let unavailable = workers.filter(down).length;
  for (let index = 0; index < out.length && unavailable < budget; index++) {
    const entry = out[index] as NodeStatus;
    if (entry.role !== "worker" || entry.state !== "Pending") continue;
    const node = byName.get(entry.name);
    const away = unavailableBecause(node);
    if (away) {
      out[index] = { ...entry, message: away };
      continue;
    }
    if (start(index)) unavailable++;
    else if (out[index]?.state === "Failed") break;
  }
  if (unavailable >= budget) pullAhead(budget);
  // Nothing could start and nothing is in flight: say which workers wait, and on what.
  const waiting = out.filter(
    (e) => e.role === "worker" && e.state === "Pending" && unavailableBecause(byName.get(e.name)),
  );
  if (!out.some(isActive) && waiting.length > 0) {
    const message = `no worker can start: ${nameList(
      waiting.map((e) => `${e.name} (${e.message})`),
      5,
    )}`;
    return { entries: out, actions, events, hold: { kind: "waiting", reason: Reason.Progressing, message } };
  }
  return { entries: out, actions, events };
}

/** Why a node cannot be started now, or undefined: its Node not Ready, or its Talos API not answering. */
function unavailableBecause(node: NodeView | undefined): string | undefined {
  if (!node) return "its Node is gone";
  if (!node.talos.reachable || !node.talos.version)
    return `waiting for its Talos API: ${(node.talos.error ?? "no facts yet").slice(0, 200)}`;
  if (!node.ready) return "waiting for its Node to be Ready";
  return undefined;
}
