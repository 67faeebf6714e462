// The per-node pod watches a drain reads, on the real apiserver: a node's list holds its pods and
// no other node's, a change on a watched node wakes the plans draining it and nothing else, a
// released node is no longer watched, and a list that cannot be made is an error, never an empty
// (drained-looking) node.
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { NodePods } from "../../src/kube/node-pods.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const namespace = uniqueName("node-pods");
const [nodeA, nodeB] = [uniqueName("np-a"), uniqueName("np-b")];

const pod = (name: string, node: string): V1Pod => ({
  metadata: { name, namespace },
  spec: { nodeName: node, containers: [{ name: "c", image: "app:1" }] },
});

/** Waits for `check` to hold, polling; fails with `what` after a bound. */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("NodePods: the pods of the nodes being drained, watched per node", () => {
  const woken: string[] = [];
  const errors: string[] = [];
  let pods: NodePods;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const node of [nodeA, nodeB]) await core.createNode({ body: { metadata: { name: node } } });
    for (const [name, node] of [
      ["a-1", nodeA],
      ["a-2", nodeA],
      ["b-1", nodeB],
    ] as const)
      await core.createNamespacedPod({ namespace, body: pod(name, node) });
    pods = new NodePods(
      kc,
      (plan) => woken.push(plan),
      (node, error) => errors.push(`${node}: ${String(error)}`),
    );
  });

  afterAll(async () => {
    await pods.stop();
    await core.deleteNamespace({ name: namespace });
    for (const node of [nodeA, nodeB]) await core.deleteNode({ name: node });
  });

  it("lists a node's own pods, and a change there wakes the plan draining it, not one elsewhere", async () => {
    const names = (list: V1Pod[]) => list.map((p) => p.metadata?.name).sort();
    expect(names(await pods.list("blue", nodeA))).toEqual(["a-1", "a-2"]);
    expect(pods.watched()).toEqual([nodeA]);
    // The first list is told as additions too; what follows counts only later changes.
    woken.length = 0;

    // A pod on the other node: not watched, nobody woken.
    await core.createNamespacedPod({ namespace, body: pod("b-2", nodeB) });
    // A pod on the watched node: the watch sees it, and "blue" is woken.
    await core.createNamespacedPod({ namespace, body: pod("a-3", nodeA) });
    await until("blue woken by a-3", () => woken.includes("blue"));
    expect(names(await pods.list("blue", nodeA))).toEqual(["a-1", "a-2", "a-3"]);
    // b-2 was created before a-3, so its event (had there been a watch) would have come first.
    expect(new Set(woken)).toEqual(new Set(["blue"]));
    expect(errors).toEqual([]);
  });

  it("closes a node's watch once no plan drains it; another plan keeps it open while it does", async () => {
    await pods.list("green", nodeA);
    await pods.want("blue", []);
    expect(pods.watched()).toEqual([nodeA]);
    await pods.want("green", []);
    expect(pods.watched()).toEqual([]);

    // nodeB watched for "green" from here: its events arrive, nodeA's must not.
    await pods.list("green", nodeB);
    woken.length = 0;
    await core.deleteNamespacedPod({ namespace, name: "a-1", gracePeriodSeconds: 0 });
    await core.createNamespacedPod({ namespace, body: pod("b-3", nodeB) });
    // The change made second has been delivered: one made first on a watched node would have been too.
    await until("b-3 seen on nodeB", () => woken.includes("green"));
    expect(new Set(woken)).toEqual(new Set(["green"]));
    expect(pods.watched()).toEqual([nodeB]);
  });

  it("a node whose pods cannot be listed is an error that names it, never an empty node", async () => {
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const failing = new NodePods(
      unreachable,
      () => undefined,
      () => undefined,
    );
    try {
      await expect(failing.list("blue", nodeA)).rejects.toThrow(`cannot list the pods of node ${nodeA}`);
      // The failed watch is not kept: the next pass opens it again.
      expect(failing.watched()).toEqual([]);
    } finally {
      await failing.stop();
    }
  });
});
