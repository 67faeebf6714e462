// The Node.js flags the container image runs the operator with, read from the Dockerfile's
// ENTRYPOINT, so that tests and the benchmark run the operator process exactly as deployed.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dockerfile = join(import.meta.dirname, "..", "..", "Dockerfile");

/** The arguments between `node` and the entry script in `ENTRYPOINT ["node", ..., "dist/src/main.js"]`. */
export function entrypointNodeFlags(): string[] {
  const line = readFileSync(dockerfile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("ENTRYPOINT "));
  const words: unknown = JSON.parse(line?.slice("ENTRYPOINT ".length) ?? "null");
  if (!Array.isArray(words) || words[0] !== "node" || words.at(-1) !== "dist/src/main.js")
    throw new Error(`the Dockerfile's ENTRYPOINT is not ["node", ...flags, "dist/src/main.js"]: ${line}`);
  return words.slice(1, -1) as string[];
}
