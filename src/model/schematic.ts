// The Image Factory schematic ID grammar: 64 hex digits, as nodes report it and image refs carry it.
import { z } from "zod";

export const schematicId = z.string().regex(/^[0-9a-f]{64}$/);
