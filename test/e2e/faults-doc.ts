// Renders the faults matrix (faults-table.ts) as the Markdown table in docs/faults.md, between two
// markers; `npm run generate:faults-doc` rewrites it there, and a unit test fails when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FaultCase, kubernetesPhaseCases, talosPhaseCases } from "./faults-table.ts";

export const faultsDoc = join(import.meta.dirname, "..", "..", "docs", "faults.md");
const begin = "<!-- faults-matrix:begin (generated from test/e2e/faults-table.ts) -->";
const end = "<!-- faults-matrix:end -->";

const header = [
  "fault",
  "injected",
  "node",
  "step",
  "plan phase",
  "condition reason",
  "node state (reason)",
  "left cordoned",
  "later nodes",
];

function row(c: FaultCase): string[] {
  const state = c.expected.node.reason
    ? `${c.expected.node.state} (${c.expected.node.reason})`
    : c.expected.node.state;
  return [
    `\`${c.fault}\``,
    c.moment,
    c.node,
    c.step,
    c.expected.planPhase,
    `\`${c.expected.reason}\``,
    state,
    c.expected.cordoned.join(", ") || "nothing",
    c.expected.laterNodes,
  ];
}

function table(cases: FaultCase[]): string {
  if (cases.length === 0) return "_No rows yet._";
  const rows = [header, ...cases.map(row)];
  // Columns padded to their widest cell, as the formatter (biome) lays Markdown tables out.
  const widths = header.map((_, i) => Math.max(...rows.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [first, ...rest] = rows;
  return [line(first ?? []), line(widths.map((w) => "-".repeat(w))), ...rest.map(line)].join("\n");
}

export function renderFaultsMatrix(): string {
  return [
    begin,
    "",
    "### Talos phase",
    "",
    table(talosPhaseCases),
    "",
    "### Kubernetes phase",
    "",
    table(kubernetesPhaseCases),
    "",
    end,
  ].join("\n");
}

/** docs/faults.md with its matrix section replaced by the rendering of the table. */
export function updatedFaultsDoc(current: string): string {
  const from = current.indexOf(begin);
  const to = current.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${faultsDoc} has no faults-matrix markers`);
  return `${current.slice(0, from)}${renderFaultsMatrix()}${current.slice(to + end.length)}`;
}

if (import.meta.main) {
  writeFileSync(faultsDoc, updatedFaultsDoc(readFileSync(faultsDoc, "utf8")));
}
