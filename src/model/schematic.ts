// A declared schematic's Image Factory ID: the SHA-256 of the YAML the factory renders for it
// (Go yaml.v3, four-space indent, fields in the factory's order, empty parts omitted). The text
// values are restricted at admission to characters whose rendering is reproduced here exactly.
import { createHash } from "node:crypto";
import type { SchematicSpec } from "../api/v1alpha1/schematic.ts";

const oldBooleans = new Set(
  "y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF".split(" "),
);
const nulls = new Set(["null", "Null", "NULL", "~"]);
const specialFloats = new Set(".inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF .nan .NaN .NAN".split(" "));

/** Would Go's strconv read it as an integer (base prefixes, leading-zero octal) or a float. */
const goNumber = (s: string) =>
  /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.test(s) ||
  /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(s) ||
  /^[-+]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][-+]?[0-9]+$/.test(s) ||
  /^[-+]?(inf|infinity)$/i.test(s);

/** A string the YAML library would read back as something else (bool, null, number, time). */
function resolvesAsOther(s: string): boolean {
  if (oldBooleans.has(s) || nulls.has(s) || specialFloats.has(s)) return true;
  if (/^[-+0-9]/.test(s)) {
    if (goNumber(s.replaceAll("_", ""))) return true;
    if (
      /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/.test(
        s,
      )
    )
      return true;
  } else if (s.startsWith(".") && /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)) return true;
  // Sexagesimal numbers of YAML 1.1.
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

/** One scalar as yaml.v3 writes it: plain, 'single-quoted' where an indicator starts or ends it, or "double-quoted". */
export function yamlScalar(s: string): string {
  if (s === "" || resolvesAsOther(s)) return JSON.stringify(s);
  const indicator =
    s === "-" || /^[,@%]/.test(s) || s.startsWith("---") || s.startsWith("...") || s.endsWith(":");
  return indicator ? `'${s}'` : s;
}

type Node = string | number | boolean | Node[] | { [key: string]: Node | undefined };

/** Block YAML with four-space indents; keys in the order given (the factory's struct order). */
function render(value: Node, depth: number): string[] {
  const pad = " ".repeat(depth * 4);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item !== "object") return [`${pad}- ${scalarOf(item)}`];
      // A mapping in a list continues under its first key, two columns in from the dash.
      const [first = "", ...rest] = render(item, 0);
      return [`${pad}- ${first}`, ...rest.map((line) => `${pad}  ${line}`)];
    });
  }
  if (typeof value !== "object") return [`${pad}${scalarOf(value)}`];
  return Object.entries(value).flatMap(([key, v]) => {
    if (v === undefined) return [];
    if (typeof v !== "object") return [`${pad}${yamlScalar(key)}: ${scalarOf(v)}`];
    return [`${pad}${yamlScalar(key)}:`, ...render(v, depth + 1)];
  });
}

const scalarOf = (v: string | number | boolean) => (typeof v === "string" ? yamlScalar(v) : String(v));

/** Drops what Go's omitempty drops: empty lists, empty maps, false, undefined. */
function pruned(value: Record<string, Node | undefined>): Record<string, Node> | undefined {
  const kept = Object.entries(value).filter(([, v]) => {
    if (v === undefined || v === false) return false;
    if (Array.isArray(v)) return v.length > 0;
    return typeof v !== "object" || Object.keys(v).length > 0;
  });
  return kept.length > 0 ? Object.fromEntries(kept as [string, Node][]) : undefined;
}

/** The factory's canonical YAML of a declared schematic. */
export function schematicYaml(schematic: Omit<SchematicSpec, "id">): string {
  const c = schematic.customization ?? {};
  const customization = pruned({
    extraKernelArgs: c.extraKernelArgs,
    meta: c.meta?.map((m) => ({ key: m.key, value: m.value })),
    systemExtensions: pruned({ officialExtensions: c.systemExtensions?.officialExtensions }),
    secureboot: pruned({ includeWellKnownCertificates: c.secureboot?.includeWellKnownCertificates }),
  });
  const o = schematic.overlay;
  // The overlay's image and name are always written; its options, in the sorted order Go writes maps.
  const options = o?.options
    ? Object.fromEntries(Object.entries(o.options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : undefined;
  const overlay = o
    ? { image: o.image, name: o.name, ...(options && Object.keys(options).length ? { options } : {}) }
    : undefined;
  const lines = [
    ...(overlay ? ["overlay:", ...render(overlay, 1)] : []),
    ...(customization ? ["customization:", ...render(customization, 1)] : ["customization: {}"]),
  ];
  return `${lines.join("\n")}\n`;
}

/** The ID Image Factory gives a schematic: its ID when named, else the hash of its canonical YAML. */
export function schematicIdOf(schematic: SchematicSpec): string {
  return schematic.id ?? createHash("sha256").update(schematicYaml(schematic)).digest("hex");
}
