// What the simulator serves beyond the operator's protos (proto/): the rpcs and resource specs that
// only talosctl reads (talosctl health, get cmdline), from testkit/fleet/proto, which imports proto/
// for the rest.
import { isAbsolute, join } from "node:path";
import type { GrpcObject, ServiceDefinition } from "@grpc/grpc-js";
import { loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { encodeMessage } from "../../src/talos/proto.ts";

const fleetProtoRoot = join(import.meta.dirname, "proto");
const protoRoot = join(import.meta.dirname, "..", "..", "proto");

/** machine.MachineService with only the rpcs proto/ leaves out (Memory). */
export function machineServiceExtras(): ServiceDefinition {
  const grpcObject = loadPackageDefinition(
    loadSync(["machine/memory.proto"], {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [fleetProtoRoot, protoRoot],
    }),
  );
  const machine = grpcObject.machine as GrpcObject;
  return (machine.MachineService as { service: ServiceDefinition }).service;
}

const specs = new protobuf.Root();
// Imports are relative to testkit/fleet/proto, as in Talos' api/ tree.
specs.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(fleetProtoRoot, target));
specs.loadSync(
  [
    "resource/definitions/block/block.proto",
    "resource/definitions/k8s/manifests-config.proto",
    "resource/definitions/runtime/cmdline.proto",
  ].map((f) => join(fleetProtoRoot, f)),
);
specs.resolveAll();

/** A resource spec by its message's full name, from the simulator's protos or else the operator's. */
export function encodeSpec(fullName: string, value: Record<string, unknown>): Buffer {
  const type = specs.lookup(fullName);
  if (!(type instanceof protobuf.Type)) return encodeMessage(fullName, value);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}
