// A live snapshot of a real etcd through its Maintenance API (proto/etcd/rpc.proto): what machined
// reads from the local etcd member and streams back for MachineService.EtcdSnapshot. The simulator
// takes it from the test control plane's etcd (ControlPlane.etcdUrl), so talosctl and etcdutl get a
// real database to check, not a made-up one.
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** The snapshot file ends with the SHA-256 of the database before it. */
export const snapshotChecksumBytes = 32;

const definition = loadSync("etcd/rpc.proto", {
  keepCase: false,
  longs: String,
  defaults: true,
  includeDirs: [join(import.meta.dirname, "proto")],
});
const Maintenance = (grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject)
  .Maintenance as grpc.ServiceClientConstructor;

interface SnapshotChunk {
  remainingBytes: string;
  blob: Buffer;
}

interface MaintenanceClient extends grpc.Client {
  Snapshot(request: object, options: grpc.CallOptions): grpc.ClientReadableStream<SnapshotChunk>;
}

/** Whether `file` ends with the SHA-256 of everything before its last 32 bytes, as etcd writes it. */
export function hasSnapshotChecksum(file: Buffer): boolean {
  if (file.length < snapshotChecksumBytes) return false;
  const body = file.subarray(0, file.length - snapshotChecksumBytes);
  const trailer = file.subarray(file.length - snapshotChecksumBytes);
  return createHash("sha256").update(body).digest().equals(trailer);
}

/**
 * Streams a snapshot from the etcd member at `url` (a plain-http client URL such as
 * `http://127.0.0.1:2379`) into memory: the bbolt database followed by its 32-byte SHA-256,
 * exactly the bytes etcd sends. Rejects with the gRPC error of a failed call, and with an Error
 * when the stream ends without the checksum.
 */
export async function takeEtcdSnapshot(url: string, timeoutMs = 30_000): Promise<Buffer> {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") {
    throw new Error(`etcd client URL ${url}: only plain http is supported (the test etcd has no TLS)`);
  }
  const client = new Maintenance(
    parsed.host,
    grpc.credentials.createInsecure(),
  ) as unknown as MaintenanceClient;
  try {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.Snapshot({}, { deadline: Date.now() + timeoutMs });
      call.on("data", (chunk: SnapshotChunk) => chunks.push(Buffer.from(chunk.blob)));
      call.on("error", reject);
      call.on("end", resolve);
    });
    const file = Buffer.concat(chunks);
    if (!hasSnapshotChecksum(file)) {
      throw new Error(
        `etcd at ${url} sent ${file.length} snapshot bytes without the SHA-256 of its database`,
      );
    }
    return file;
  } finally {
    client.close();
  }
}
