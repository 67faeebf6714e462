// A real S3-compatible server for the etcd snapshot tests: Versity Gateway (versitygw, the `s3`
// tool group) with its posix backend, on a free loopback port, over a folder of its own. Objects
// are plain files there (bucket/key → <data>/<bucket>/<key>), so a test reads what was stored
// without any S3 code; metadata goes to a sidecar folder, so the file system needs no xattrs.
// The bucket is made with versitygw's own admin CLI (it signs its requests itself): the harness has
// no S3 signer, so the tests never share the operator's S3 code.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts, logTail, type ManagedProcess, runLogFile, startProcess } from "./process.ts";
import { tool } from "./tools.ts";
import { waitUntil } from "./wait.ts";

export interface S3Server {
  /** http://127.0.0.1:PORT; path-style addressing. */
  readonly endpoint: string;
  /** "us-east-1". */
  readonly region: string;
  /** "etcd-backups", created before startS3 returns. */
  readonly bucket: string;
  /** The root account's keys (random per server): the only account there is. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The file on disk holding `key` of the bucket (whether or not it exists yet). */
  objectPath(key: string): string;
  /** The folder holding every bucket, one folder each. */
  readonly dataDir: string;
  readonly process: ManagedProcess;
  logs(): string;
  /** Runs `versitygw admin <args>` against this server as its root account; resolves with its stdout. */
  admin(...args: string[]): Promise<string>;
  /** Stops it (SIGTERM) and deletes its folder (a log in the run's log folder stays). */
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startS3(): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), "tuo-s3-"));
  const dataDir = join(dir, "data");
  const sidecar = join(dir, "meta");
  mkdirSync(dataDir);
  mkdirSync(sidecar);
  const [port = 0] = await freePorts(1);
  const endpoint = `http://127.0.0.1:${port}`;
  const region = "us-east-1";
  const bucket = "etcd-backups";
  const accessKeyId = `TUO${randomBytes(8).toString("hex").toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString("base64url");
  // In `npm run test:*` the log goes to the run's log folder (scanned for keys); else beside the data.
  const logFile = runLogFile("versitygw") ?? join(dir, "versitygw.log");
  const binary = tool("s3", "versitygw");
  // The keys go through the environment, not argv, so that they never show in `ps`.
  const env = { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey };
  const proc = startProcess(
    "versitygw",
    binary,
    [
      `--port=127.0.0.1:${port}`,
      `--region=${region}`,
      "--health=/health",
      // No line per request on stdout; errors still arrive.
      "--quiet",
      "posix",
      `--sidecar=${sidecar}`,
      dataDir,
    ],
    { logFile, env },
  );
  const stop = async () => {
    await proc.stop(5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const admin = async (...args: string[]) => {
    const adminEnv = {
      ...process.env,
      ADMIN_ACCESS_KEY_ID: accessKeyId,
      ADMIN_SECRET_ACCESS_KEY: secretAccessKey,
      ADMIN_REGION: region,
      ADMIN_ENDPOINT_URL: endpoint,
    };
    try {
      return (await run(binary, ["admin", ...args], { env: adminEnv, timeout: 30_000 })).stdout;
    } catch (error) {
      const { stderr = "" } = error as { stderr?: string };
      throw new Error(`versitygw admin ${args.join(" ")} failed: ${stderr.trim() || String(error)}`);
    }
  };
  try {
    await waitUntil("versitygw ready", async () => (await fetch(`${endpoint}/health`)).ok, {
      timeoutMs: 30_000,
      alive: proc.running,
      describe: () => logTail(logFile),
    });
    // The admin API is served on the S3 port when no --admin-port is given.
    await admin("create-bucket", `--owner=${accessKeyId}`, `--bucket=${bucket}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    region,
    bucket,
    accessKeyId,
    secretAccessKey,
    objectPath: (key) => join(dataDir, bucket, ...key.split("/")),
    dataDir,
    process: proc,
    logs: () => logTail(logFile, 100),
    admin,
    stop,
  };
}
