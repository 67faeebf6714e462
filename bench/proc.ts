// A process's usage as /proc shows it, for the bench's figures of the operator and the control plane.
import { readFileSync } from "node:fs";
import { parseProcUsage } from "./measures.ts";

export type ProcUsage = ReturnType<typeof parseProcUsage>;

/** One process's resident memory now and at its peak, and its CPU seconds, from /proc. */
export function procUsage(pid: number, ticksPerSecond: number): ProcUsage {
  return parseProcUsage(
    readFileSync(`/proc/${pid}/status`, "utf8"),
    readFileSync(`/proc/${pid}/stat`, "utf8"),
    ticksPerSecond,
  );
}
