// The harness pieces of the etcd snapshot tests, checked against the real programs before any
// operator code relies on them: the S3 server (s3.ts: versitygw over a folder) and etcd's own
// etcdutl (etcdutl.ts) on a snapshot that a real etcd streamed.
// That an object PUT through S3 lands at objectPath(key) is for the S3 client's test
// (test/integration/s3-client.test.ts): this harness has no S3 signer to put one with.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshotRestore, snapshotStatus } from "./etcdutl.ts";
import { freePorts, logTail, type ManagedProcess, startProcess } from "./process.ts";
import { type S3Server, startS3 } from "./s3.ts";
import { tool } from "./tools.ts";
import { waitUntil } from "./wait.ts";

/** The S3 error code of an XML error body, or "" when there is none. */
const errorCode = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? "";

describe("S3 server (versitygw, posix backend)", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it("listens on loopback with the bucket created and every unsigned request refused", async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.region).toBe("us-east-1");
    expect(s3.bucket).toBe("etcd-backups");
    expect(s3.accessKeyId).not.toEqual(s3.secretAccessKey);

    // An unsigned request to the bucket is refused by authentication; to a bucket that does not
    // exist it gets NoSuchBucket instead: so the bucket is there and the server checks signatures.
    const bucket = await fetch(`${s3.endpoint}/${s3.bucket}`);
    expect([bucket.status, errorCode(await bucket.text())]).toEqual([403, "AccessDenied"]);
    const object = await fetch(`${s3.endpoint}/${s3.bucket}/some/key`);
    expect([object.status, errorCode(await object.text())]).toEqual([403, "AccessDenied"]);
    const missing = await fetch(`${s3.endpoint}/no-such-bucket`);
    expect([missing.status, errorCode(await missing.text())]).toEqual([404, "NoSuchBucket"]);

    // versitygw's admin API (its own signer) lists it with the root account as owner.
    const listing = await s3.admin("list-buckets");
    expect(listing).toMatch(new RegExp(`^${s3.bucket}\\s+${s3.accessKeyId}$`, "m"));
    expect(statSync(join(s3.dataDir, s3.bucket)).isDirectory()).toBe(true);
  });

  it("keeps each object as the file <data>/<bucket>/<key>, where objectPath points", async () => {
    expect(s3.objectPath("snapshots/cp-1/2026-01-01.db")).toBe(
      join(s3.dataDir, s3.bucket, "snapshots", "cp-1", "2026-01-01.db"),
    );
    // The mapping, seen through the S3 API without a signer: a second bucket that anyone may read,
    // and a file written into its folder is served as the object of that key.
    const open = "harness-public-read";
    await s3.admin(
      "create-bucket",
      `--owner=${s3.accessKeyId}`,
      `--bucket=${open}`,
      "--acl=public-read",
      "--object-ownership=BucketOwnerPreferred",
    );
    const bytes = Buffer.from(`etcd snapshot stand-in ${Date.now()}\n`);
    mkdirSync(join(s3.dataDir, open, "snapshots", "cp-1"), { recursive: true });
    writeFileSync(join(s3.dataDir, open, "snapshots", "cp-1", "2026-01-01.db"), bytes);
    const got = await fetch(`${s3.endpoint}/${open}/snapshots/cp-1/2026-01-01.db`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
    const list = await (await fetch(`${s3.endpoint}/${open}?list-type=2`)).text();
    expect(list).toContain("<Key>snapshots/cp-1/2026-01-01.db</Key>");
    expect(list).toContain(`<Size>${bytes.length}</Size>`);
  });
});

describe("stopping the S3 server", () => {
  it("ends the process and deletes its folder", async () => {
    const s3 = await startS3();
    const dataDir = s3.dataDir;
    expect(existsSync(dataDir)).toBe(true);
    await s3.stop();
    expect(s3.process.running()).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    await expect(fetch(`${s3.endpoint}/health`)).rejects.toThrow();
  });
});

/**
 * A real etcd (the kube group's) on free ports with `keys` put through its gRPC gateway, and the
 * snapshot its Maintenance.Snapshot stream sends, as one file: the database, then its SHA-256.
 */
async function etcdSnapshot(dir: string, keys: Record<string, string>): Promise<string> {
  const [clientPort, peerPort] = await freePorts(2);
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dir, "etcd.log");
  const etcd: ManagedProcess = startProcess(
    "etcd",
    tool("kube", "etcd"),
    [
      "--name=snapshot-source",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=snapshot-source=${peer}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ],
    { logFile },
  );
  try {
    await waitUntil("etcd healthy", async () => (await fetch(`${client}/health`)).ok, {
      timeoutMs: 30_000,
      alive: etcd.running,
      describe: () => logTail(logFile),
    });
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    for (const [key, value] of Object.entries(keys)) {
      const put = await fetch(`${client}/v3/kv/put`, {
        method: "POST",
        body: JSON.stringify({ key: b64(key), value: b64(value) }),
      });
      expect(put.status).toBe(200);
    }
    // The gateway streams the server-side stream as one JSON object a line.
    const stream = await fetch(`${client}/v3/maintenance/snapshot`, { method: "POST", body: "{}" });
    expect(stream.status).toBe(200);
    const chunks = (await stream.text())
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const message = JSON.parse(line) as { result?: { blob?: string }; error?: unknown };
        if (!message.result) throw new Error(`snapshot stream error: ${line}`);
        return Buffer.from(message.result.blob ?? "", "base64");
      });
    const file = join(dir, "snapshot.db");
    writeFileSync(file, Buffer.concat(chunks));
    return file;
  } finally {
    await etcd.stop(5_000);
  }
}

describe("etcdutl on a snapshot streamed by a real etcd", () => {
  let dir: string;
  let snapshot: string;
  const keys = { "/registry/a": "one", "/registry/b": "two", "/registry/c": "three" };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tuo-etcdutl-"));
    snapshot = await etcdSnapshot(dir, keys);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ends in the SHA-256 of the database before it, as the stream sends it", () => {
    const bytes = readFileSync(snapshot);
    const db = bytes.subarray(0, bytes.length - 32);
    expect(bytes.subarray(bytes.length - 32)).toEqual(createHash("sha256").update(db).digest());
  });

  it("reads its status: the keys put, the revision they reached, the database's size", () => {
    const status = snapshotStatus(snapshot);
    expect(status).toEqual({
      hash: expect.any(Number),
      revision: Object.keys(keys).length + 1,
      totalKey: Object.keys(keys).length,
      totalSize: statSync(snapshot).size - 32,
      version: expect.stringMatching(/^3\.6\.\d+$/),
    });
  });

  it("restores it into a new data folder holding the same revision", () => {
    const restored = join(dir, "restored");
    snapshotRestore(snapshot, restored);
    const db = join(restored, "member", "snap", "db");
    expect(snapshotStatus(db)).toEqual(
      expect.objectContaining({
        revision: snapshotStatus(snapshot).revision,
        totalKey: Object.keys(keys).length,
      }),
    );
  });

  it("refuses to restore it with one bit of the SHA-256 trailer flipped (status does not check it)", () => {
    const bytes = readFileSync(snapshot);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const corrupt = join(dir, "corrupt.db");
    writeFileSync(corrupt, bytes);
    expect(() => snapshotRestore(corrupt, join(dir, "restored-corrupt"))).toThrow(/expected sha256/);
    expect(snapshotStatus(corrupt).revision).toBe(snapshotStatus(snapshot).revision);
  });
});
