// The TypeScript types in src/talos/generated are generated from proto/ (npm run generate:proto)
// and checked in; this fails when a proto changed and the types were not regenerated.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const committed = join(root, "src", "talos", "generated");

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

it("src/talos/generated matches what proto/ generates", () => {
  const script = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts[
    "generate:proto"
  ] as string;
  const out = mkdtempSync(join(tmpdir(), "tuo-proto-types-"));
  try {
    const args = script
      .split(" ")
      .slice(1)
      .map((a) => (a === "src/talos/generated" ? out : a));
    execFileSync(join(root, "node_modules", ".bin", "proto-loader-gen-types"), args, { cwd: root });
    expect(files(out)).toEqual(files(committed));
    for (const file of files(out)) {
      expect({ file, text: readFileSync(join(committed, file), "utf8") }).toEqual({
        file,
        text: readFileSync(join(out, file), "utf8"),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
