// Builders for what a pass of the decision core sees (an Observation), readers of what it decides,
// and a driver that runs passes one after another as the reconciler does.
import type { Plan } from "../../../src/api/v1alpha1/plan.ts";
import { type Decision, decide } from "../../../src/core/decide.ts";
import type { GateResult, NodeView, Observation } from "../../../src/model/observation.ts";

/** The tests' clock: a Saturday, 02:00 UTC. */
export const t0 = new Date("2026-11-28T02:00:00Z");
/** `n` minutes after t0 (before it for a negative `n`). */
export const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);

/** An etcd of `members` members, every one healthy, read in this pass. */
export const healthyEtcd = (members: number) => ({
  healthy: true,
  members,
  healthyMembers: members,
  message: "healthy",
});

/**
 * A pass at t0 over `nodes`: no health check configured (no gate result), and an etcd with one
 * healthy member per control plane among `nodes`. `extra` replaces any field.
 */
export function anObservation(plan: Plan, nodes: NodeView[], extra: Partial<Observation> = {}): Observation {
  const controlPlanes = nodes.filter((n) => n.role === "controlplane").length;
  return { now: t0, plan, nodes, gates: [] as GateResult[], etcd: healthyEtcd(controlPlanes), ...extra };
}

/** The next pass: `obs` with `changes`, and the plan carrying the status `previous` wrote. */
export function next(previous: Decision, obs: Observation, changes: Partial<Observation> = {}): Observation {
  return { ...obs, ...changes, plan: { ...obs.plan, ...(changes.plan ?? {}), status: previous.status } };
}

/** Each node entry's state, by node name. */
export const states = (d: Decision) => Object.fromEntries(d.status.nodes.map((n) => [n.name, n.state]));
/** The actions as `kind:node` (`kind:undefined` for an action on no node). */
export const kinds = (d: Decision) => d.actions.map((a) => `${a.kind}:${a.node}`);
/** The status condition of this type. */
export const condition = (d: Decision, type: string) => d.status.conditions.find((c) => c.type === type);
/** The status.nodes entry of this node. */
export const entryOf = (d: Decision, name: string) => d.status.nodes.find((e) => e.name === name);

export interface DriveOptions {
  /** The cluster's answer to a decision: the nodes the next pass sees. Default: the same nodes. */
  world?: (nodes: NodeView[], d: Decision) => NodeView[];
  /** How far the clock moves between two passes, in milliseconds. Default: 0, it stands still. */
  stepMs?: number;
  /** Stop after the first pass that asks for no action. Default: false, run every pass. */
  untilIdle?: boolean;
  /** What the shell reads afresh for the next pass (e.g. the manifests). Default: nothing more. */
  read?: (obs: Observation) => Observation;
}

/**
 * Runs up to `passes` passes from `first`: each decision's status fed back into the plan (every
 * status write succeeds), `world` applied to the nodes between passes. Returns every decision, the
 * last one and the observation it was made from.
 */
export function drive(
  first: Observation,
  passes: number,
  options: DriveOptions = {},
): { decisions: Decision[]; d: Decision; obs: Observation } {
  const { world = (nodes) => nodes, stepMs = 0, untilIdle = false, read = (o) => o } = options;
  const decisions: Decision[] = [];
  let obs = first;
  for (let pass = 1; ; pass++) {
    const d = decide(obs);
    decisions.push(d);
    if (pass >= passes || (untilIdle && d.actions.length === 0)) return { decisions, d, obs };
    const now = new Date(obs.now.getTime() + stepMs);
    obs = read(next(d, { ...obs, now, nodes: world(obs.nodes, d) }));
  }
}
