// The architecture is the layering of src/ (DESIGN.md): api ← model ← core ← controller, adapters
// (kube, talos, health, notify, observability, backup) beside the core and below the controller. This
// test reads every import line of src/ and fails on a cycle or on an import against the layers.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const src = resolve(import.meta.dirname, "..", "..", "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "generated" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import and re-export of a file, resolved to a path. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)].map((m) =>
    resolve(dirname(file), m[1] ?? ""),
  );
}

/** The layer a path of src/ belongs to: its top folder, or the file name at the top. */
const layerOf = (path: string) => relative(src, path).split("/")[0] ?? "";
const adapters = ["kube", "talos", "health", "notify", "observability", "backup"];
/** What each layer may import besides itself. */
const allowed: Record<string, string[]> = {
  api: [],
  model: ["api"],
  core: ["api", "model"],
  ...Object.fromEntries(adapters.map((a) => [a, ["api", "model", ...adapters.filter((b) => b !== a)]])),
  controller: ["api", "model", "core", ...adapters],
  "settings.ts": ["api", "model", ...adapters],
  "manager.ts": ["api", "model", "controller", "settings.ts", ...adapters],
  "main.ts": ["api", "model", "controller", "manager.ts", "settings.ts", ...adapters],
};

const files = sources(src);
const graph = new Map(files.map((f) => [f, imports(f).filter((d) => d.startsWith(src))]));

function layerViolations(): string[] {
  const found: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    const may = allowed[from];
    for (const dep of deps) {
      const to = layerOf(dep);
      if (to === from) continue;
      if (!may?.includes(to)) found.push(`${relative(src, file)} → ${relative(src, dep)}`);
    }
  }
  return found;
}

function cycles(): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === "open") found.push([...stack.slice(stack.indexOf(dep)), dep].join(" → "));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found.map((c) => c.replaceAll(`${src}/`, ""));
}

describe("src/ layering", () => {
  it("sees every layer of the design", () => {
    const layers = new Set(files.map(layerOf));
    for (const layer of Object.keys(allowed)) expect(layers).toContain(layer);
    expect([...layers].filter((l) => !(l in allowed))).toEqual([]);
  });

  it("has no import against the layers", () => {
    expect(layerViolations()).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles()).toEqual([]);
  });

  it("never reaches test code", () => {
    const outside = [...graph.keys()].flatMap((f) =>
      imports(f)
        .filter((d) => !d.startsWith(src) && !d.endsWith("package.json"))
        .map((d) => `${relative(src, f)} → ${d}`),
    );
    expect(outside).toEqual([]);
  });
});
