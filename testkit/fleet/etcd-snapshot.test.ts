// MachineService.EtcdSnapshot of the fleet simulator: control planes stream a live snapshot of the
// run's real etcd (the integration control plane's), which the real talosctl saves and reads back
// with etcd's own library; workers, readers and the two snapshot faults are refused or cut short as
// on a Talos machine.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { services } from "../../src/talos/proto.ts";
import { issueCertificate } from "../control-plane/pki.ts";
import { scratchDir, sharedEtcdUrl } from "../control-plane/shared-control-plane.ts";
import { tool } from "../control-plane/tools.ts";
import { snapshotChecksumBytes } from "./etcd-snapshot.ts";
import { Fleet } from "./fleet.ts";

const run = promisify(execFile);
const snapshotInfo = /snapshot info: hash ([0-9a-f]{8}), revision (\d+), total keys (\d+), total size (\d+)/;

interface SnapshotClient {
  EtcdSnapshot(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<{ bytes: Buffer }>;
  close(): void;
}

describe("etcd snapshot from the fleet simulator, seen by the real talosctl", () => {
  let fleet: Fleet;
  let dir: string;
  const talosctl = tool("talosctl", "talosctl");
  const snapshot = (talosconfig: string, node: string, file: string) =>
    run(talosctl, ["--talosconfig", talosconfig, "-n", node, "etcd", "snapshot", join(dir, file)], {
      timeout: 60_000,
    });
  const cp = () => fleet.node("cp-1");

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.12.4",
      etcdUrl: sharedEtcdUrl(),
    });
    dir = scratchDir("etcd-snapshot");
  });

  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("talosctl -n <control plane> etcd snapshot: the live database with its checksum, read back by etcd's library", async () => {
    const { stdout } = await snapshot(fleet.talosconfig.admin, cp().address, "admin.db");
    const info = snapshotInfo.exec(stdout);
    expect(info).not.toBeNull();
    const [, , revision, keys, size] = info ?? [];
    expect(Number(revision)).toBeGreaterThan(0);
    expect(Number(keys)).toBeGreaterThan(0);
    const file = readFileSync(join(dir, "admin.db"));
    expect(stdout).toContain(`(${file.length} bytes)`);
    expect(Number(size)).toBe(file.length - snapshotChecksumBytes);
    expect(file.length % 512).toBe(snapshotChecksumBytes);
    const body = file.subarray(0, file.length - snapshotChecksumBytes);
    expect(createHash("sha256").update(body).digest()).toEqual(file.subarray(-snapshotChecksumBytes));
    // etcd's bbolt database starts with its meta page: magic 0xED0CDAED after the 16-byte page header (little endian).
    expect(body.readUInt32LE(16)).toBe(0xed0cdaed);
    expect(cp().calls.map((c) => c.method)).toContain("/machine.MachineService/EtcdSnapshot");
  });

  it("streams common.Data chunks of 1024 bytes, as machined does", async () => {
    const pair = await issueCertificate(fleet.ca, {
      commonName: "chunks",
      organizations: ["os:admin"],
      usage: "client",
    });
    const client = new services.machine(
      `${cp().address}:50000`,
      grpc.credentials.createSsl(
        Buffer.from(fleet.ca.certPem),
        Buffer.from(pair.keyPem),
        Buffer.from(pair.certPem),
      ),
    ) as unknown as SnapshotClient;
    try {
      const chunks = await new Promise<Buffer[]>((resolve, reject) => {
        const received: Buffer[] = [];
        const call = client.EtcdSnapshot({}, new grpc.Metadata());
        call.on("data", (data: { bytes: Buffer }) => received.push(Buffer.from(data.bytes)));
        call.on("error", reject);
        call.on("end", () => resolve(received));
      });
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.slice(0, -1).every((c) => c.length === 1024)).toBe(true);
      // The database is whole pages (4096 bytes), so the last chunk is the checksum alone.
      expect(chunks.at(-1)?.length).toBe(snapshotChecksumBytes);
    } finally {
      client.close();
    }
  });

  it("a worker refuses it: etcd runs on control planes only", async () => {
    await expect(
      snapshot(fleet.talosconfig.admin, fleet.node("worker-1").address, "worker.db"),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/Unimplemented.*etcd snapshot is only available on control plane nodes/),
    });
    expect(existsSync(join(dir, "worker.db"))).toBe(false);
  });

  it("os:reader is refused (PermissionDenied); os:etcd:backup and os:operator may take one", async () => {
    await expect(snapshot(fleet.talosconfig.reader, cp().address, "reader.db")).rejects.toMatchObject({
      stderr: expect.stringContaining("PermissionDenied"),
    });
    expect(existsSync(join(dir, "reader.db"))).toBe(false);
    const backup = await fleet.talosconfigFor("etcd-backup", ["os:etcd:backup"]);
    expect((await snapshot(backup, cp().address, "backup.db")).stdout).toMatch(snapshotInfo);
    expect((await snapshot(fleet.talosconfig.operator, cp().address, "operator.db")).stdout).toMatch(
      snapshotInfo,
    );
  });

  it("etcdSnapshotTruncate: the stream ends OK but short, and talosctl finds no checksum", async () => {
    fleet.inject("cp-1", { etcdSnapshotTruncate: 4096 });
    try {
      await expect(snapshot(fleet.talosconfig.admin, cp().address, "short.db")).rejects.toMatchObject({
        stderr: expect.stringContaining("sha256 checksum not found (size 4096)"),
      });
      expect(existsSync(join(dir, "short.db"))).toBe(false);
    } finally {
      fleet.inject("cp-1", { etcdSnapshotTruncate: undefined });
    }
  });

  it("etcdSnapshotError: the call fails with Internal, failed reading etcd snapshot", async () => {
    fleet.inject("cp-1", { etcdSnapshotError: "etcdserver: no leader" });
    try {
      await expect(snapshot(fleet.talosconfig.admin, cp().address, "failed.db")).rejects.toMatchObject({
        stderr: expect.stringMatching(
          /code = Internal desc = failed reading etcd snapshot: etcdserver: no leader/,
        ),
      });
      expect(existsSync(join(dir, "failed.db"))).toBe(false);
    } finally {
      fleet.inject("cp-1", { etcdSnapshotError: undefined });
    }
  });

  it("a fleet without an etcd says so instead of inventing a snapshot", async () => {
    const bare = await Fleet.start({ controlPlanes: 1, workers: 0, talosVersion: "v1.12.4" });
    try {
      await expect(
        snapshot(bare.talosconfig.admin, bare.node("cp-1").address, "bare.db"),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/FailedPrecondition.*the simulator has no etcd to snapshot/),
      });
    } finally {
      await bare.stop();
    }
  });
});
