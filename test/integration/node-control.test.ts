// Cordon and uncordon from the Node the watch last saw, on the real apiserver: a patch applies
// only while the Node is still at the version seen; a Node changed since (a person's cordon) is
// read again, and the person's cordon is neither claimed nor lifted.
import { CoreV1Api, type V1Node } from "@kubernetes/client-node";
import { cordonedBy, NodeControl } from "../../src/kube/nodes.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);

async function aNode(): Promise<V1Node> {
  return core.createNode({ body: { metadata: { name: uniqueName("nc") } } });
}

const personCordons = (name: string) =>
  core.patchNode({ name, body: [{ op: "add", path: "/spec/unschedulable", value: true }] });

describe("NodeControl patches the Node as seen", () => {
  it("cordons and uncordons from an up-to-date cached Node", async () => {
    const node = await aNode();
    const name = node.metadata?.name ?? "";
    let seen = node;
    const control = new NodeControl(kc, () => seen);
    await control.cordon(name, "plan-a");
    seen = await core.readNode({ name });
    expect(seen.spec?.unschedulable).toBe(true);
    expect(cordonedBy(seen)).toBe("plan-a");
    await control.uncordon(name);
    const after = await core.readNode({ name });
    expect(after.spec?.unschedulable ?? false).toBe(false);
    expect(cordonedBy(after)).toBeUndefined();
  });

  it("does not claim a cordon a person made after the cached view", async () => {
    const stale = await aNode();
    const name = stale.metadata?.name ?? "";
    await personCordons(name);
    await new NodeControl(kc, () => stale).cordon(name, "plan-a");
    const node = await core.readNode({ name });
    expect(node.spec?.unschedulable).toBe(true);
    expect(cordonedBy(node)).toBeUndefined();
    // Nor lift it: the operator uncordons only what it cordoned.
    await new NodeControl(kc, () => stale).uncordon(name);
    expect((await core.readNode({ name })).spec?.unschedulable).toBe(true);
  });

  it("lifts its own cordon from a stale view once the Node changed for another reason", async () => {
    const node = await aNode();
    const name = node.metadata?.name ?? "";
    await new NodeControl(kc).cordon(name, "plan-b");
    const seen = await core.readNode({ name });
    await core.patchNode({
      name,
      body: [{ op: "add", path: "/metadata/labels", value: { relabelled: "yes" } }],
    });
    await new NodeControl(kc, () => seen).uncordon(name);
    const after = await core.readNode({ name });
    expect(after.spec?.unschedulable ?? false).toBe(false);
    expect(cordonedBy(after)).toBeUndefined();
    expect(after.metadata?.labels?.relabelled).toBe("yes");
  });
});
