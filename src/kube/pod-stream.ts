// A node's pods from one watch request (a "watch list": the stream opens with the pods there are,
// then a bookmark that says they are all in, then changes), instead of a list followed by a watch.
// A drained node costs one request where it cost two. A stream that ends is opened again, and
// the pods it starts with replace those kept once its bookmark says they are complete.
import type { V1Pod, Watch } from "@kubernetes/client-node";

/** The annotation on the bookmark that ends a watch list's initial events. */
const initialEventsEnd = "k8s.io/initial-events-end";

export interface PodStream {
  /** The pods as the stream last delivered them. */
  pods(): V1Pod[];
  /**
   * Resolves once the first stream delivered every pod there was; rejects with its error when that
   * stream failed first (an apiserver without watch lists refuses the request with 400 or 422).
   */
  ready: Promise<void>;
  stop(): void;
}

/** Errors of a stream that ended after it had delivered are told, not thrown; it is opened again. */
export function streamPods(
  watch: Pick<Watch, "watch">,
  fieldSelector: string,
  onChange: () => void,
  onError: (error: unknown) => void,
): PodStream {
  let kept = new Map<string, V1Pod>();
  let stopped = false;
  let controller: AbortController | undefined;
  let synced = false;
  let delay = 250;
  let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const first = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Whoever waits sees the rejection; nobody waiting is not a fault.
  first.catch(() => undefined);

  const open = () => {
    const incoming = new Map<string, V1Pod>();
    let complete = false;
    const ended = (error: unknown) => {
      controller = undefined;
      if (stopped) return;
      if (!synced) {
        settle?.reject(error ?? new Error("the pod stream ended before it delivered the node's pods"));
        return;
      }
      if (error) onError(error);
      setTimeout(() => {
        if (!stopped) open();
      }, delay);
      delay = Math.min(delay * 2, 30_000);
    };
    watch
      .watch(
        "/api/v1/pods",
        {
          fieldSelector,
          sendInitialEvents: true,
          resourceVersionMatch: "NotOlderThan",
          allowWatchBookmarks: true,
        },
        (type: string, object: V1Pod) => {
          if (type === "BOOKMARK") {
            if (complete || object.metadata?.annotations?.[initialEventsEnd] !== "true") return;
            complete = true;
            synced = true;
            delay = 250;
            kept = incoming;
            settle?.resolve();
            onChange();
            return;
          }
          const uid = object.metadata?.uid;
          if (!uid || (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED")) return;
          if (type === "DELETED") incoming.delete(uid);
          else incoming.set(uid, object);
          if (complete) onChange();
        },
        ended,
      )
      .then((c) => {
        controller = c;
        if (stopped) c.abort();
      }, ended);
  };
  open();

  return {
    pods: () => [...kept.values()],
    ready: first,
    stop: () => {
      stopped = true;
      controller?.abort();
      settle?.reject(new Error("the pod stream was closed"));
    },
  };
}
