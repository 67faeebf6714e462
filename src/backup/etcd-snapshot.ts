// One etcd snapshot run: stream MachineService.EtcdSnapshot from a control plane into a local file,
// check it is whole, store it in the bucket, read it back, then prune the plan's older snapshots.
// Talos ends the stream without an error when etcd's read fails part-way, so the file is checked
// against etcd's own SHA-256 trailer (the last 32 bytes: the hash of the database before them)
// before anything is uploaded: a cut stream is never published.
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Action } from "../model/actions.ts";
import type { TalosClient } from "../talos/client.ts";
import { S3Client, type S3Credentials } from "./s3.ts";

export type EtcdSnapshotAction = Extract<Action, { kind: "etcdSnapshot" }>;

export interface EtcdSnapshotResult {
  size: number;
  sha256: string;
  retained: number;
  pruneError?: string;
}

/** Reads one key of a Secret: its text, or why not (naming the Secret and key, never the value). */
export type SecretReader = (ref: {
  namespace: string;
  name: string;
  key: string;
}) => Promise<string | { error: string }>;

const trailerBytes = 32;
/** bbolt's magic number, at byte 16 of the first page's meta (little-endian). */
const bboltMagic = 0xed0cdaed;
const flushBytes = 1 << 20;

/** The snapshot's bytes, written to `path` while hashing: the whole file, and the database before the trailer. */
class SnapshotFile {
  private readonly fd: number;
  private readonly whole: Hash = createHash("sha256");
  private readonly database: Hash = createHash("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The last bytes seen, held back from the database hash until it is known they are not the trailer. */
  private tail = Buffer.alloc(0);
  private head = Buffer.alloc(0);
  private closed = false;
  size = 0;

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, "w", 0o600);
  }

  write(chunk: Buffer): void {
    this.size += chunk.length;
    this.whole.update(chunk);
    if (this.head.length < 32)
      this.head = Buffer.concat([this.head, chunk.subarray(0, 32 - this.head.length)]);
    const joined = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, joined.length - trailerBytes);
    this.database.update(joined.subarray(0, cut));
    this.tail = Buffer.from(joined.subarray(cut));
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= flushBytes) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes > 0) writeSync(this.fd, Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Closes the file; the SHA-256 of it, or why it is not a whole etcd snapshot. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    closeSync(this.fd);
  }

  finish(): { sha256: string } | { error: string } {
    this.close();
    if (this.size <= trailerBytes || this.size % 512 !== trailerBytes)
      return { error: `snapshot truncated: ${this.size} bytes, no SHA-256 trailer (size mod 512 is not 32)` };
    if (!this.tail.equals(this.database.digest()))
      return {
        error: `snapshot damaged: its SHA-256 trailer does not match the ${this.size - trailerBytes} bytes before it`,
      };
    if (this.head.length < 20 || this.head.readUInt32LE(16) !== bboltMagic)
      return { error: "snapshot is not an etcd database (no bbolt header)" };
    return { sha256: this.whole.digest("hex") };
  }
}

async function credentialsOf(action: EtcdSnapshotAction, readSecret: SecretReader): Promise<S3Credentials> {
  const ref = action.destination.credentialsSecretRef;
  const read = async (key: string) => {
    const value = await readSecret({ namespace: ref.namespace, name: ref.name, key });
    if (typeof value !== "string") throw new Error(value.error);
    return value.trim();
  };
  const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
    read(ref.accessKeyIdKey),
    read(ref.secretAccessKeyKey),
    ref.sessionTokenKey ? read(ref.sessionTokenKey) : Promise.resolve(undefined),
  ]);
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The plan's snapshots: keys `<prefix><UTC time>-<node>.db`, newest first. Other keys are never touched. */
const ownKey = /^\d{8}T\d{6}Z-[a-z0-9.-]+\.db$/;

