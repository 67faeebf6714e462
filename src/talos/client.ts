// The Talos API client: mTLS to the talosconfig's endpoints (one channel each, failing over when
// one is unreachable), every per-node call routed with the `node` header, deadlines on every call.
import * as grpc from "@grpc/grpc-js";
import { type ServiceName, services } from "./proto.ts";
import type { Talosconfig } from "./talosconfig.ts";

/** A failed Talos call, classified: Unavailable is expected while a node reboots; the rest is not. */
export class TalosError extends Error {
  readonly code: grpc.status;
  readonly method: string;
  readonly node: string | undefined;

  constructor(code: grpc.status, method: string, node: string | undefined, details: string) {
    super(`${method}${node ? ` on ${node}` : ""}: ${grpc.status[code] ?? code}: ${details}`);
    this.code = code;
    this.method = method;
    this.node = node;
  }

  get unavailable(): boolean {
    return this.code === grpc.status.UNAVAILABLE || this.code === grpc.status.DEADLINE_EXCEEDED;
  }
}

type UnaryFn = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;
type StreamFn = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

interface StreamOptions {
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Held open until `signal` aborts it: no deadline. */
  open?: boolean;
}

export type CallObserver = (method: string, outcome: "ok" | "error", seconds: number) => void;

export class TalosClient {
  private readonly channels: { endpoint: string; clients: Map<ServiceName, grpc.Client> }[];
  private readonly deadlineMs: number;
  private readonly observe: CallObserver | undefined;
  private preferred = 0;
  /** Calls under way; a retired client closes when the last of them ends. */
  private inFlight = 0;
  private retired = false;
  private closed = false;

  constructor(config: Talosconfig, options: { deadlineMs?: number; observe?: CallObserver } = {}) {
    const credentials = grpc.credentials.createSsl(
      Buffer.from(config.ca),
      Buffer.from(config.key),
      Buffer.from(config.crt),
    );
    this.deadlineMs = options.deadlineMs ?? 15_000;
    this.observe = options.observe;
    this.channels = config.endpoints.map((endpoint) => {
      const target = /:\d+$/.test(endpoint) ? endpoint : `${endpoint}:50000`;
      const clients = new Map<ServiceName, grpc.Client>();
      for (const name of Object.keys(services) as ServiceName[]) {
        clients.set(name, new services[name](target, credentials, { "grpc.keepalive_time_ms": 30_000 }));
      }
      return { endpoint: target, clients };
    });
  }

  close(): void {
    this.closed = true;
    for (const channel of this.channels) for (const client of channel.clients.values()) client.close();
  }

  /**
   * Replaced by a client of a rotated talosconfig: closed once no call uses it (a stream or a slow
   * call under way goes on to its end), and refusing new calls from then on.
   */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.close();
  }

  /** Runs one call, counted as under way; refused on a closed client with the reason. */
  private async tracked<T>(method: string, node: string | undefined, call: () => Promise<T>): Promise<T> {
    if (this.closed)
      throw new TalosError(
        grpc.status.UNAVAILABLE,
        method,
        node,
        this.retired ? "client closed: its talosconfig was rotated" : "client closed",
      );
    this.inFlight++;
    try {
      return await call();
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0 && !this.closed) this.close();
    }
  }

  private metadata(node: string | undefined): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (node) metadata.set("node", node);
    return metadata;
  }

  /** Endpoints in the order to try: the last one that answered first. */
  private order(): number[] {
    return this.channels.map((_, i) => (i + this.preferred) % this.channels.length);
  }

  async unary<T>(
    service: ServiceName,
    method: string,
    request: object,
    node?: string,
    deadlineMs?: number,
  ): Promise<T> {
    return this.tracked(method, node, () => this.unaryCall<T>(service, method, request, node, deadlineMs));
  }

  private async unaryCall<T>(
    service: ServiceName,
    method: string,
    request: object,
    node: string | undefined,
    deadlineMs: number | undefined,
  ): Promise<T> {
    const started = performance.now();
    let last: TalosError | undefined;
    for (const index of this.order()) {
      const client = this.channels[index]?.clients.get(service) as unknown as Record<string, UnaryFn>;
      const fn = client[method];
      if (!fn) throw new Error(`${service} has no method ${method}`);
      try {
        const response = await new Promise<T>((resolve, reject) =>
          fn.call(
            client,
            request,
            this.metadata(node),
            { deadline: Date.now() + (deadlineMs ?? this.deadlineMs) },
            (error, value) =>
              error ? reject(new TalosError(error.code, method, node, error.details)) : resolve(value as T),
          ),
        );
        this.preferred = index;
        this.observe?.(`${service}.${method}`, "ok", (performance.now() - started) / 1000);
        return response;
      } catch (error) {
        last = error as TalosError;
        // Another endpoint may reach the node when this one is down; other errors are the answer.
        if (!last.unavailable) break;
      }
    }
    this.observe?.(`${service}.${method}`, "error", (performance.now() - started) / 1000);
    throw last ?? new TalosError(grpc.status.UNAVAILABLE, method, node, "no endpoint");
  }

  /**
   * A server stream, read to its end (or until `signal` aborts); messages go to `onMessage`. It is
   * cut at the client's deadline unless it says otherwise: `open` is a stream held until its signal
   * aborts it (a watch). A read that hangs must not hold up the pass that awaits it.
   */
  async stream<T>(
    service: ServiceName,
    method: string,
    request: object,
    node: string | undefined,
    onMessage: (message: T) => void,
    options: StreamOptions = {},
  ): Promise<void> {
    return this.tracked(method, node, () =>
      this.streamCall(service, method, request, node, onMessage, options),
    );
  }

  private async streamCall<T>(
    service: ServiceName,
    method: string,
    request: object,
    node: string | undefined,
    onMessage: (message: T) => void,
    options: StreamOptions,
  ): Promise<void> {
    const started = performance.now();
    let last: TalosError | undefined;
    for (const index of this.order()) {
      const client = this.channels[index]?.clients.get(service) as unknown as Record<string, StreamFn>;
      const fn = client[method];
      if (!fn) throw new Error(`${service} has no method ${method}`);
      let received = false;
      try {
        await new Promise<void>((resolve, reject) => {
          const call = fn.call(
            client,
            request,
            this.metadata(node),
            options.open ? {} : { deadline: Date.now() + (options.deadlineMs ?? this.deadlineMs) },
          );
          const abort = () => call.cancel();
          options.signal?.addEventListener("abort", abort, { once: true });
          call.on("data", (message: T) => {
            received = true;
            onMessage(message);
          });
          call.on("error", (error: grpc.ServiceError) => {
            options.signal?.removeEventListener("abort", abort);
            if (error.code === grpc.status.CANCELLED && options.signal?.aborted) resolve();
            else reject(new TalosError(error.code, method, node, error.details));
          });
          call.on("end", () => {
            options.signal?.removeEventListener("abort", abort);
            resolve();
          });
        });
        this.preferred = index;
        this.observe?.(`${service}.${method}`, "ok", (performance.now() - started) / 1000);
        return;
      } catch (error) {
        last = error as TalosError;
        if (!last.unavailable || received) break;
      }
    }
    this.observe?.(`${service}.${method}`, "error", (performance.now() - started) / 1000);
    throw last ?? new TalosError(grpc.status.UNAVAILABLE, method, node, "no endpoint");
  }
}
