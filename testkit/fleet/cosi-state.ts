// cosi.resource.State (Get, List, Watch) over the resources in resources.ts, with Talos' access
// rules: unknown types are "not supported", sensitive types need os:admin. The meta namespace
// holds the ResourceDefinitions that talosctl resolves aliases with.
import { status } from "@grpc/grpc-js";
import {
  type CallContext,
  type Message,
  RpcError,
  type ServiceImplementation,
  timestamp,
} from "./handlers.ts";
import { encodeSpec } from "./proto.ts";
import { type ResourceKind, resourceDefinition, resourceKinds } from "./resources.ts";

const definitions: ResourceKind = {
  type: "ResourceDefinitions.meta.cosi.dev",
  namespace: "meta",
  protoType: "cosi.resource.meta.ResourceDefinitionSpec",
  aliases: ["api-resources"],
  printColumns: [{ name: "Aliases", jsonPath: "{.aliases[:]}" }],
  sensitive: () => false,
  specs: (node) =>
    Object.fromEntries(
      [...resourceKinds, definitions]
        .filter((kind) => kind.exists?.(node) ?? true)
        .map((kind) => [kind.type.toLowerCase(), resourceDefinition(kind, node)]),
    ),
};

const kinds = new Map([...resourceKinds, definitions].map((kind) => [kind.type.toLowerCase(), kind]));

function toResource(ctx: CallContext, kind: ResourceKind, id: string): Message | undefined {
  const spec = kind.specs(ctx.node, ctx.fleet)[id];
  if (!spec) return undefined;
  const version = ctx.fleet.resourceVersion(ctx.node, `${kind.type}/${id}`, spec.yaml);
  const booted = ctx.node.bootStartedNs;
  const created = { seconds: String(booted / 1_000_000_000n), nanos: Number(booted % 1_000_000_000n) };
  return {
    metadata: {
      namespace: kind.namespace,
      type: kind.type,
      id,
      version: String(version),
      owner: "",
      phase: "running",
      created,
      updated: timestamp(Date.now()),
      finalizers: [],
      labels: {},
      annotations: {},
    },
    spec: { protoSpec: encodeSpec(kind.protoType, spec.proto), yamlSpec: spec.yaml },
  };
}

function lookup(ctx: CallContext, request: Message): ResourceKind {
  const typeName = String(request.type ?? "");
  const kind = kinds.get(typeName.toLowerCase());
  const namespace = String(request.namespace ?? "");
  if (
    !kind ||
    (kind.exists && !kind.exists(ctx.node)) ||
    (namespace !== "" && namespace !== kind.namespace)
  ) {
    throw new RpcError(status.PERMISSION_DENIED, `resource type "${typeName}" is not supported`);
  }
  if (kind.sensitive(ctx.node) && !ctx.roles.includes("os:admin")) {
    throw new RpcError(status.PERMISSION_DENIED, `not authorized: ${typeName} is sensitive`);
  }
  return kind;
}

export const cosiState: ServiceImplementation = {
  unary: {
    Get: (ctx, request) => {
      const kind = lookup(ctx, request);
      const id = String(request.id ?? "");
      const resource = toResource(ctx, kind, id);
      if (!resource)
        throw new RpcError(
          status.NOT_FOUND,
          `resource ${kind.type}(${kind.namespace}/${id}@undefined) doesn't exist`,
        );
      return { resource };
    },
  },
  stream: {
    List: async (ctx, request, write) => {
      const kind = lookup(ctx, request);
      for (const id of Object.keys(kind.specs(ctx.node, ctx.fleet))) {
        const resource = toResource(ctx, kind, id);
        if (resource) write({ resource });
      }
    },
    Watch: async (ctx, request, write) => {
      const kind = lookup(ctx, request);
      const only = request.id ? String(request.id) : undefined;
      const seen = new Map<string, { version: string; resource: Message }>();
      const send = () => {
        const current = new Map<string, Message>();
        for (const id of Object.keys(kind.specs(ctx.node, ctx.fleet))) {
          if (only !== undefined && id !== only) continue;
          const resource = toResource(ctx, kind, id);
          if (resource) current.set(id, resource);
        }
        const events: Message[] = [];
        for (const [id, resource] of current) {
          const version = String((resource.metadata as { version: string }).version);
          const before = seen.get(id);
          if (before?.version === version) continue;
          events.push({
            resource,
            ...(before ? { old: before.resource } : {}),
            eventType: before ? "UPDATED" : "CREATED",
          });
          seen.set(id, { version, resource });
        }
        for (const [id, before] of seen) {
          if (current.has(id)) continue;
          events.push({ resource: before.resource, eventType: "DESTROYED" });
          seen.delete(id);
        }
        if (events.length > 0) write({ event: events });
      };
      // The server's first message is empty: clients take it as "the watch is established".
      write({ event: [] });
      send();
      const options = (request.options ?? {}) as { bootstrapContents?: boolean };
      if (Number(request.apiVersion ?? 0) >= 1 && options.bootstrapContents) {
        write({ event: [{ eventType: "BOOTSTRAPPED" }] });
      }
      await new Promise<void>((resolve) => {
        const unsubscribe = ctx.node.watchState(send);
        ctx.onAbort(() => {
          unsubscribe();
          resolve();
        });
      });
    },
  },
};
