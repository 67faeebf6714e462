// The Talos and COSI protos (proto/): gRPC service definitions for clients and the simulator, and
// message codecs for what travels inside bytes fields (event payloads in Any, COSI proto specs).
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { GrpcObject, ServiceClientConstructor, ServiceDefinition } from "@grpc/grpc-js";
import { loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import protobuf from "protobufjs";

/** proto/ beside the package root, found from here whether running from src/ or dist/src/. */
function findProtoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "proto", "machine", "machine.proto"))) return join(dir, "proto");
  }
  throw new Error(`proto/ not found above ${from}`);
}

const protoRoot = findProtoRoot(import.meta.dirname);

const files = [
  "machine/machine.proto",
  "machine/lifecycle.proto",
  "machine/image.proto",
  "cosi/v1alpha1/state.proto",
  "cosi/v1alpha1/meta.proto",
  "resource/config/config.proto",
  "resource/definitions/runtime/runtime.proto",
  "resource/definitions/extensions/extensions.proto",
  "resource/definitions/etcd/etcd.proto",
  "resource/definitions/v1alpha1/v1alpha1.proto",
  "resource/definitions/k8s/k8s.proto",
  "resource/definitions/cluster/cluster.proto",
];

/** Field names in camelCase, 64-bit integers and enums as strings, absent fields as defaults. */
const loaderOptions: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const servicePaths = {
  machine: "machine.MachineService",
  lifecycle: "machine.LifecycleService",
  image: "machine.ImageService",
  state: "cosi.resource.State",
} as const;

export type ServiceName = keyof typeof servicePaths;

/** gRPC client constructors (with their service definitions) from the protos under `root`. */
export function loadServices(root: string): Record<ServiceName, ServiceClientConstructor> {
  const grpcObject = loadPackageDefinition(loadSync(files, { ...loaderOptions, includeDirs: [root] }));
  const lookup = (path: string) => {
    let node: unknown = grpcObject;
    for (const part of path.split(".")) node = (node as GrpcObject)[part];
    if (typeof node !== "function") throw new Error(`no gRPC service ${path} in ${root}`);
    return node as ServiceClientConstructor;
  };
  return {
    machine: lookup(servicePaths.machine),
    lifecycle: lookup(servicePaths.lifecycle),
    image: lookup(servicePaths.image),
    state: lookup(servicePaths.state),
  };
}

export const services = loadServices(protoRoot);

export function serviceDefinition(name: ServiceName): ServiceDefinition {
  return services[name].service;
}

const root = new protobuf.Root();
// Well-known google/protobuf types are built into protobufjs; everything else lives in proto/.
root.resolvePath = (_origin, target) =>
  isAbsolute(target) || target.startsWith("google/protobuf/") ? target : join(protoRoot, target);
root.loadSync(files.map((f) => join(protoRoot, f)));
root.resolveAll();

const conversion: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Encodes a message by its full name (e.g. `machine.SequenceEvent`) from a camelCase plain object. */
export function encodeMessage(fullName: string, value: Record<string, unknown>): Buffer {
  const type = root.lookupType(fullName);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

export function decodeMessage(fullName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = root.lookupType(fullName);
  return type.toObject(type.decode(bytes), conversion);
}

type StructValue = {
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, StructValue> };
  listValue?: { values?: StructValue[] };
  kind?: string;
};

/** A decoded google.protobuf.Struct as the plain JSON it stands for. */
export function structToJson(struct: { fields?: Record<string, StructValue> } | null | undefined): unknown {
  const value = (v: StructValue): unknown => {
    switch (v.kind) {
      case "numberValue":
        return v.numberValue;
      case "stringValue":
        return v.stringValue;
      case "boolValue":
        return v.boolValue;
      case "structValue":
        return structToJson(v.structValue);
      case "listValue":
        return (v.listValue?.values ?? []).map(value);
      default:
        return null;
    }
  };
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([k, v]) => [k, value(v)]));
}
