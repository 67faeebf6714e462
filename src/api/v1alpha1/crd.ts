// The TalosUpgradePlan CustomResourceDefinition, generated from the zod schemas: JSON Schema from
// zod, reduced to a Kubernetes structural schema (no $schema/title, int-or-string instead of
// anyOf, no additionalProperties beside properties, no JavaScript safe-integer bounds).
import { stringify } from "yaml";
import { z } from "zod";
import { group, kind, planSpecSchema, planStatusSchema, plural, version } from "./plan.ts";

type Schema = Record<string, unknown>;

const unsafeBound = (value: unknown) =>
  typeof value === "number" && Math.abs(value) >= Number.MAX_SAFE_INTEGER;

export function structural(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "title") continue;
    if ((key === "minimum" || key === "maximum") && unsafeBound(value)) continue;
    if (key === "properties" && value && typeof value === "object") {
      out.properties = Object.fromEntries(
        Object.entries(value as Schema).map(([k, v]) => [k, structural(v as Schema)]),
      );
    } else if (key === "items" && value && typeof value === "object") {
      out.items = structural(value as Schema);
    } else if (key === "additionalProperties") {
      if (value && typeof value === "object" && !schema.properties)
        out.additionalProperties = structural(value as Schema);
    } else if (key === "anyOf") {
      if (!schema["x-kubernetes-int-or-string"])
        throw new Error(`unions cannot be expressed structurally: ${JSON.stringify(schema)}`);
    } else if (key === "propertyNames") {
      // Map keys are free-form in Kubernetes schemas; their length limit cannot be expressed.
    } else {
      out[key] = value;
    }
  }
  return out;
}

function schemaOf(zodSchema: z.ZodType): Schema {
  return structural(z.toJSONSchema(zodSchema, { io: "input", unrepresentable: "throw" }) as Schema);
}

export function planCrd(): Schema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Cluster",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, shortNames: ["tup"] },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Phase", type: "string", jsonPath: ".status.phase" },
            { name: "Talos", type: "string", jsonPath: ".spec.talos.version" },
            { name: "Kubernetes", type: "string", jsonPath: ".spec.kubernetes.version" },
            { name: "Progress", type: "string", jsonPath: ".status.progress" },
            { name: "Left", type: "string", jsonPath: ".status.estimate.timeLeft" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "TalosUpgradePlan upgrades Talos Linux and then Kubernetes, node by node, gated on health.",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: schemaOf(planSpecSchema),
                status: schemaOf(planStatusSchema),
              },
              required: ["spec"],
            },
          },
        },
      ],
    },
  };
}

export function planCrdYaml(): string {
  return `# Generated from src/api/v1alpha1/plan.ts by \`npm run generate\`; do not edit.\n${stringify(planCrd(), { lineWidth: 0 })}`;
}
