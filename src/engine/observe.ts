// observe(): the one place that reads the world for a decision. It turns the watched plans, Nodes
// and Pods, the Talos API and the health checks into an immutable Observation.
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Plan } from "../api/v1alpha1/plan.ts";
import { controlPlaneCheck, etcdCheck, nodesCheck } from "../health/builtin.ts";
import { evaluateCel } from "../health/cel.ts";
import { evaluatePrometheus } from "../health/prometheus.ts";
import { cordonedByOperator } from "../kube/nodes.ts";
import type { TalosClient } from "../talos/client.ts";
import { etcdView, facts } from "../talos/machine.ts";
import { drainPlan } from "./drain-policy.ts";
import { activeStates } from "./node-steps.ts";
import type { EtcdView, GateResult, NodeView, Observation, TalosFacts } from "./observation.ts";

/** What the shell remembers between passes: outcomes of its own calls that the world does not show. */
export interface ShellMemory {
  drainBlocked: Map<string, string>;
  installerPulls: Map<string, { image: string; error?: string }>;
  upgradeErrors: Map<string, string>;
  facts: Map<string, { at: number; facts: TalosFacts }>;
}

export function newShellMemory(): ShellMemory {
  return { drainBlocked: new Map(), installerPulls: new Map(), upgradeErrors: new Map(), facts: new Map() };
}

export interface ObserveInputs {
  plan: Plan;
  otherPlans: Plan[];
  nodes: V1Node[];
  pods: V1Pod[];
  talos: TalosClient | { error: string };
  kubeconfig: KubeConfig;
  memory: ShellMemory;
  now: Date;
  /** How long facts of a node that is not being worked on stay good. */
  factsTtlMs: number;
}

const internalIp = (node: V1Node) => node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
const isReady = (node: V1Node) =>
  node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const isControlPlane = (node: V1Node) =>
  node.metadata?.labels?.["node-role.kubernetes.io/control-plane"] !== undefined;

/** The plan that goes first when several want to progress: one already progressing, else the oldest. */
export function blockingPlan(plan: Plan, others: Plan[]): string | undefined {
  const progressing = (p: Plan) =>
    (p.status?.summary?.inProgress ?? 0) > 0 ||
    p.status?.phase === "UpgradingTalos" ||
    p.status?.phase === "UpgradingKubernetes";
  const waiting = (p: Plan) =>
    !p.spec.paused && !p.spec.dryRun && p.status?.phase !== "Completed" && p.status?.phase !== "Failed";
  const age = (p: Plan) => `${p.metadata.creationTimestamp ?? ""}/${p.metadata.name}`;
  const ahead = others.find((o) => o.metadata.name !== plan.metadata.name && progressing(o));
  if (ahead) return ahead.metadata.name;
  if (progressing(plan)) return undefined;
  return others.find((o) => o.metadata.name !== plan.metadata.name && waiting(o) && age(o) < age(plan))
    ?.metadata.name;
}

