// The pods of the nodes being drained, and of no other: a watch per node (field selector
// spec.nodeName), opened when a pass first asks for the node's pods and closed once no plan drains
// it. The operator keeps no cache of the cluster's pods, so its memory and its requests follow the
// nodes in flight, not the size of the cluster.
import { CoreV1Api, type KubeConfig, ListWatch, type V1Pod, Watch } from "@kubernetes/client-node";
import { keepWatching, type Watched } from "./cache.ts";
import { apiMessage } from "./client.ts";

interface NodeWatch {
  informer: Watched<V1Pod>;
  /** Resolves once the node's pods are listed; rejects when the list failed. */
  ready: Promise<() => Promise<void>>;
}

export class NodePods {
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private readonly watches = new Map<string, NodeWatch>();
  /** The nodes each plan drains, as its last pass left them. */
  private readonly wanted = new Map<string, Set<string>>();
  /** Looks at a plan again: one draining a node whose pod changed. */
  private readonly wake: (plan: string) => void;
  private readonly onError: (node: string, error: unknown) => void;

  constructor(kc: KubeConfig, wake: (plan: string) => void, onError: (node: string, error: unknown) => void) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.watch = new Watch(kc);
    this.wake = wake;
    this.onError = onError;
  }

  /**
   * The pods of a node the plan drains, from the node's watch (opened now if it is not yet, and
   * waking the plan from then on). Throws when they cannot be listed.
   */
  async list(plan: string, node: string): Promise<V1Pod[]> {
    this.wanted.set(plan, new Set([...(this.wanted.get(plan) ?? []), node]));
    const watch = this.watches.get(node) ?? this.open(node);
    await watch.ready;
    return [...watch.informer.list()];
  }

  /** The nodes a plan drains now (none once it is gone): watches no plan wants any more close. */
  async want(plan: string, nodes: Iterable<string>): Promise<void> {
    const set = new Set(nodes);
    if (set.size > 0) this.wanted.set(plan, set);
    else this.wanted.delete(plan);
    const keep = new Set([...this.wanted.values()].flatMap((s) => [...s]));
    await Promise.all([...this.watches.keys()].filter((n) => !keep.has(n)).map((n) => this.close(n)));
  }

  /** The nodes watched now. */
  watched(): string[] {
    return [...this.watches.keys()];
  }

  async stop(): Promise<void> {
    this.wanted.clear();
    await Promise.all([...this.watches.keys()].map((n) => this.close(n)));
  }

  private open(node: string): NodeWatch {
    const fieldSelector = `spec.nodeName=${node}`;
    // The informer reports a failed list as an error event and starts anyway, with nothing in its
    // cache: an empty list must not pass for a drained node, so a failed first list is an error.
    let listed = false;
    let firstError: unknown;
    const informer = new ListWatch<V1Pod>(
      "/api/v1/pods",
      this.watch,
      async () => {
        const list = await this.core.listPodForAllNamespaces({ fieldSelector });
        listed = true;
        return list;
      },
      false,
      undefined,
      fieldSelector,
    );
    const ready = keepWatching(
      informer,
      () => {
        for (const [plan, nodes] of this.wanted) if (nodes.has(node)) this.wake(plan);
      },
      (error) => {
        firstError ??= error;
        this.onError(node, error);
      },
    ).then(async (stop) => {
      if (listed) return stop;
      await stop();
      if (this.watches.get(node) === watch) this.watches.delete(node);
      throw new Error(`cannot list the pods of node ${node}: ${apiMessage(firstError)}`, {
        cause: firstError,
      });
    });
    // A caller that never waits (a pass that failed before) must not leave the rejection unhandled.
    ready.catch(() => undefined);
    const watch = { informer, ready };
    this.watches.set(node, watch);
    return watch;
  }

  private async close(node: string): Promise<void> {
    const watch = this.watches.get(node);
    if (!watch) return;
    this.watches.delete(node);
    const stop = await watch.ready.catch(() => undefined);
    await stop?.();
  }
}
