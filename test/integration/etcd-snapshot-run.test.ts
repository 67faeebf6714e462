// One etcd snapshot run (src/backup/etcd-snapshot.ts) end to end: the snapshot streamed by the
// fleet simulator from the run's real etcd through the operator's TalosClient, stored in a real
// S3 server (versitygw), read back, and the plan's older snapshots pruned. What is stored is read
// from the server's disk and checked with etcd's own etcdutl, not with the operator's code; every
// failure (a cut stream, a Talos error, a wrong or missing key, an abort) stores nothing.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  type EtcdSnapshotAction,
  type SecretReader,
  takeEtcdSnapshot,
} from "../../src/backup/etcd-snapshot.ts";
import type { TalosClient } from "../../src/talos/client.ts";
import { snapshotRestore, snapshotStatus } from "../../testkit/control-plane/etcdutl.ts";
import { type S3Server, startS3 } from "../../testkit/control-plane/s3.ts";
import { scratchDir, sharedEtcdUrl } from "../../testkit/control-plane/shared-control-plane.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor } from "../harness/talos-client.ts";

const plan = "nightly";
const prefix = `talos-upgrade/${plan}/`;
const namespace = "talos-upgrade-system";

let fleet: Fleet;
let talos: TalosClient;
let s3: S3Server;
let scratch: string;
/** The staging folder given to each run: it must be empty again after every one. */
let tmpDir: string;

/**
 * Stands for the operator's Secret reader port (readSecretKey over the Kubernetes API in
 * src/manager.ts): Secret keys served from a Map, `<namespace>/<name>/<key>` → value, answering
 * as the real one does when a key is not there.
 */
const secrets = new Map<string, string>();
const readSecret: SecretReader = async ({ namespace: ns, name, key }) =>
  secrets.get(`${ns}/${name}/${key}`) ?? { error: `secret ${ns}/${name} key ${key}: the key is missing` };

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const cp = () => fleet.node("cp-1");

/** A snapshot action of cp-1 under `<prefix><stamp>-<node>.db`, reading the keys of Secret `secret`. */
function actionFor(
  stamp: string,
  overrides: Partial<EtcdSnapshotAction> = {},
  secret = { name: "s3-keys", namespace },
): EtcdSnapshotAction {
  const planPrefix = overrides.prefix ?? prefix;
  return {
    kind: "etcdSnapshot",
    plan,
    source: cp().hostname,
    address: cp().address,
    destination: {
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      prefix: "talos-upgrade/",
      forcePathStyle: true,
      credentialsSecretRef: {
        ...secret,
        accessKeyIdKey: "accessKeyId",
        secretAccessKeyKey: "secretAccessKey",
      },
    },
    key: `${planPrefix}${stamp}-${cp().hostname}.db`,
    prefix: planPrefix,
    retention: 5,
    timeoutSeconds: 30,
    ...overrides,
  };
}

const run = (action: EtcdSnapshotAction, signal = new AbortController().signal) =>
  takeEtcdSnapshot({ action, talosClient: talos, readSecret, tmpDir, signal });

