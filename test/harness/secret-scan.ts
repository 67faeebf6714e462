// Scans test logs for key material: PEM blocks, base64-encoded PEM (as talosconfigs and kubeconfigs
// carry keys and certificates) and bearer tokens. A hit names the file and line, never the secret.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The run's log folder (defined beside the kit's processes, which write their logs there). */
export { testLogDirEnv } from "../../testkit/control-plane/process.ts";

export interface Finding {
  file: string;
  line: number;
  kind: string;
}

/** "-----BEGIN" in base64, at each of the three byte alignments it can start at. */
const base64Begin = ["-----BEGIN", "---BEGIN", "----BEGIN"].map((text) =>
  Buffer.from(text)
    .toString("base64")
    .slice(0, Math.floor((text.length * 4) / 3) - 2),
);

const patterns: [string, RegExp][] = [
  ["PEM block", /-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|CERTIFICATE)-----/],
  ["base64-encoded PEM", new RegExp(base64Begin.join("|"))],
  ["bearer token", /\bBearer\s+[A-Za-z0-9._~+/-]{16,}/i],
  ["JSON web token", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

export function scanText(text: string, file: string): Finding[] {
  const findings: Finding[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    for (const [kind, pattern] of patterns)
      if (pattern.test(line)) findings.push({ file, line: index + 1, kind });
  }
  return findings;
}

/** Every file under `dir`, recursively. */
export function scanDir(dir: string): Finding[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? scanDir(path) : scanText(readFileSync(path, "utf8"), path);
  });
}
