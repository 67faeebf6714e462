// The per-node pod watches a drain reads, on the real apiserver: a node's list holds its pods and
// no other node's, a change on a watched node wakes the plans draining it and nothing else, a
// released node is no longer watched, and a list that cannot be made is an error, never an empty
// (drained-looking) node.
import { CoreV1Api, KubeConfig, type V1Pod, Watch } from "@kubernetes/client-node";
import { NodePods } from "../../src/kube/node-pods.ts";
import { streamPods } from "../../src/kube/pod-stream.ts";
import { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { defaultServiceAccount } from "../../testkit/control-plane/service-accounts.ts";
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
    await defaultServiceAccount(core, namespace);
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

  it("a stream that ends is opened again: its pods stay until the new one has them all, and changes arrive", async () => {
    const node = uniqueName("np-c");
    await core.createNode({ body: { metadata: { name: node } } });
    await core.createNamespacedPod({ namespace, body: pod("c-1", node) });
    // Every stream is cut 300 ms after it opens (as the apiserver ends a watch at its timeout), so
    // it is opened again and again.
    const real = new Watch(kc);
    const impatient: Pick<Watch, "watch"> = {
      watch: async (...args) => {
        const controller = await real.watch(...args);
        setTimeout(() => controller.abort(), 300);
        return controller;
      },
    };
    let changes = 0;
    const ended: string[] = [];
    const stream = streamPods(
      impatient,
      `spec.nodeName=${node}`,
      () => changes++,
      (error) => ended.push(String(error)),
    );
    try {
      await stream.ready;
      const names = () => stream.pods().map((p) => p.metadata?.name);
      expect(names()).toEqual(["c-1"]);
      await until("the stream cut twice", () => ended.length >= 2);
      expect(names()).toEqual(["c-1"]);
      const before = changes;
      await core.createNamespacedPod({ namespace, body: pod("c-2", node) });
      await core.deleteNamespacedPod({ namespace, name: "c-1", gracePeriodSeconds: 0 });
      await until("c-2 in, c-1 gone", () => names().join() === "c-2");
      expect(changes).toBeGreaterThan(before);
    } finally {
      stream.stop();
      await core.deleteNode({ name: node });
    }
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

describe("NodePods on an apiserver without watch lists", () => {
  let plane: ControlPlane;
  let plainKc: KubeConfig;
  let plain: CoreV1Api;
  const node = "np-plain";
  const named = (name: string) => ({ ...pod(name, node), metadata: { name, namespace: "default" } });

  beforeAll(async () => {
    // Watch lists on at first: the first case turns them off mid-stream.
    plane = await ControlPlane.start();
    plainKc = new KubeConfig();
    plainKc.loadFromFile(plane.kubeconfigPath);
    plain = plainKc.makeApiClient(CoreV1Api);
    await plain.createNode({ body: { metadata: { name: node } } });
    // No controller manager here to make the ServiceAccount a pod's admission looks up.
    await plain.createNamespacedServiceAccount({
      namespace: "default",
      body: { metadata: { name: "default" } },
    });
    for (const name of ["p-1", "p-2"])
      await plain.createNamespacedPod({ namespace: "default", body: named(name) });
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });

  it("a node whose stream had its pods, refused once the apiserver restarts without watch lists, lists then watches them", async () => {
    const told: unknown[] = [];
    const pods = new NodePods(
      plainKc,
      () => undefined,
      (_node, error) => told.push(error),
    );
    try {
      const names = async () => (await pods.list("blue", node)).map((p) => p.metadata?.name).sort();
      expect(await names()).toEqual(["p-1", "p-2"]);
      await plane.restartApiServer(["--feature-gates=WatchList=false"]);
      await plain.createNamespacedPod({ namespace: "default", body: named("p-3") });
      // The reopened stream is refused: the node falls back to a list and a watch, which have p-3.
      const end = Date.now() + 60_000;
      while (!(await names().catch((): (string | undefined)[] => [])).includes("p-3")) {
        if (Date.now() > end) throw new Error(`p-3 never listed; told: ${told.map(String).join("; ")}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await names()).toEqual(["p-1", "p-2", "p-3"]);
      // The apiserver was away for a while (those errors are told); its refusal is not a fault.
      expect(told.filter((e) => [400, 422].includes((e as { statusCode?: number }).statusCode ?? 0))).toEqual(
        [],
      );
      told.length = 0;
      // Gone at once (no kubelet here to finish a graceful deletion): the watch hears it.
      await plain.deleteNamespacedPod({ namespace: "default", name: "p-3", gracePeriodSeconds: 0 });
      const endGone = Date.now() + 10_000;
      while ((await names()).includes("p-3")) {
        if (Date.now() > endGone) throw new Error("p-3 still listed after its deletion");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(told).toEqual([]);
    } finally {
      await pods.stop();
      await plain
        .deleteNamespacedPod({ namespace: "default", name: "p-3", gracePeriodSeconds: 0 })
        .catch(() => undefined);
    }
  });

  it("refused a watch list, lists a node's pods and then watches them, as before", async () => {
    // The apiserver refuses the watch list itself, so the list and watch below are the fallback's.
    const stream = streamPods(
      new Watch(plainKc),
      `spec.nodeName=${node}`,
      () => undefined,
      () => undefined,
    );
    await expect(stream.ready).rejects.toMatchObject({ statusCode: 422 });
    stream.stop();
    const woke: string[] = [];
    const told: unknown[] = [];
    const pods = new NodePods(
      plainKc,
      (plan) => woke.push(plan),
      (_node, error) => told.push(error),
    );
    try {
      const names = (list: V1Pod[]) => list.map((p) => p.metadata?.name).sort();
      expect(names(await pods.list("blue", node))).toEqual(["p-1", "p-2"]);
      // The refusal is how the apiserver says it keeps no watch lists: not a fault to report.
      expect(told).toEqual([]);
      woke.length = 0;
      await plain.createNamespacedPod({
        namespace: "default",
        body: { ...pod("p-3", node), metadata: { name: "p-3", namespace: "default" } },
      });
      await until("blue woken by p-3", () => woke.includes("blue"));
      expect(names(await pods.list("blue", node))).toEqual(["p-1", "p-2", "p-3"]);
      // A second node goes straight to the list and watch.
      await plain.createNode({ body: { metadata: { name: `${node}-2` } } });
      expect(await pods.list("blue", `${node}-2`)).toEqual([]);
      expect(told).toEqual([]);
    } finally {
      await pods.stop();
    }
    // Two nodes opened at once by a fresh NodePods: both streams are refused, and each falls back,
    // whichever learnt of the refusal first.
    const fresh = new NodePods(
      plainKc,
      () => undefined,
      (_node, error) => told.push(error),
    );
    try {
      const [first, second] = await Promise.all([
        fresh.list("green", node),
        fresh.list("green", `${node}-2`),
      ]);
      expect(first.map((p) => p.metadata?.name).sort()).toEqual(["p-1", "p-2", "p-3"]);
      expect(second).toEqual([]);
      expect(told).toEqual([]);
    } finally {
      await fresh.stop();
    }
  });
});
