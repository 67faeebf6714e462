// An Image Factory schematic as a plan names it: by its ID, or declared (extensions, kernel
// arguments, META, overlay) in the factory's own shape, so that a schematic file pastes in as is.
// The operator computes a declared schematic's ID the way Image Factory does (model/schematic.ts).
import { z } from "zod";

/** The Image Factory schematic ID grammar: 64 hex digits, as nodes report it and image refs carry it. */
export const schematicId = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "must be a schematic ID: 64 lowercase hex digits");

/**
 * A text value inside a declared schematic. The ID is a hash of the factory's YAML rendering, and the
 * operator renders exactly these characters as the factory does (checked against its YAML library).
 */
const text = z
  .string()
  .min(1)
  .max(256)
  .regex(
    /^[A-Za-z0-9._/=,:+@~%-]+$/,
    "must be letters, digits and . _ / = , : + @ ~ % - only (name the schematic by id for anything else)",
  );

const customization = z.object({
  extraKernelArgs: z.array(text).max(64).optional(),
  meta: z
    .array(z.object({ key: z.number().int().min(0).max(255), value: text }))
    .max(32)
    .optional(),
  systemExtensions: z
    .object({
      officialExtensions: z
        .array(text)
        .max(64)
        .optional()
        .describe(
          "e.g. siderolabs/nvidia-container-toolkit-production; order counts, as it does for the factory.",
        ),
    })
    .optional(),
  secureboot: z.object({ includeWellKnownCertificates: z.boolean().optional() }).optional(),
});

export const schematicSpecSchema = z
  .object({
    id: schematicId.optional().describe("A schematic already known to the factory, by its ID."),
    overlay: z.object({ image: text, name: text, options: z.record(text, text).optional() }).optional(),
    customization: customization.optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "has(self.id) != (has(self.overlay) || has(self.customization))",
        message: "name the schematic either by id or by overlay/customization, not both and not neither",
      },
    ],
  })
  .describe(
    "The Image Factory schematic the nodes' installer is built from: its id, or the schematic itself (the operator computes its id as the factory does; the factory must know it).",
  );

export type SchematicSpec = z.output<typeof schematicSpecSchema>;
