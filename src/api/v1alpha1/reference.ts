// The API reference, generated from the same JSON Schema as the CRD: one row per field with its
// type, default, limits and description.
import { z } from "zod";
import { planSpecSchema, planStatusSchema } from "./plan.ts";

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  default?: unknown;
  description?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  anyOf?: Schema[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-validations"?: { message: string }[];
};

const safe = (n: number | undefined) => n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;

function typeOf(schema: Schema): string {
  if (schema["x-kubernetes-int-or-string"]) return "integer or string";
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  if (schema.type === "array") return `[]${schema.items ? typeOf(schema.items) : "any"}`;
  if (
    schema.type === "object" &&
    schema.additionalProperties &&
    typeof schema.additionalProperties === "object"
  )
    return "map[string]string";
  return String(schema.type ?? "any");
}

function notes(schema: Schema): string {
  const parts = [
    schema.description?.replace(/\.$/, ""),
    schema.pattern ? `pattern \`${schema.pattern}\`` : undefined,
    safe(schema.minimum) ? `≥ ${schema.minimum}` : undefined,
    safe(schema.maximum) ? `≤ ${schema.maximum}` : undefined,
    schema.maxLength !== undefined ? `at most ${schema.maxLength} characters` : undefined,
    schema.maxItems !== undefined ? `at most ${schema.maxItems} items` : undefined,
    ...(schema["x-kubernetes-validations"] ?? []).map((v) => v.message),
  ];
  return parts.filter(Boolean).join("; ").replaceAll("|", "\\|");
}

function rows(schema: Schema, path: string, required: boolean): string[] {
  const fallback = schema.default === undefined ? "" : `\`${JSON.stringify(schema.default)}\``;
  const own = path
    ? [`| \`${path}\` | ${typeOf(schema)} | ${required ? "yes" : ""} | ${fallback} | ${notes(schema)} |`]
    : [];
  const children = Object.entries(schema.properties ?? {}).flatMap(([name, child]) =>
    rows(child, path ? `${path}.${name}` : name, schema.required?.includes(name) ?? false),
  );
  const items =
    schema.type === "array" && schema.items?.properties
      ? rows({ ...schema.items, description: undefined }, `${path}[]`, false).slice(1)
      : [];
  return [...own, ...children, ...items];
}

function table(title: string, schema: z.ZodType, root: string): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Schema;
  return [
    `## ${title}`,
    "",
    "| field | type | required | default | notes |",
    "| --- | --- | --- | --- | --- |",
    ...rows(json, root, true).slice(0),
    "",
  ].join("\n");
}

export function apiReference(): string {
  return [
    "# TalosUpgradePlan API reference (`upgrade.talos-operator.dev/v1alpha1`)",
    "",
    "Generated from `src/api/v1alpha1/plan.ts` by `npm run generate`; do not edit. Cluster-scoped, short name `tup`.",
    "",
    table("spec", planSpecSchema, "spec"),
    table("status", planStatusSchema, "status"),
  ].join("\n");
}
