// Builders for Kubernetes objects as the API server gives them (V1Node, V1Pod), for the code that
// reads them directly: the built-in health gates, the drain policy.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { planName } from "./plans.ts";

/** The label that takes a node out of every plan. */
export const excludeLabel = "upgrade.talos-operator.dev/exclude";
/** The annotation the operator writes on a Node it cordons, naming the plan. */
export const cordonedByAnnotation = "upgrade.talos-operator.dev/cordoned-by";

/**
 * A Node object: Ready and schedulable, no label, unless told. `cordoned` makes it unschedulable,
 * by a person (no annotation) or by the operator (its annotation, naming plan `production`).
 */
export function aNodeObject(
  name: string,
  options: { ready?: boolean; cordoned?: "person" | "operator"; excluded?: boolean } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: options.excluded ? { [excludeLabel]: "true" } : {},
      annotations: options.cordoned === "operator" ? { [cordonedByAnnotation]: planName } : {},
    },
    spec: { unschedulable: options.cordoned !== undefined },
    status: { conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  };
}

export interface PodOptions {
  /** Default `apps`: an application's namespace. */
  namespace?: string;
  /** The node it is scheduled on. Default `worker-1`. */
  node?: string;
  /** Default: none. */
  labels?: Record<string, string>;
  /** The kind of its controller (ReplicaSet, DaemonSet...). Default: none, a bare pod. */
  owner?: string;
  /** A static pod's mirror (the kubelet's annotation). Default: false. */
  mirror?: boolean;
  /** It has an emptyDir volume. Default: false. */
  emptyDir?: boolean;
  /** It is terminating (a deletionTimestamp). Default: false. */
  deleting?: boolean;
  /** status.phase. Default `Running`. */
  phase?: string;
  /** A Ready condition, True or False. Default: no condition at all. */
  ready?: boolean;
}

/** A pod with no container spec to speak of, shaped by `options` (each default is said there). */
export function aPod(name: string, options: PodOptions = {}): V1Pod {
  const { namespace = "apps", node = "worker-1", labels = {}, phase = "Running" } = options;
  return {
    metadata: {
      name,
      namespace,
      labels,
      ...(options.mirror ? { annotations: { "kubernetes.io/config.mirror": "x" } } : {}),
      ...(options.owner
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: options.owner, name: "o", uid: "u", controller: true },
            ],
          }
        : {}),
      ...(options.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: {
      nodeName: node,
      containers: [],
      ...(options.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: {
      phase,
      ...(options.ready === undefined
        ? {}
        : { conditions: [{ type: "Ready", status: options.ready ? "True" : "False" }] }),
    },
  };
}

/**
 * A kube-system pod of the add-on or static pod `app` (its `k8s-app` label) on `node`, named
 * `<app>-<node>`, Ready or not; `deleting` as in `aPod`.
 */
export const aSystemPod = (app: string, node: string, ready: boolean, options: { deleting?: boolean } = {}) =>
  aPod(`${app}-${node}`, { namespace: "kube-system", node, labels: { "k8s-app": app }, ready, ...options });
