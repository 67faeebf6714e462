// A pod's change wakes only the plans it can matter to: those with work under way or still to
// start; a plan at rest (completed, failed with nothing in flight, paused) is not woken by every
// pod of the cluster. A Node's change wakes only when it changes what the operator reads, and a
// plan at rest only for a Node it lists or would take in.
import { nodeFingerprint, wakesOnNode, wakesOnPods } from "../../../src/controller/wakes.ts";
import { anEntry, aStatus } from "../builders/plans.ts";

const plan = (status?: object) => ({ metadata: { name: "p" }, ...(status ? { status } : {}) });

describe("which plans a pod's change wakes", () => {
  it.each([
    ["a plan never reconciled", undefined, true],
    ["a plan upgrading Talos", { ...aStatus(anEntry("w", "Pending")), phase: "UpgradingTalos" }, true],
    [
      "a plan waiting for its window",
      { ...aStatus(anEntry("w", "Pending")), phase: "WaitingForWindow" },
      true,
    ],
    ["a completed plan", { ...aStatus(anEntry("w", "Done")), phase: "Completed" }, false],
    ["a paused plan", { ...aStatus(anEntry("w", "Pending")), phase: "Paused" }, false],
    ["a failed plan with nothing in flight", { ...aStatus(anEntry("w", "Failed")), phase: "Failed" }, false],
    [
      "a failed plan still draining a node",
      { ...aStatus(anEntry("w", "Failed"), anEntry("x", "Draining")), phase: "Failed" },
      true,
    ],
  ] as const)("%s: %s", (_what, status, wakes) => {
    expect(wakesOnPods(plan(status))).toBe(wakes);
  });
});

describe("which plans a Node's change wakes", () => {
  const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
  const completed = { ...aStatus(anEntry("w-1", "Done")), phase: "Completed" };
  const pools = { nodeSelector: { matchLabels: { pool: "gpu" } } };
  it.each([
    [
      "any Node, for a plan at work",
      {},
      { ...aStatus(anEntry("w-1", "Pending")), phase: "UpgradingTalos" },
      node("x"),
      true,
    ],
    ["a Node it lists, for a completed plan", pools, completed, node("w-1"), true],
    ["a Node it would take in (joined or relabelled)", pools, completed, node("x", { pool: "gpu" }), true],
    ["a Node it neither lists nor selects", pools, completed, node("x", { pool: "cpu" }), false],
    [
      "any Node, for a completed plan with a Kubernetes phase",
      { ...pools, kubernetes: { version: "v1.35.0" } },
      completed,
      node("x"),
      true,
    ],
    [
      "a Node in its Kubernetes tasks",
      pools,
      { ...completed, kubernetes: { tasks: [{ node: "cp-1" }] } },
      node("cp-1"),
      true,
    ],
  ] as const)("%s", (_what, spec, status, n, wakes) => {
    expect(wakesOnNode({ metadata: { name: "p" }, spec, status } as never, n)).toBe(wakes);
  });

  it("tells a change the operator reads from one it does not", () => {
    const base = {
      metadata: { name: "w-1", labels: { pool: "gpu" }, resourceVersion: "1" },
      spec: {},
      status: {
        conditions: [
          { type: "Ready", status: "True", lastHeartbeatTime: new Date(1) },
          { type: "MemoryPressure", status: "False" },
        ],
        nodeInfo: { bootID: "b1", kubeletVersion: "v1.35.0" },
        addresses: [{ type: "InternalIP", address: "10.5.0.2" }],
        images: [{ names: ["a"] }],
      },
    };
    const same = nodeFingerprint(base as never);
    const edit = (change: (n: typeof base) => void) => {
      const copy = structuredClone(base);
      change(copy);
      return nodeFingerprint(copy as never);
    };
    // A heartbeat, a new resourceVersion, another condition, the image list: the same to the operator.
    expect(
      edit((n) => {
        n.metadata.resourceVersion = "2";
        (n.status.conditions[0] as { lastHeartbeatTime: Date }).lastHeartbeatTime = new Date(2);
        (n.status.conditions[1] as { status: string }).status = "True";
        n.status.images = [];
      }),
    ).toBe(same);
    // What it reads: each one a change.
    const changes: ((n: typeof base) => void)[] = [
      (n) => {
        n.metadata.labels.pool = "cpu";
      },
      (n) => {
        (n.spec as { unschedulable?: boolean }).unschedulable = true;
      },
      (n) => {
        (n.status.conditions[0] as { status: string }).status = "False";
      },
      (n) => {
        n.status.nodeInfo.bootID = "b2";
      },
      (n) => {
        n.status.nodeInfo.kubeletVersion = "v1.35.1";
      },
      (n) => {
        n.status.addresses = [{ type: "InternalIP", address: "10.5.0.3" }];
      },
      (n) => {
        (n.metadata as { annotations?: object }).annotations = {
          "upgrade.talos-operator.dev/cordoned-by": "p",
        };
      },
    ];
    for (const change of changes) expect(edit(change)).not.toBe(same);
  });
});
