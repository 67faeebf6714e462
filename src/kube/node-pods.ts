// The pods of the nodes being drained, and of no other: a watch per node (field selector
// spec.nodeName), opened when a pass first asks for the node's pods and closed once no plan drains
// it: one watch-list request (pod-stream.ts), or a list and then a watch where the apiserver refuses
// watch lists. The operator keeps no cache of the cluster's pods, so its memory and its requests
// follow the nodes in flight, not the size of the cluster.
import { CoreV1Api, type KubeConfig, ListWatch, type V1Pod, Watch } from "@kubernetes/client-node";
import { keepWatching } from "./cache.ts";
import { apiMessage } from "./client.ts";
import { streamPods } from "./pod-stream.ts";

interface NodeWatch {
  pods: () => V1Pod[];
  /** Resolves once the node's pods are in; rejects when they cannot be read. */
  ready: () => Promise<void>;
  stop: () => Promise<void>;
}

/** An apiserver that keeps no watch lists (its WatchList feature gate off) refuses the stream so. */
const streamRefused = (error: unknown) =>
  [400, 422].includes((error as { statusCode?: number }).statusCode ?? 0);

export class NodePods {
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private readonly watches = new Map<string, NodeWatch>();
  /** The nodes each plan drains, as its last pass left them. */
  private readonly wanted = new Map<string, Set<string>>();
  /** Looks at a plan again: one draining a node whose pod changed. */
  private readonly wake: (plan: string) => void;
  private readonly onError: (node: string, error: unknown) => void;
  /** The apiserver refused a watch list: nodes are listed, then watched, from then on. */
  private listThenWatch = false;

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
    await watch.ready();
    return watch.pods();
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
    const wake = () => {
      for (const [plan, nodes] of this.wanted) if (nodes.has(node)) this.wake(plan);
    };
    const onError = (error: unknown) => this.onError(node, error);
    const failed = async (error: unknown) => {
      await current.stop();
      if (this.watches.get(node) === watch) this.watches.delete(node);
      throw new Error(`cannot list the pods of node ${node}: ${apiMessage(error)}`, { cause: error });
    };
    // Refused by an apiserver without watch lists (another node may have found out first, or the
    // apiserver restarted without them after this node's stream had its pods): listed, then
    // watched; until that list is in, the node's pods are not known.
    const fallBack = () => {
      this.listThenWatch = true;
      current = this.listWatch(node, fieldSelector, wake, onError);
      ready = current.ready().catch(failed);
      ready.catch(() => undefined);
      return ready;
    };
    let current: NodeWatch;
    let ready: Promise<void>;
    if (this.listThenWatch) {
      current = this.listWatch(node, fieldSelector, wake, onError);
      ready = current.ready().catch(failed);
    } else {
      const stream = streamPods(this.watch, fieldSelector, wake, (error) => {
        if (!streamRefused(error)) return onError(error);
        stream.stop();
        void fallBack();
      });
      current = { pods: stream.pods, ready: () => stream.ready, stop: async () => stream.stop() };
      ready = stream.ready.catch((error: unknown) => (streamRefused(error) ? fallBack() : failed(error)));
    }
    const watch: NodeWatch = { pods: () => current.pods(), ready: () => ready, stop: () => current.stop() };
    // A caller that never waits (a pass that failed before) must not leave the rejection unhandled.
    ready.catch(() => undefined);
    this.watches.set(node, watch);
    return watch;
  }

  /** The node's pods listed, then watched: for an apiserver that refuses a watch list. */
  private listWatch(
    node: string,
    fieldSelector: string,
    wake: () => void,
    onError: (error: unknown) => void,
  ): NodeWatch {
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
    const started = keepWatching(informer, wake, (error) => {
      firstError ??= error;
      onError(error);
    });
    const ready = started.then(async (stop) => {
      if (listed) return;
      await stop();
      throw firstError ?? new Error(`the pods of node ${node} were not listed`);
    });
    ready.catch(() => undefined);
    return {
      pods: () => [...informer.list()],
      ready: () => ready,
      stop: async () => {
        const stop = await started.catch(() => undefined);
        await stop?.();
      },
    };
  }

  private async close(node: string): Promise<void> {
    const watch = this.watches.get(node);
    if (!watch) return;
    this.watches.delete(node);
    await watch.stop();
  }
}
