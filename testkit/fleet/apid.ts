// apid for each simulated node: mTLS on <address>:50000, the caller's roles from its client
// certificate, the per-method role table, and routing by the `node` / `nodes` headers.
import { X509Certificate } from "node:crypto";
import type { ServiceDefinition } from "@grpc/grpc-js";
import * as grpc from "@grpc/grpc-js";
import type { ServiceName } from "../../src/talos/proto.ts";
import {
  type CallContext,
  type FleetView,
  type Message,
  RpcError,
  type ServiceImplementation,
} from "./handlers.ts";
import type { SimNode } from "./node.ts";
import { mayCall } from "./rbac.ts";
import { compareVersions } from "./versions.ts";

export interface ApidTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A gRPC service apid serves: the machined service it stands for, its rpcs, and their handlers. */
export interface ServedService {
  name: ServiceName;
  definition: ServiceDefinition;
  implementation: ServiceImplementation;
}

/** Services that exist only from Talos v1.13 on. */
const sinceV113 = new Set<ServiceName>(["lifecycle", "image"]);

/**
 * One provider that serves both the CA and the identity: grpc-js' factory passes its two provider
 * arguments to the constructor in swapped order, and a single provider is right either way.
 * Updates are delivered asynchronously, as a file watcher's are: grpc-js registers its own
 * watcher only after adding the provider's listeners, and a synchronous update would be lost.
 */
function staticProvider(ca: Buffer, identity: { certificate: Buffer; privateKey: Buffer }) {
  return {
    addCaCertificateListener: (listener: (u: { caCertificate: Buffer }) => void) =>
      queueMicrotask(() => listener({ caCertificate: ca })),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener: (u: { certificate: Buffer; privateKey: Buffer }) => void) =>
      queueMicrotask(() => listener(identity)),
    removeIdentityCertificateListener: () => {},
  };
}

