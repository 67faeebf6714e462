// The built-in gates over Node and Pod objects and the Talos facts. Nodes: a person's cordon, a
// NotReady node, a Talos API that does not answer, a boot not finished or a Talos diagnostic holds
// every plan, except on nodes every plan leaves out (the exclude label) and the nodes a plan is
// working on. ControlPlane: static pods, kube-proxy and CoreDNS Ready, as talosctl health waits.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { controlPlaneCheck, nodesCheck } from "../../../src/health/builtin.ts";
import { cordonedByAnnotation } from "../../../src/kube/nodes.ts";
import type { TalosFacts } from "../../../src/model/observation.ts";

function aNode(
  name: string,
  options: { ready?: boolean; cordoned?: "person" | "operator"; excluded?: boolean } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: options.excluded ? { "upgrade.talos-operator.dev/exclude": "true" } : {},
      annotations: options.cordoned === "operator" ? { [cordonedByAnnotation]: "production" } : {},
    },
    spec: { unschedulable: options.cordoned !== undefined },
    status: { conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  };
}

it.each([
  ["every node Ready and schedulable", [aNode("a"), aNode("b")], [], true, "2 node(s) Ready"],
  ["a person's cordon holds the plan", [aNode("a", { cordoned: "person" })], [], false, "a is cordoned"],
  ["a NotReady node holds the plan", [aNode("a", { ready: false })], [], false, "a is not Ready"],
  ["the operator's own cordon does not", [aNode("a", { cordoned: "operator" })], [], true, "Ready"],
  [
    "a person's cordon on an excluded node does not",
    [aNode("a", { cordoned: "person", excluded: true, ready: false }), aNode("b")],
    [],
    true,
    "Ready",
  ],
  [
    "a node the plan is working on does not",
    [aNode("a", { ready: false, cordoned: "person" })],
    ["a"],
    true,
    "Ready",
  ],
] as const)("%s", (_case, nodes, busy, passing, message) => {
  const result = nodesCheck([...nodes], new Set(busy), new Map());
  expect(result).toMatchObject({ name: "Nodes", passing });
  expect(result.message).toContain(message);
});

const running: TalosFacts = { reachable: true, stage: "RUNNING", ready: true, diagnostics: [] };

// What talosctl health asks each machine: apid answers, the boot finished, no diagnostic is active.
it.each([
  ["every machine running without diagnostics", running, [], true, "1 node(s) Ready"],
  [
    "apid does not answer",
    { reachable: false, error: "connection refused" },
    [],
    false,
    "the Talos API of a does not answer",
  ],
  ["still booting", { ...running, stage: "BOOTING" }, [], false, "a has not finished booting (booting)"],
  [
    "an active diagnostic",
    { ...running, diagnostics: ["address-overlap: host and Kubernetes pod/service CIDR addresses overlap"] },
    [],
    false,
    "a has Talos diagnostics: address-overlap: host and Kubernetes pod/service CIDR addresses overlap",
  ],
  ["on a node the plan is working on", { ...running, stage: "REBOOTING" }, ["a"], true, "Ready"],
] as const)("%s", (_case, facts, busy, passing, message) => {
  const result = nodesCheck([aNode("a")], new Set(busy), new Map([["a", facts as TalosFacts]]));
  expect(result).toMatchObject({ name: "Nodes", passing });
  expect(result.message).toContain(message);
});

function aPod(
  app: string,
  node: string,
  ready: boolean,
  extra: { mirror?: boolean; going?: boolean } = {},
): V1Pod {
  return {
    metadata: {
      name: `${app}-${node}`,
      namespace: "kube-system",
      labels: { "k8s-app": app },
      ...(extra.going ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { nodeName: node, containers: [] },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}
const staticPods = (node: string) =>
  ["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => aPod(c, node, true));

it.each([
  ["everything Ready", [aPod("kube-proxy", "w1", true), aPod("kube-dns", "w1", true)], [], true, "Ready"],
  ["no kube-proxy or CoreDNS at all", [], [], true, "Ready"],
  [
    "a kube-proxy pod not Ready",
    [aPod("kube-proxy", "w1", false)],
    [],
    false,
    "kube-proxy pod kube-proxy-w1 is not Ready",
  ],
  [
    "a CoreDNS pod not Ready",
    [aPod("kube-dns", "w2", false)],
    [],
    false,
    "kube-dns pod kube-dns-w2 is not Ready",
  ],
  ["not Ready on a node the plan works on", [aPod("kube-proxy", "w1", false)], ["w1"], true, "Ready"],
  ["not Ready while going away", [aPod("kube-dns", "w1", false, { going: true })], [], true, "Ready"],
] as const)("ControlPlane gate: %s", (_case, addOns, busy, passing, message) => {
  const result = controlPlaneCheck(["cp-1"], [...staticPods("cp-1"), ...addOns], new Set(busy));
  expect(result).toMatchObject({ name: "ControlPlane", passing });
  expect(result.message).toContain(message);
});