async function prune(s3: S3Client, action: EtcdSnapshotAction, signal: AbortSignal): Promise<number> {
  const listed = await s3.listObjects(action.prefix, signal);
  const own = listed
    .map((o) => o.key)
    .filter((k) => ownKey.test(k.slice(action.prefix.length)))
    .sort()
    .reverse();
  const kept = own.slice(0, action.retention);
  if (!kept.includes(action.key)) kept.push(action.key);
  for (const key of own) if (!kept.includes(key)) await s3.deleteObject(key, signal);
  return kept.length;
}

/**
 * Takes, stores and verifies one snapshot under `action.key` (the same key when run again: the
 * object is replaced whole). Throws with the reason when any step fails.
 */
export async function takeEtcdSnapshot(input: SnapshotRun): Promise<EtcdSnapshotResult> {
  try {
    return await run(input);
  } catch (error) {
    // The signal is the attempt's timeout: whatever step it cut short, that is the reason.
    if (input.signal.aborted)
      throw new Error(`timed out after ${input.action.timeoutSeconds}s`, { cause: error });
    throw error;
  }
}

interface SnapshotRun {
  action: EtcdSnapshotAction;
  talosClient: TalosClient;
  readSecret: SecretReader;
  tmpDir: string;
  signal: AbortSignal;
  fetch?: typeof fetch;
}

async function run(input: SnapshotRun): Promise<EtcdSnapshotResult> {
  const { action, talosClient, signal } = input;
  signal.throwIfAborted();
  const credentials = await credentialsOf(action, input.readSecret);
  const s3 = new S3Client(
    {
      endpoint: action.destination.endpoint,
      bucket: action.destination.bucket,
      region: action.destination.region,
      forcePathStyle: action.destination.forcePathStyle,
    },
    credentials,
    input.fetch ? { fetch: input.fetch } : {},
  );
  // The bucket is checked before etcd is read: keys that do not sign, a missing bucket or no right
  // to list (which pruning needs) fail here with S3's own code, not mid-upload as a reset connection.
  await s3.listObjects(action.prefix, signal);
  const file = new SnapshotFile(join(input.tmpDir, `etcd-${action.plan}-${process.pid}-${Date.now()}.db`));
  try {
    await talosClient.stream<{ bytes?: Buffer }>(
      "machine",
      "EtcdSnapshot",
      {},
      action.address,
      (message) => {
        if (message.bytes && message.bytes.length > 0) file.write(message.bytes);
      },
      { signal, deadlineMs: action.timeoutSeconds * 1000 },
    );
    signal.throwIfAborted();
    const checked = file.finish();
    if ("error" in checked) throw new Error(checked.error);
    const size = statSync(file.path).size;
    await s3.putObject(action.key, { path: file.path }, { size, sha256Hex: checked.sha256 }, signal);
    try {
      await readBack(s3, action.key, size, checked.sha256, signal);
    } catch (error) {
      // An object that could not be verified is not left to count as one of the plan's snapshots.
      await s3.deleteObject(action.key).catch(() => undefined);
      throw error;
    }
    try {
      const retained = await prune(s3, action, signal);
      return { size, sha256: checked.sha256, retained };
    } catch (error) {
      // Pruning failed: the snapshot stands; status says what was left.
      return { size, sha256: checked.sha256, retained: 0, pruneError: reasonOf(error) };
    }
  } finally {
    file.close();
    rmSync(file.path, { force: true });
  }
}

async function readBack(s3: S3Client, key: string, size: number, sha256: string, signal: AbortSignal) {
  const object = await s3.getObject(key, signal);
  const hash = createHash("sha256");
  let read = 0;
  for await (const chunk of object.body) {
    hash.update(chunk);
    read += chunk.length;
  }
  const got = hash.digest("hex");
  if (read !== size || got !== sha256)
    throw new Error(
      `read back ${read} bytes with sha256 ${got.slice(0, 12)}, stored ${size} with ${sha256.slice(0, 12)}`,
    );
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