export async function observe(inputs: ObserveInputs): Promise<Observation> {
  const { plan, memory, now } = inputs;
  const entries = new Map((plan.status?.nodes ?? []).map((e) => [e.name, e]));
  const talos = "error" in inputs.talos ? undefined : inputs.talos;

  const nodeFacts = async (node: V1Node): Promise<TalosFacts> => {
    const name = node.metadata?.name ?? "";
    const address = internalIp(node);
    if (!talos || !address)
      return {
        reachable: false,
        error: "error" in inputs.talos ? inputs.talos.error : "the Node has no InternalIP",
      };
    const entry = entries.get(name);
    const busy = entry !== undefined && activeStates.has(entry.state);
    const cached = memory.facts.get(name);
    if (cached && !busy && now.getTime() - cached.at < inputs.factsTtlMs) return cached.facts;
    const fresh = await facts(talos, address, entry?.state === "Pending" || entry === undefined);
    const merged = {
      ...fresh,
      ...(fresh.schematic || !cached?.facts.schematic ? {} : { schematic: cached.facts.schematic }),
    };
    memory.facts.set(name, { at: now.getTime(), facts: merged });
    return merged;
  };

  const views: NodeView[] = await Promise.all(
    inputs.nodes.map(async (node): Promise<NodeView> => {
      const name = node.metadata?.name ?? "";
      const drain = drainPlan(inputs.pods, name, plan.spec.drain);
      const blocked = [
        ...drain.blocked,
        ...(memory.drainBlocked.has(name) ? [memory.drainBlocked.get(name) as string] : []),
      ];
      const pull = memory.installerPulls.get(name);
      const upgradeError = memory.upgradeErrors.get(name);
      const address = internalIp(node);
      return {
        name,
        role: isControlPlane(node) ? "controlplane" : "worker",
        ...(address ? { address } : {}),
        labels: node.metadata?.labels ?? {},
        ready: isReady(node),
        unschedulable: node.spec?.unschedulable ?? false,
        cordonedByOperator: cordonedByOperator(node),
        talos: await nodeFacts(node),
        evictablePods: drain.evict.length + drain.terminating.length + drain.blocked.length,
        ...(blocked.length > 0 ? { drainBlockedBy: blocked.join("; ") } : {}),
        ...(pull ? { installerPull: pull } : {}),
        ...(upgradeError ? { upgradeError } : {}),
      };
    }),
  );

  const pending = [...entries.values()].some((e) => e.state === "Pending") || entries.size === 0;
  const busy = new Set([...entries.values()].filter((e) => activeStates.has(e.state)).map((e) => e.name));
  const controlPlanes = inputs.nodes.filter(isControlPlane);
  let etcd: EtcdView | undefined;
  const gates: GateResult[] = [];
  if (pending && talos) {
    const addresses = controlPlanes.map(internalIp).filter((a): a is string => a !== undefined);
    etcd = await etcdView(talos, addresses);
    const builtin = plan.spec.healthChecks.builtin;
    if (builtin.includes("Nodes")) gates.push(nodesCheck(inputs.nodes, busy));
    if (builtin.includes("Etcd")) gates.push(etcdCheck(etcd));
    if (builtin.includes("ControlPlane")) {
      gates.push(
        controlPlaneCheck(
          controlPlanes.map((n) => n.metadata?.name ?? ""),
          inputs.pods,
          busy,
        ),
      );
    }
    gates.push(
      ...(await Promise.all(plan.spec.healthChecks.cel.map((check) => celGate(inputs.kubeconfig, check)))),
    );
    gates.push(
      ...(await Promise.all(plan.spec.healthChecks.prometheus.map((check) => evaluatePrometheus(check)))),
    );
  }

  const blocking = blockingPlan(plan, inputs.otherPlans);
  return {
    now,
    plan,
    nodes: views,
    gates,
    ...(etcd ? { etcd } : {}),
    ...(blocking ? { blockingPlan: blocking } : {}),
    ...("error" in inputs.talos ? { talosConfigError: inputs.talos.error } : {}),
  };
}

async function celGate(
  kc: KubeConfig,
  check: Plan["spec"]["healthChecks"]["cel"][number],
): Promise<GateResult> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  try {
    const object = await api.read<KubernetesObject>({
      apiVersion: check.resource.apiVersion,
      kind: check.resource.kind,
      metadata: {
        name: check.resource.name,
        ...(check.resource.namespace ? { namespace: check.resource.namespace } : {}),
      },
    });
    return evaluateCel(check, object);
  } catch (error) {
    const code = (error as { code?: number }).code;
    const message =
      code === 404
        ? `${check.resource.kind} ${check.resource.name} not found`
        : `cannot read ${check.resource.kind} ${check.resource.name}: ${(error as Error).message}`;
    return evaluateCel(check, undefined, message);
  }
}
