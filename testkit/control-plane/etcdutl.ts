// etcd's own offline snapshot tool (etcdutl, built with talosctl in the `talosctl` tool group), for
// tests that check a stored etcd snapshot is one etcd can use, without trusting the operator's code.
//
// `snapshot status` reads the bbolt database only and ignores the SHA-256 trailer that etcd's
// Maintenance.Snapshot stream ends with; `snapshot restore` checks that trailer and refuses a file
// whose last 32 bytes are not the SHA-256 of the rest.
import { spawnSync } from "node:child_process";
import { tool } from "./tools.ts";

export interface SnapshotStatus {
  /** etcd's hash of the key space (crc32), not a hash of the file. */
  hash: number;
  revision: number;
  totalKey: number;
  /** Bytes of the database, without the trailer. */
  totalSize: number;
  /** The storage version recorded in the database, e.g. "3.6.0". */
  version: string;
}

function etcdutl(args: string[]): string {
  const run = spawnSync(tool("talosctl", "etcdutl"), args, { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) {
    const why = run.error ? String(run.error) : `exit ${run.status ?? run.signal}`;
    throw new Error(`etcdutl ${args.join(" ")} failed (${why}): ${run.stderr.trim()}`);
  }
  return run.stdout;
}

/** `etcdutl snapshot status FILE -w json`: what the snapshot's database holds. */
export function snapshotStatus(file: string): SnapshotStatus {
  return JSON.parse(etcdutl(["snapshot", "status", file, "-w", "json"])) as SnapshotStatus;
}

/**
 * `etcdutl snapshot restore FILE --data-dir DIR` (DIR must not exist yet): a new single-member etcd
 * data folder from the snapshot. Throws, with etcdutl's stderr, when the SHA-256 trailer does not
 * match or the database is unreadable.
 */
export function snapshotRestore(file: string, dataDir: string): void {
  etcdutl(["snapshot", "restore", file, "--data-dir", dataDir]);
}
