// Cordon and uncordon, with an annotation that marks the nodes this operator cordoned: only those
// are uncordoned afterwards, so a node a person cordoned stays cordoned.
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { group } from "../api/v1alpha1/plan.ts";

export const cordonedByAnnotation = `${group}/cordoned-by`;
const annotationPath = `/metadata/annotations/${cordonedByAnnotation.replace("/", "~1")}`;

/** The plan this operator cordoned the node for, from the annotation; undefined if it did not. */
export function cordonedBy(node: V1Node): string | undefined {
  return node.metadata?.annotations?.[cordonedByAnnotation];
}

export class NodeControl {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async cordon(name: string, plan: string): Promise<void> {
    const node = await this.core.readNode({ name });
    if (node.spec?.unschedulable) return;
    const operations = [
      ...(node.metadata?.annotations ? [] : [{ op: "add", path: "/metadata/annotations", value: {} }]),
      { op: "add", path: annotationPath, value: plan },
      { op: "add", path: "/spec/unschedulable", value: true },
    ];
    await this.core.patchNode({ name, body: operations });
  }

  async uncordon(name: string): Promise<void> {
    const node = await this.core.readNode({ name });
    if (cordonedBy(node) === undefined) return;
    await this.core.patchNode({
      name,
      body: [
        { op: "remove", path: annotationPath },
        { op: "add", path: "/spec/unschedulable", value: false },
      ],
    });
  }
}
