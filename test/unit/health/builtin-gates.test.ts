// The built-in gates over Node and Pod objects and the Talos facts. Nodes: a person's cordon, a
// NotReady node, a Talos API that does not answer, a boot not finished or a Talos diagnostic holds
// every plan, except on nodes every plan leaves out (the exclude label) and the nodes a plan is
// working on. ControlPlane: static pods, kube-proxy and CoreDNS Ready, as talosctl health waits.
import { controlPlaneCheck, nodesCheck } from "../../../src/health/builtin.ts";
import type { TalosFacts } from "../../../src/model/observation.ts";
import { aNodeObject, aSystemPod } from "../builders/kube.ts";

it.each([
  ["every node Ready and schedulable", [aNodeObject("a"), aNodeObject("b")], [], true, "2 node(s) Ready"],
  [
    "a person's cordon holds the plan",
    [aNodeObject("a", { cordoned: "person" })],
    [],
    false,
    "a is cordoned",
  ],
  ["a NotReady node holds the plan", [aNodeObject("a", { ready: false })], [], false, "a is not Ready"],
  ["the operator's own cordon does not", [aNodeObject("a", { cordoned: "operator" })], [], true, "Ready"],
  [
    "a person's cordon on an excluded node does not",
    [aNodeObject("a", { cordoned: "person", excluded: true, ready: false }), aNodeObject("b")],
    [],
    true,
    "Ready",
  ],
  [
    "a node the plan is working on does not",
    [aNodeObject("a", { ready: false, cordoned: "person" })],
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
  const result = nodesCheck([aNodeObject("a")], new Set(busy), new Map([["a", facts as TalosFacts]]));
  expect(result).toMatchObject({ name: "Nodes", passing });
  expect(result.message).toContain(message);
});

const staticPods = (node: string) =>
  ["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => aSystemPod(c, node, true));

it.each([
  [
    "everything Ready",
    [aSystemPod("kube-proxy", "w1", true), aSystemPod("kube-dns", "w1", true)],
    [],
    true,
    "Ready",
  ],
  ["no kube-proxy or CoreDNS at all", [], [], true, "Ready"],
  [
    "a kube-proxy pod not Ready",
    [aSystemPod("kube-proxy", "w1", false)],
    [],
    false,
    "kube-proxy pod kube-proxy-w1 is not Ready",
  ],
  [
    "a CoreDNS pod not Ready",
    [aSystemPod("kube-dns", "w2", false)],
    [],
    false,
    "kube-dns pod kube-dns-w2 is not Ready",
  ],
  ["not Ready on a node the plan works on", [aSystemPod("kube-proxy", "w1", false)], ["w1"], true, "Ready"],
  [
    "not Ready while going away",
    [aSystemPod("kube-dns", "w1", false, { deleting: true })],
    [],
    true,
    "Ready",
  ],
] as const)("ControlPlane gate: %s", (_case, addOns, busy, passing, message) => {
  const result = controlPlaneCheck(["cp-1"], [...staticPods("cp-1"), ...addOns], new Set(busy));
  expect(result).toMatchObject({ name: "ControlPlane", passing });
  expect(result.message).toContain(message);
});