/** Writes an object straight into the bucket's folder on the server's disk (no S3 call). */
function putOnDisk(key: string, text: string): void {
  const path = s3.objectPath(key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Every object key of the bucket, read from the server's disk. */
function keysOnDisk(): string[] {
  const root = join(s3.dataDir, s3.bucket);
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

beforeAll(async () => {
  // Both at once; whichever started is kept for afterAll to stop if the other failed.
  const [started, server] = await Promise.allSettled([
    Fleet.start({ controlPlanes: 1, workers: 1, talosVersion: "v1.12.4", etcdUrl: sharedEtcdUrl() }),
    startS3(),
  ]);
  if (started.status === "fulfilled") fleet = started.value;
  if (server.status === "fulfilled") s3 = server.value;
  if (started.status === "rejected") throw started.reason;
  if (server.status === "rejected") throw server.reason;
  talos = clientFor(fleet.talosconfig.admin);
  scratch = scratchDir("etcd-snapshot-run");
  tmpDir = join(scratch, "staging");
  mkdirSync(tmpDir);
  secrets.set(`${namespace}/s3-keys/accessKeyId`, s3.accessKeyId);
  // A trailing newline, as `kubectl create secret --from-file` often leaves: the run trims it.
  secrets.set(`${namespace}/s3-keys/secretAccessKey`, `${s3.secretAccessKey}\n`);
});

afterAll(async () => {
  talos?.close();
  await Promise.all([fleet?.stop(), s3?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

afterEach(() => {
  expect(readdirSync(tmpDir)).toEqual([]);
});

it("stores a whole snapshot: the object on disk is the etcd database with its trailer, and etcdutl restores it", async () => {
  const action = actionFor("20260301T120000Z");
  const result = await run(action);

  const stored = readFileSync(s3.objectPath(action.key));
  expect(result).toEqual({ size: stored.length, sha256: sha256(stored), retained: 1 });
  expect(stored.length % 512).toBe(32);
  const status = snapshotStatus(s3.objectPath(action.key));
  expect(status.revision).toBeGreaterThan(0);
  expect(status.totalKey).toBeGreaterThan(0);
  expect(status.totalSize).toBe(stored.length - 32);
  // restore checks the SHA-256 trailer against the database before it.
  const restored = join(scratch, "restored");
  snapshotRestore(s3.objectPath(action.key), restored);
  expect(existsSync(join(restored, "member", "snap", "db"))).toBe(true);
  // No staging file is left behind.
  expect(readdirSync(tmpDir)).toEqual([]);
});

it("keeps the plan's newest snapshots up to retention and never touches a key that is not one of them", async () => {
  const own = "talos-upgrade/weekly/";
  const foreign = [
    `${own}notes.txt`,
    `${own}20250101T000000Z-${cp().hostname}.db.bak`,
    `${own}manual/20250101T000000Z-${cp().hostname}.db`,
    `talos-upgrade/weekly-other/20250101T000000Z-${cp().hostname}.db`,
  ];
  for (const key of foreign) putOnDisk(key, `not ours: ${key}\n`);
  // An older snapshot of this plan, put there by hand: listing sees files written straight to disk.
  const oldest = `${own}20250101T000000Z-${cp().hostname}.db`;
  putOnDisk(oldest, "an old snapshot\n");

  const stamps = ["20260302T010000Z", "20260302T020000Z", "20260302T030000Z"];
  const results = [];
  for (const stamp of stamps) results.push(await run(actionFor(stamp, { prefix: own, retention: 2 })));

  expect(results.map((r) => r.retained)).toEqual([2, 2, 2]);
  expect(results.every((r) => r.pruneError === undefined)).toBe(true);
  const left = keysOnDisk().filter((key) => key.startsWith("talos-upgrade/weekly"));
  expect(left).toEqual(
    [...foreign, `${own}${stamps[1]}-${cp().hostname}.db`, `${own}${stamps[2]}-${cp().hostname}.db`].sort(),
  );
  for (const key of foreign) expect(readFileSync(s3.objectPath(key), "utf8")).toBe(`not ours: ${key}\n`);
  // The snapshot of the first test, another plan's prefix, is still there.
  expect(existsSync(s3.objectPath(actionFor("20260301T120000Z").key))).toBe(true);
});

it("a stream cut short (it ends OK, as machined's does) is refused before anything is uploaded", async () => {
  const action = actionFor("20260303T000000Z");
  fleet.inject(cp().hostname, { etcdSnapshotTruncate: 4096 });
  try {
    await expect(run(action)).rejects.toThrow("snapshot truncated: 4096 bytes");
  } finally {
    fleet.inject(cp().hostname, { etcdSnapshotTruncate: undefined });
  }
  expect(existsSync(s3.objectPath(action.key))).toBe(false);
});

it("a Talos error is the run's error, naming the node and etcd's reason; nothing is stored", async () => {
  const action = actionFor("20260304T000000Z");
  fleet.inject(cp().hostname, { etcdSnapshotError: "etcdserver: no leader" });
  try {
    await expect(run(action)).rejects.toThrow(
      `EtcdSnapshot on ${cp().address}: INTERNAL: failed reading etcd snapshot: etcdserver: no leader`,
    );
  } finally {
    fleet.inject(cp().hostname, { etcdSnapshotError: undefined });
  }
  expect(existsSync(s3.objectPath(action.key))).toBe(false);
});

it("a wrong secret key is refused by the server with its signature code before etcd is read, the secret in no part of the error", async () => {
  const wrongSecret = `${s3.secretAccessKey}x`;
  secrets.set(`${namespace}/wrong-keys/accessKeyId`, s3.accessKeyId);
  secrets.set(`${namespace}/wrong-keys/secretAccessKey`, wrongSecret);
  const action = actionFor("20260305T000000Z", {}, { name: "wrong-keys", namespace });

  const error = await run(action).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({
    name: "S3Error",
    code: "SignatureDoesNotMatch",
    status: 403,
    operation: "ListObjectsV2",
  });
  expect((error as Error).message).toContain("SignatureDoesNotMatch");
  const text = [(error as Error).message, (error as Error).stack, JSON.stringify(error)].join("\n");
  expect(text).not.toContain(wrongSecret);
  expect(text).not.toContain(s3.secretAccessKey);
  expect(existsSync(s3.objectPath(action.key))).toBe(false);
});

it("a key missing from the Secret is the run's error, as the reader words it", async () => {
  secrets.set("default/x/accessKeyId", s3.accessKeyId);
  const action = actionFor("20260306T000000Z", {}, { name: "x", namespace: "default" });
  await expect(run(action)).rejects.toThrow(
    new Error("secret default/x key secretAccessKey: the key is missing"),
  );
  expect(existsSync(s3.objectPath(action.key))).toBe(false);
});

it("an aborted run stores nothing: a signal aborted before it starts, or one that fires mid-stream", async () => {
  // Already aborted: the run stops before it reads anything.
  const before = actionFor("20260307T000000Z");
  await expect(run(before, AbortSignal.abort())).rejects.toThrow();
  expect(existsSync(s3.objectPath(before.key))).toBe(false);

  // The timeout fires during the run: what it was doing is cancelled and the run says why.
  const during = actionFor("20260307T000001Z");
  await expect(run(during, AbortSignal.timeout(1))).rejects.toThrow("timed out after 30s");
  expect(existsSync(s3.objectPath(during.key))).toBe(false);
});
