// cosi.resource.State (Get, List, Watch) over a simulated node's facts: the resources an upgrade
// operator reads. Specs go out both as proto bytes and as YAML, as the COSI runtime sends them.
import { status } from "@grpc/grpc-js";
import { encodeMessage } from "../../src/talos/proto.ts";
import {
  type CallContext,
  type Message,
  RpcError,
  type ServiceImplementation,
  timestamp,
} from "./handlers.ts";
import type { SimNode } from "./node.ts";

interface ResourceType {
  namespace: string;
  /** Sensitive types need os:admin even to read. */
  sensitive?: boolean;
  protoType: string;
  /** id → spec (camelCase object for proto, plain object for YAML). */
  specs(ctx: CallContext): Record<string, { proto: Record<string, unknown>; yaml: string }>;
}

const stageNames: Record<string, string> = {
  BOOTING: "MACHINE_STAGE_BOOTING",
  RUNNING: "MACHINE_STAGE_RUNNING",
  REBOOTING: "MACHINE_STAGE_REBOOTING",
  UPGRADING: "MACHINE_STAGE_UPGRADING",
  SHUTTING_DOWN: "MACHINE_STAGE_SHUTTING_DOWN",
};

const yaml = (lines: string[]) => `${lines.join("\n")}\n`;

const types: Record<string, ResourceType> = {
  "MachineStatuses.runtime.talos.dev": {
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.MachineStatusSpec",
    specs: ({ node }) => ({
      machine: {
        proto: { stage: stageNames[node.stage], status: { ready: node.ready, unmetConditions: [] } },
        yaml: yaml([`stage: ${node.stage.toLowerCase()}`, "status:", `    ready: ${node.ready}`]),
      },
    }),
  },
  "Versions.runtime.talos.dev": {
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.VersionSpec",
    specs: ({ node }) => ({
      version: {
        proto: { version: node.version, name: "Talos" },
        yaml: yaml([`version: ${node.version}`, "name: Talos"]),
      },
    }),
  },
  "Nodenames.kubernetes.talos.dev": {
    namespace: "k8s",
    protoType: "talos.resource.definitions.k8s.NodenameSpec",
    specs: ({ node }) => ({
      nodename: {
        proto: { nodename: node.hostname, hostnameVersion: "1", skipNodeRegistration: false },
        yaml: yaml([`nodename: ${node.hostname}`, 'hostnameVersion: "1"', "skipNodeRegistration: false"]),
      },
    }),
  },
  "Services.v1alpha1.talos.dev": {
    namespace: "runtime",
    protoType: "talos.resource.definitions.v1alpha1.ServiceSpec",
    specs: ({ node }) =>
      Object.fromEntries(
        node.services().map((s) => [
          s.id,
          {
            proto: { running: s.running, healthy: s.healthy, unknown: false },
            yaml: yaml([`running: ${s.running}`, `healthy: ${s.healthy}`, "unknown: false"]),
          },
        ]),
      ),
  },
  "ExtensionStatuses.runtime.talos.dev": {
    namespace: "runtime",
    protoType: "talos.resource.definitions.extensions.Layer",
    specs: ({ node }) =>
      Object.fromEntries(
        node.identity.extensions.map((e, i) => [
          String(i),
          {
            proto: { image: e.image, metadata: { name: e.name, version: e.version } },
            yaml: yaml([
              `image: ${e.image}`,
              "metadata:",
              `    name: ${e.name}`,
              `    version: ${e.version}`,
            ]),
          },
        ]),
      ),
  },
  "MachineConfigs.config.talos.dev": {
    namespace: "config",
    sensitive: true,
    protoType: "resource.config.MachineConfigSpec",
    specs: ({ node, fleet }) => {
      const config = fleet.machineConfig(node);
      return { v1alpha1: { proto: { yamlMarshalled: Buffer.from(config) }, yaml: config } };
    },
  },
};

/** Resource versions bump when a spec's content changes, as COSI versions do. */
const versions = new WeakMap<SimNode, Map<string, { yaml: string; version: number }>>();

function resource(ctx: CallContext, typeName: string, type: ResourceType, id: string): Message {
  const spec = type.specs(ctx)[id];
  if (!spec)
    throw new RpcError(status.NOT_FOUND, `resource ${typeName}(${type.namespace}/${id}) doesn't exist`);
  const perNode = versions.get(ctx.node) ?? new Map();
  versions.set(ctx.node, perNode);
  const key = `${typeName}/${id}`;
  const known = perNode.get(key);
  const version = !known ? 1 : known.yaml === spec.yaml ? known.version : known.version + 1;
  perNode.set(key, { yaml: spec.yaml, version });
  const now = timestamp(Date.now());
  return {
    metadata: {
      namespace: type.namespace,
      type: typeName,
      id,
      version: String(version),
      owner: "",
      phase: "running",
      created: now,
      updated: now,
      finalizers: [],
      labels: {},
      annotations: {},
    },
    spec: { protoSpec: encodeMessage(type.protoType, spec.proto), yamlSpec: spec.yaml },
  };
}

function lookup(ctx: CallContext, request: Message): [string, ResourceType] {
  const typeName = String(request.type ?? "");
  const type = types[typeName];
  if (!type || (request.namespace && request.namespace !== type.namespace)) {
    throw new RpcError(
      status.NOT_FOUND,
      `resource type ${typeName} in namespace ${String(request.namespace)} is not registered`,
    );
  }
  if (type.sensitive && !ctx.roles.includes("os:admin")) {
    throw new RpcError(status.PERMISSION_DENIED, `not authorized to read sensitive resource ${typeName}`);
  }
  return [typeName, type];
}

export const cosiState: ServiceImplementation = {
  unary: {
    Get: (ctx, request) => {
      const [typeName, type] = lookup(ctx, request);
      return { resource: resource(ctx, typeName, type, String(request.id ?? "")) };
    },
  },
  stream: {
    List: async (ctx, request, write) => {
      const [typeName, type] = lookup(ctx, request);
      for (const id of Object.keys(type.specs(ctx))) write({ resource: resource(ctx, typeName, type, id) });
    },
    Watch: async (ctx, request, write) => {
      const [typeName, type] = lookup(ctx, request);
      const only = request.id ? String(request.id) : undefined;
      const ids = () => Object.keys(type.specs(ctx)).filter((id) => only === undefined || id === only);
      const seen = new Map<string, string>();
      const send = (eventType: string) => {
        const events = ids().flatMap((id) => {
          const current = resource(ctx, typeName, type, id);
          const version = String((current.metadata as { version: string }).version);
          if (seen.get(id) === version) return [];
          const kind = seen.has(id) ? "UPDATED" : eventType;
          seen.set(id, version);
          return [{ resource: current, eventType: kind }];
        });
        if (events.length > 0) write({ event: events });
      };
      send("CREATED");
      const options = (request.options ?? {}) as { bootstrapContents?: boolean };
      if (Number(request.apiVersion ?? 0) >= 1 && options.bootstrapContents) {
        write({ event: [{ eventType: "BOOTSTRAPPED" }] });
      }
      // Re-evaluated on every machine event: stage, readiness and versions change only with one.
      await new Promise<void>((resolve) => {
        const unsubscribe = ctx.node.events.subscribe(() => send("CREATED"));
        ctx.onAbort(() => {
          unsubscribe();
          resolve();
        });
      });
    },
  },
};
