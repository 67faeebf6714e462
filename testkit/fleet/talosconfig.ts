// Writes a talosconfig in talosctl's format (context → endpoints, nodes, base64 PEMs), and reads one
// back into the operator's own Talos client.
import { readFileSync, writeFileSync } from "node:fs";
import { TalosClient } from "../../src/talos/client.ts";
import { parseTalosconfig } from "../../src/talos/talosconfig.ts";

export interface TalosconfigContext {
  name: string;
  endpoints: string[];
  nodes?: string[];
  caPem: string;
  certPem: string;
  keyPem: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString("base64");

export function renderTalosconfig(context: TalosconfigContext): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
  return [
    `context: ${context.name}`,
    "contexts:",
    `  ${context.name}:`,
    `    endpoints: ${list(context.endpoints)}`,
    ...(context.nodes ? [`    nodes: ${list(context.nodes)}`] : []),
    `    ca: ${b64(context.caPem)}`,
    `    crt: ${b64(context.certPem)}`,
    `    key: ${b64(context.keyPem)}`,
    "",
  ].join("\n");
}

export function writeTalosconfig(path: string, context: TalosconfigContext): void {
  writeFileSync(path, renderTalosconfig(context), { mode: 0o600 });
}

/** The operator's own Talos client for a talosconfig the fleet wrote, with a short deadline for tests. */
export function clientFor(path: string): TalosClient {
  const parsed = parseTalosconfig(readFileSync(path, "utf8"), path);
  if (!parsed.ok) throw new Error(parsed.message);
  return new TalosClient(parsed.config, { deadlineMs: 2_000 });
}
