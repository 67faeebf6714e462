// What a service handler sees: the node that serves the call (after apid routing), the caller's
// roles, and the fleet around it. Handlers throw RpcError for gRPC status codes.
import type { status } from "@grpc/grpc-js";
import type { ManifestObject } from "./manifests.ts";
import type { SimNode } from "./node.ts";
import type { ImageRegistry } from "./registry.ts";

export class RpcError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

export interface FleetView {
  nodes(): SimNode[];
  registry: ImageRegistry;
  /** The etcd member ID of a control plane node, as Talos prints it (hex, 16 digits). */
  memberId(node: SimNode): string;
  /**
   * etcd members that are not the control plane nodes: a member left behind by a machine that is
   * gone (by hostname), and control planes whose member was removed.
   */
  etcdDrift: { stale: string[]; removed: string[] };
  /** A node's machine configuration (multi-document YAML). */
  machineConfig(node: SimNode): string;
  setMachineConfig(node: SimNode, yaml: string): void;
  /** The bootstrap manifests a node renders, by resource ID: none on workers, none unless the fleet renders them. */
  manifests(node: SimNode): Record<string, ManifestObject[]>;
  /** A COSI resource's version on a node: bumped each time its spec (YAML) changes. */
  resourceVersion(node: SimNode, key: string, yaml: string): number;
  /** The admin kubeconfig control planes hand out (MachineService.Kubeconfig), once a cluster is attached. */
  kubeconfig?: string;
  /** The client URL (plain http) of the real etcd control planes snapshot (MachineService.EtcdSnapshot). */
  etcdUrl?: string;
}

export interface CallContext {
  node: SimNode;
  roles: string[];
  fleet: FleetView;
  /** Called when the call ends early: the serving machine (or the endpoint) went away, or the client cancelled. */
  onAbort(listener: () => void): void;
}

export type Message = Record<string, unknown>;
export type UnaryHandler = (ctx: CallContext, request: Message) => Message | Promise<Message>;
export type StreamHandler = (
  ctx: CallContext,
  request: Message,
  write: (m: Message) => void,
) => Promise<void>;

export interface ServiceImplementation {
  /** Unary methods whose response is `{ messages: [X] }`: the handler returns X. */
  envelope?: Record<string, UnaryHandler>;
  /** Unary methods answered as they are. */
  unary?: Record<string, UnaryHandler>;
  stream?: Record<string, StreamHandler>;
}

export const timestamp = (ms: number) => ({
  seconds: String(Math.floor(ms / 1000)),
  nanos: (ms % 1000) * 1e6,
});
