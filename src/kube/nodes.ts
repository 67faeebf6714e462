// Cordon and uncordon, with an annotation that marks the nodes this operator cordoned: only those
// are uncordoned afterwards, so a node a person cordoned stays cordoned.
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { group } from "../api/v1alpha1/plan.ts";
import { httpStatus } from "./client.ts";

const cordonedByAnnotation = `${group}/cordoned-by`;
const annotationPath = `/metadata/annotations/${cordonedByAnnotation.replace("/", "~1")}`;

/** The plan this operator cordoned the node for, from the annotation; undefined if it did not. */
export function cordonedBy(node: V1Node): string | undefined {
  return node.metadata?.annotations?.[cordonedByAnnotation];
}

export class NodeControl {
  private readonly core: CoreV1Api;
  private readonly cached: (name: string) => V1Node | undefined;

  /** `cached` gives the Node as the watch last saw it, to patch without reading it first. */
  constructor(kc: KubeConfig, cached: (name: string) => V1Node | undefined = () => undefined) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.cached = cached;
  }

  async cordon(name: string, plan: string): Promise<void> {
    await this.patchAsSeen(name, (node) =>
      node.spec?.unschedulable
        ? []
        : [
            ...(node.metadata?.annotations ? [] : [{ op: "add", path: "/metadata/annotations", value: {} }]),
            { op: "add", path: annotationPath, value: plan },
            { op: "add", path: "/spec/unschedulable", value: true },
          ],
    );
  }

  async uncordon(name: string): Promise<void> {
    await this.patchAsSeen(name, (node) =>
      cordonedBy(node) === undefined
        ? []
        : [
            { op: "remove", path: annotationPath },
            { op: "add", path: "/spec/unschedulable", value: false },
          ],
    );
  }

  /**
   * Patches the Node as the watch saw it, applied only if the Node is still at that
   * resourceVersion (a JSON patch test); when it is not, or none is cached, as read fresh. A
   * person's cordon made in between is seen, never overwritten.
   */
  private async patchAsSeen(name: string, change: (node: V1Node) => object[]): Promise<void> {
    const cached = this.cached(name);
    const version = cached?.metadata?.resourceVersion;
    if (cached && version) {
      const operations = change(cached);
      if (operations.length === 0) return;
      try {
        await this.core.patchNode({
          name,
          body: [{ op: "test", path: "/metadata/resourceVersion", value: version }, ...operations],
        });
        return;
      } catch (error) {
        const status = httpStatus(error);
        if (status !== 409 && status !== 422) throw error;
      }
    }
    const operations = change(await this.core.readNode({ name }));
    if (operations.length > 0) await this.core.patchNode({ name, body: operations });
  }
}
