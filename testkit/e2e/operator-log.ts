// What the operator says it did, from its log (pino JSON lines): for tests that wait on the
// operator's own account of a pass (an action taken, a pass ended) instead of on the clock.
import { readFileSync } from "node:fs";
import type { OperatorProcess } from "./operator-process.ts";

export interface LogRecord {
  level: number;
  /** Milliseconds since the epoch, by the operator's clock (the test's: the same machine). */
  time: number;
  msg: string;
  plan?: string;
  [field: string]: unknown;
}

/**
 * The records the operator logged about `plan`, in the order written. The whole file is read (not a
 * tail): counts stay right however long the run. Lines that are not JSON (Node's warnings) are skipped.
 */
export function planLog(operator: OperatorProcess, plan: string): LogRecord[] {
  let text: string;
  try {
    text = readFileSync(operator.logFile, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      const record = JSON.parse(line) as LogRecord;
      return record.plan === plan ? [record] : [];
    } catch {
      // A line being written as it is read.
      return [];
    }
  });
}
