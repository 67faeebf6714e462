// Writes a talosconfig in talosctl's format (context → endpoints, nodes, base64 PEMs). The
// operator's client for one is the tests' business (test/harness/talos-client.ts).
import { writeFileSync } from "node:fs";

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
