// The builtin health checks, evaluated over what the operator already observes: every node Ready,
// none cordoned by someone else, its Talos answering, booted and without diagnostics; etcd healthy;
// control plane static pods, kube-proxy and CoreDNS Ready.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { excluded } from "../api/v1alpha1/plan.ts";
import { cordonedBy } from "../kube/nodes.ts";
import { nameList } from "../model/messages.ts";
import type { EtcdView, GateResult, TalosFacts } from "../model/observation.ts";

const ready = (conditions: { type: string; status: string }[] | undefined) =>
  conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * Every node Ready and not cordoned by someone else, and, as talosctl health sees its machine:
 * apid answers, the boot sequence is finished (stage running), no Talos diagnostic is active.
 * `busy` are the nodes the plan is working on right now: their state is expected.
 */
export function nodesCheck(
  nodes: V1Node[],
  busy: Set<string>,
  factsByNode: Map<string, TalosFacts>,
): GateResult {
  const problems: string[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    // Nodes every plan leaves out are not the fleet's health: a person's cordon there blocks nothing.
    if (busy.has(name) || excluded(node.metadata?.labels ?? {})) continue;
    if (!ready(node.status?.conditions)) problems.push(`${name} is not Ready`);
    if (node.spec?.unschedulable && cordonedBy(node) === undefined) problems.push(`${name} is cordoned`);
    problems.push(...machineProblems(name, factsByNode.get(name)));
  }
  return {
    name: "Nodes",
    passing: problems.length === 0,
    message: nameList(problems) || `${nodes.length} node(s) Ready`,
  };
}

/** What the Nodes gate holds against a machine: not answering, not booted, a diagnostic. */
export function machineProblems(name: string, facts: TalosFacts | undefined): string[] {
  if (!facts) return [];
  if (!facts.reachable) return [`the Talos API of ${name} does not answer`];
  const problems: string[] = [];
  if (facts.stage && facts.stage !== "RUNNING")
    problems.push(`${name} has not finished booting (${facts.stage.toLowerCase()})`);
  if (facts.diagnostics?.length)
    problems.push(`${name} has Talos diagnostics: ${nameList(facts.diagnostics, 3)}`);
  return problems;
}

export function etcdCheck(etcd: EtcdView | undefined): GateResult {
  if (!etcd) return { name: "Etcd", passing: false, message: "etcd health unknown" };
  return { name: "Etcd", passing: etcd.healthy, message: etcd.message };
}

const components = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

export function controlPlaneCheck(controlPlanes: string[], pods: V1Pod[], busy: Set<string>): GateResult {
  const problems: string[] = [];
  for (const node of controlPlanes) {
    if (busy.has(node)) continue;
    for (const component of components) {
      const pod = pods.find(
        (p) =>
          p.spec?.nodeName === node &&
          p.metadata?.labels?.["k8s-app"] === component &&
          p.metadata?.namespace === "kube-system",
      );
      if (!pod) problems.push(`${component} on ${node} is missing`);
      else if (!ready(pod.status?.conditions)) problems.push(`${component} on ${node} is not Ready`);
    }
  }
  problems.push(...addOnProblems(pods, busy));
  return {
    name: "ControlPlane",
    passing: problems.length === 0,
    message: nameList(problems) || "control plane pods Ready",
  };
}

/** Cluster add-ons that talosctl health waits for, by their pods' k8s-app label. */
const addOns = ["kube-proxy", "kube-dns"];

/**
 * As talosctl health: kube-proxy and CoreDNS pods are Ready where they run (a cluster without them,
 * kube-proxy disabled or no CNI yet, has nothing to wait for). Pods on the nodes the plan works on,
 * and pods going away, are expected not to be.
 */
function addOnProblems(pods: V1Pod[], busy: Set<string>): string[] {
  return pods
    .filter(
      (p) =>
        p.metadata?.namespace === "kube-system" && addOns.includes(p.metadata?.labels?.["k8s-app"] ?? ""),
    )
    .filter((p) => !p.metadata?.deletionTimestamp && !busy.has(p.spec?.nodeName ?? ""))
    .filter((p) => !ready(p.status?.conditions))
    .map((p) => `${p.metadata?.labels?.["k8s-app"]} pod ${p.metadata?.name} is not Ready`);
}