function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof RpcError) return { code: error.code, details: error.message };
  return { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

/** What a call reads, for a trace: a COSI resource type, or a file's path. */
const subjectOf = (request: Message): { subject?: string } => {
  const { type, path } = request as { type?: unknown; path?: unknown };
  const subject =
    typeof type === "string" && type ? type : typeof path === "string" && path ? path : undefined;
  return subject ? { subject } : {};
};

/** What the client sees when the machine serving its call, or the endpoint it passes through, goes away. */
const lost = (target: SimNode) =>
  new RpcError(grpc.status.UNAVAILABLE, `connection to ${target.address} lost: the machine is rebooting`);

export class Apid {
  private readonly server = new grpc.Server();
  private readonly ca: X509Certificate;
  private readonly aborts = new Map<SimNode, Set<() => void>>();
  private readonly endpoint: SimNode;
  private readonly fleet: FleetView & { byAddress(address: string): SimNode | undefined };
  private readonly tls: ApidTls;

  constructor(
    endpoint: SimNode,
    fleet: FleetView & { byAddress(address: string): SimNode | undefined },
    tls: ApidTls,
    services: ServedService[],
  ) {
    this.endpoint = endpoint;
    this.fleet = fleet;
    this.tls = tls;
    this.ca = new X509Certificate(tls.caPem);
    for (const { name, definition, implementation } of services) {
      this.server.addService(definition, this.handlers(name, definition, implementation));
    }
  }

  private binding: { address: string; credentials: grpc.ServerCredentials } | undefined;

  /**
   * Serves on <address>:port. While the machine is down its listener is closed, so clients see
   * refused connections (and fail over to another endpoint) exactly as with a rebooting node.
   */
  async start(port: number): Promise<void> {
    const provider = staticProvider(Buffer.from(this.tls.caPem), {
      certificate: Buffer.from(this.tls.certPem),
      privateKey: Buffer.from(this.tls.keyPem),
    });
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(
      provider,
      provider,
      // Verified per call below, so that a missing or foreign certificate gets a gRPC status.
      false,
    );
    this.binding = { address: `${this.endpoint.address}:${port}`, credentials };
    await this.bind();
    this.endpoint.listen({
      down: () => {
        if (!this.binding) return;
        this.server.drain(this.binding.address, 0);
        this.server.unbind(this.binding.address);
      },
      up: () => {
        this.bind().catch((error: unknown) => {
          console.error(`apid ${this.endpoint.hostname}: cannot listen again: ${String(error)}`);
        });
      },
    });
  }

  private async bind(): Promise<void> {
    const binding = this.binding;
    if (!binding) return;
    // The old listener may take a moment to release the address after a simulated reboot.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) =>
          this.server.bindAsync(binding.address, binding.credentials, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
        return;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  stop(): void {
    for (const set of this.aborts.values()) for (const abort of set) abort();
    this.server.forceShutdown();
  }

  /** Ends every call that is served by, or passes through, `node`. */
  abortCalls(node: SimNode): void {
    for (const abort of [...(this.aborts.get(node) ?? [])]) abort();
  }

  /** The caller's roles (Subject Organization) and name (Common Name) from its verified certificate. */
  private identify(
    call: grpc.ServerUnaryCall<Message, Message> | grpc.ServerWritableStream<Message, Message>,
  ): { roles: string[]; caller: string } {
    const peer = call.getAuthContext()?.sslPeerCertificate;
    if (!peer?.raw) throw new RpcError(grpc.status.UNAUTHENTICATED, "no client certificate presented");
    const cert = new X509Certificate(peer.raw);
    const now = Date.now();
    if (!cert.verify(this.ca.publicKey) || !cert.checkIssued(this.ca)) {
      throw new RpcError(grpc.status.UNAUTHENTICATED, "client certificate is not signed by the Talos OS CA");
    }
    if (now < new Date(cert.validFrom).getTime() || now > new Date(cert.validTo).getTime()) {
      throw new RpcError(grpc.status.UNAUTHENTICATED, "client certificate has expired or is not yet valid");
    }
    const lines = cert.subject.split("\n");
    return {
      roles: lines.filter((line) => line.startsWith("O=")).map((line) => line.slice(2)),
      caller: lines.find((line) => line.startsWith("CN="))?.slice(3) ?? "",
    };
  }

  /** The nodes a call goes to, from the `node` and `nodes` headers (none: the endpoint itself). */
  private targets(metadata: grpc.Metadata): { nodes: SimNode[]; fanOut: boolean; names: string[] } {
    const node = metadata.get("node").map(String);
    const nodes = metadata
      .get("nodes")
      .flatMap((v) => String(v).split(","))
      .map((v) => v.trim())
      .filter(Boolean);
    const names = node.length > 0 ? node.slice(0, 1) : nodes;
    if (names.length === 0) return { nodes: [this.endpoint], fanOut: false, names: [this.endpoint.address] };
    const resolved = names.map((name) => {
      const target = this.fleet.byAddress(name);
      if (!target)
        throw new RpcError(
          grpc.status.UNAVAILABLE,
          `connection error: dial tcp ${name}:50000: no route to host`,
        );
      return target;
    });
    return { nodes: resolved, fanOut: node.length === 0, names };
  }

  private check(service: ServiceName, method: string, roles: string[], target: SimNode): void {
    if (!this.endpoint.up) throw new RpcError(grpc.status.UNAVAILABLE, "connection refused");
    if (!mayCall(method, roles)) {
      throw new RpcError(
        grpc.status.PERMISSION_DENIED,
        `not authorized: ${method} needs another role than [${roles.join(", ")}]`,
      );
    }
    if (!target.up) {
      throw new RpcError(
        grpc.status.UNAVAILABLE,
        `connection error: dial tcp ${target.address}:50000: connect: connection refused`,
      );
    }
    if (sinceV113.has(service) && compareVersions(target.version, "v1.13.0-alpha.0") < 0) {
      throw new RpcError(grpc.status.UNIMPLEMENTED, `unknown service ${method.split("/")[1]}`);
    }
  }

  /**
   * Follows a call served by `target` through the endpoint: it ends early when either machine goes
   * away (aborted) or the client cancels, and then the handler's listeners are told, as a request
   * context is cancelled in Talos. `ended` resolves then; `release` stops following once served.
   */
  private follow(
    call: grpc.ServerUnaryCall<Message, Message> | grpc.ServerWritableStream<Message, Message>,
    target: SimNode,
    roles: string[],
  ): {
    context: CallContext;
    state: { aborted: boolean; cancelled: boolean };
    ended: Promise<void>;
    release(): void;
  } {
    const listeners = new Set<() => void>();
    const state = { aborted: false, cancelled: false };
    let ended!: () => void;
    const endedPromise = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const end = () => {
      for (const listener of listeners) listener();
      listeners.clear();
      ended();
    };
    const abort = () => {
      state.aborted = true;
      end();
    };
    const nodes = [...new Set([this.endpoint, target])];
    for (const node of nodes) {
      const set = this.aborts.get(node) ?? new Set<() => void>();
      set.add(abort);
      this.aborts.set(node, set);
    }
    const cancel = () => {
      state.cancelled = true;
      end();
    };
    call.on("cancelled", cancel);
    const context = {
      node: target,
      roles,
      fleet: this.fleet,
      onAbort: (listener: () => void) => listeners.add(listener),
    };
    return {
      context,
      state,
      ended: endedPromise,
      release: () => {
        for (const node of nodes) this.aborts.get(node)?.delete(abort);
        call.off("cancelled", cancel);
      },
    };
  }

  /** Serves one unary call on `target`; a call whose machine goes away fails at once, as a dropped connection does. */
  private async serveOne(
    call: grpc.ServerUnaryCall<Message, Message>,
    target: SimNode,
    roles: string[],
    handler: (ctx: CallContext, request: Message) => Message | Promise<Message>,
  ): Promise<Message> {
    const followed = this.follow(call, target, roles);
    try {
      const answer = target.faults.hung
        ? new Promise<never>(() => undefined)
        : handler(followed.context, call.request);
      const message = await Promise.race([answer, followed.ended]);
      if (message === undefined) throw lost(target);
      return message;
    } finally {
      followed.release();
    }
  }

  private handlers(
    service: ServiceName,
    definition: ServiceDefinition,
    implementation: ServiceImplementation,
  ): grpc.UntypedServiceImplementation {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const path = method.path;
      const envelope = implementation.envelope?.[name];
      const unary = implementation.unary?.[name];
      const stream = implementation.stream?.[name];
      if (envelope || unary) {
        handlers[name] = (
          call: grpc.ServerUnaryCall<Message, Message>,
          callback: grpc.sendUnaryData<Message>,
        ) => {
          this.serveUnary(service, path, call, envelope ?? unary, Boolean(envelope)).then(
            (response) => callback(null, response),
            (error) => callback(toServiceError(error)),
          );
        };
      } else if (stream) {
        handlers[name] = (call: grpc.ServerWritableStream<Message, Message>) => {
          this.serveStream(service, path, call, stream).then(
            () => call.end(),
            (error) => call.emit("error", toServiceError(error)),
          );
        };
      } else {
        handlers[name] = (_call: unknown, callback?: grpc.sendUnaryData<Message>) => {
          const error = { code: grpc.status.UNIMPLEMENTED, details: `${path} is not simulated` };
          if (callback) callback(error);
        };
      }
    }
    return handlers;
  }

  private async serveUnary(
    service: ServiceName,
    path: string,
    call: grpc.ServerUnaryCall<Message, Message>,
    handler: ((ctx: CallContext, request: Message) => Message | Promise<Message>) | undefined,
    envelope: boolean,
  ): Promise<Message> {
    if (!handler) throw new RpcError(grpc.status.UNIMPLEMENTED, path);
    const { roles, caller } = this.identify(call);
    const { nodes, fanOut, names } = this.targets(call.metadata);
    if (!fanOut) {
      const target = nodes[0] as SimNode;
      this.check(service, path, roles, target);
      target.calls.push({ method: path, at: Date.now(), caller, ...subjectOf(call.request) });
      const message = await this.serveOne(call, target, roles, handler);
      return envelope ? { messages: [message] } : message;
    }
    if (!envelope || service !== "machine") {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `one-to-many proxying is not supported for ${path}`);
    }
    // apid's one-to-many proxy: per-node failures become messages with metadata.error. Each node's
    // part follows the call's cancellation, so the call has one listener per node.
    call.setMaxListeners(nodes.length + 10);
    const messages = await Promise.all(
      nodes.map(async (target, i) => {
        const hostname = names[i] ?? target.address;
        try {
          this.check(service, path, roles, target);
          target.calls.push({ method: path, at: Date.now(), caller, ...subjectOf(call.request) });
          const message = await this.serveOne(call, target, roles, handler);
          return { ...message, metadata: { hostname } };
        } catch (error) {
          const { code, details } = toServiceError(error);
          return { metadata: { hostname, error: details, status: { code, message: details } } };
        }
      }),
    );
    return { messages };
  }

  private async serveStream(
    service: ServiceName,
    path: string,
    call: grpc.ServerWritableStream<Message, Message>,
    handler: (ctx: CallContext, request: Message, write: (m: Message) => void) => Promise<void>,
  ): Promise<void> {
    const { roles, caller } = this.identify(call);
    const { nodes: targets, fanOut } = this.targets(call.metadata);
    if (fanOut && targets.length > 1) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `one-to-many streaming is not simulated for ${path}`);
    }
    const target = targets[0] as SimNode;
    this.check(service, path, roles, target);
    target.calls.push({ method: path, at: Date.now(), caller, ...subjectOf(call.request) });
    const followed = this.follow(call, target, roles);
    try {
      if (target.faults.hung) await followed.ended;
      else
        await handler(followed.context, call.request, (message) => {
          if (!followed.state.cancelled && !followed.state.aborted) call.write(message);
        });
    } catch (error) {
      // What the handler saw of its ended call is not what the client sees of a lost connection.
      if (!followed.state.aborted) throw error;
    } finally {
      followed.release();
    }
    if (followed.state.aborted && !followed.state.cancelled) throw lost(target);
  }
}
