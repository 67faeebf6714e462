// Builders for decision tests: plans, nodes and observations with sensible defaults.
import {
  type NodeStatus,
  type Plan,
  type PlanStatus,
  planSpecSchema,
} from "../../../src/api/v1alpha1/plan.ts";
import type { Decision } from "../../../src/core/decide.ts";
import type { GateResult, NodeView, Observation } from "../../../src/model/observation.ts";

export const t0 = new Date("2026-11-28T02:00:00Z");
export const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);
export const states = (d: Decision) => Object.fromEntries(d.status.nodes.map((n) => [n.name, n.state]));
export const kinds = (d: Decision) => d.actions.map((a) => `${a.kind}:${a.node}`);
export const condition = (d: Decision, type: string) => d.status.conditions.find((c) => c.type === type);

/** The next pass, with the status the previous one wrote. */
export function next(previous: Decision, obs: Observation, changes: Partial<Observation> = {}): Observation {
  return { ...obs, ...changes, plan: { ...obs.plan, ...(changes.plan ?? {}), status: previous.status } };
}

export const vanillaImage = (version: string) =>
  `factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:${version}`;

export function aPlan(
  spec: Record<string, unknown> = {},
  status?: PlanStatus,
  annotations?: Record<string, string>,
): Plan {
  return {
    apiVersion: "upgrade.talos-operator.dev/v1alpha1",
    kind: "TalosUpgradePlan",
    metadata: { name: "production", generation: 1, ...(annotations ? { annotations } : {}) },
    spec: planSpecSchema.parse({ talos: { version: "v1.12.4" }, ...spec }),
    ...(status ? { status } : {}),
  };
}

let boot = 0;
export const newBootId = () => `boot-${++boot}`;

export function aNode(name: string, overrides: Partial<NodeView> & { version?: string } = {}): NodeView {
  const { version = "v1.11.6", talos, ...rest } = overrides;
  return {
    name,
    role: name.startsWith("cp") ? "controlplane" : "worker",
    address: `10.0.0.${name.length}`,
    labels: { "kubernetes.io/hostname": name },
    ready: true,
    unschedulable: false,
    ...(overrides.unschedulable ? { cordonedBy: "production" } : {}),
    evictablePods: 0,
    pulls: { [vanillaImage("v1.12.4")]: {} },
    mirrorPods: {},
    talos: {
      reachable: true,
      version,
      bootId: `${name}-boot-0`,
      stage: "RUNNING",
      ready: true,
      platform: "metal",
      ...talos,
    },
    ...rest,
  };
}

export const healthyEtcd = (members: number) => ({
  healthy: true,
  members,
  healthyMembers: members,
  message: "healthy",
});

export function anObservation(plan: Plan, nodes: NodeView[], extra: Partial<Observation> = {}): Observation {
  const controlPlanes = nodes.filter((n) => n.role === "controlplane").length;
  return { now: t0, plan, nodes, gates: [] as GateResult[], etcd: healthyEtcd(controlPlanes), ...extra };
}

export { budgetOf } from "../../../testkit/e2e/oracles.ts";

/**
 * A status entry: role by name (cp-* are control planes), from v1.11.6 towards v1.12.4, one attempt
 * once started; everything else as the test says.
 */
export function anEntry(
  name: string,
  state: NodeStatus["state"],
  extra: Partial<NodeStatus> = {},
): NodeStatus {
  return {
    name,
    role: name.startsWith("cp") ? "controlplane" : "worker",
    state,
    fromVersion: "v1.11.6",
    version: "v1.12.4",
    attempts: state === "Pending" ? 0 : 1,
    message: "",
    ...extra,
  };
}

export const aStatus = (...nodes: NodeStatus[]): PlanStatus => ({ conditions: [], history: [], nodes });
