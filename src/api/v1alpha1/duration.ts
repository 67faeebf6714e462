// Go-style durations as the plan writes them ("30m", "1h30m", "0s"): their schema, and their
// length in milliseconds.
import { z } from "zod";

/** A Go duration such as 30m, 1h30m or 0s; seven digits a part keep it within a date's range. */
export const duration = z
  .string()
  .max(64)
  .regex(
    /^(0|(\d{1,7}(\.\d{1,9})?(ns|us|µs|ms|s|m|h))+)$/,
    "must be a duration such as 30s, 10m or 1h30m (at most seven digits a part)",
  );

const units: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`"${text}" is not a duration such as 30s, 10m or 1h30m`);
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * (units[unit ?? ""] ?? 0), 0);
}
