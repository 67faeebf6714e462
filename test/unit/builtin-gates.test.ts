// The built-in Nodes gate over Node objects: a person's cordon or a NotReady node holds every plan,
// except on nodes every plan leaves out (the exclude label) and the nodes a plan is working on.
import type { V1Node } from "@kubernetes/client-node";
import { nodesCheck } from "../../src/health/builtin.ts";
import { cordonedByAnnotation } from "../../src/kube/nodes.ts";

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
  const result = nodesCheck([...nodes], new Set(busy));
  expect(result).toMatchObject({ name: "Nodes", passing });
  expect(result.message).toContain(message);
});
