// A node's Image Factory schematic, read from the extensions Talos reports.
import { schematicId } from "../api/v1alpha1/schematic.ts";

/** The schematic ID that Image Factory images carry as the `schematic` extension's version. */
export function schematicFromExtensions(extensions: { name: string; version: string }[]): string | undefined {
  const found = extensions.find((e) => e.name === "schematic")?.version;
  return schematicId.safeParse(found).success ? found : undefined;
}
