// The architecture is the layering of src/ (DESIGN.md): api ← model ← core ← controller, adapters
// (kube, talos, health, notify, observability, backup) beside the core and below the controller. This
// test reads every import line of src/ and fails on a cycle or on an import against the layers.
// Around src/: src/ reaches neither test/ nor testkit/; testkit/ (the fleet simulator, the harness,
// the e2e world) never reaches src/core/ or src/controller/, the operator's decisions, so that a
// mistake there cannot hide in the world it is tested against; and neither testkit/ nor bench/
// imports test/, which holds only the operator's tests and the jest plumbing.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(import.meta.dirname, "..", "..");
const src = join(root, "src");

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

/** Every TypeScript file under `dir` (node_modules and Go folders hold none that count). */
function typescriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "node_modules" ? [] : typescriptFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports of any form: static, re-export, side-effect and dynamic. */
function anyImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) =>
    resolve(dirname(file), m[1] ?? ""),
  );
}

const inside = (path: string, folder: string) => path.startsWith(join(root, folder) + sep);
const rel = (path: string) => relative(root, path);

/**
 * The imports of the files under `folder` that land in a forbidden place, as
 * "file → import" (through src/ when `throughSrc`: the chain from the file to where it lands).
 */
function boundaryViolations(
  folder: string,
  forbidden: (path: string) => boolean,
  throughSrc = false,
): string[] {
  const found: string[] = [];
  for (const file of typescriptFiles(join(root, folder))) {
    // Breadth first through src/, so that each forbidden file is named by its shortest chain.
    const queue: string[][] = anyImports(file).map((d) => [d]);
    const seen = new Set<string>();
    for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
      const dep = chain.at(-1) ?? "";
      if (seen.has(dep)) continue;
      seen.add(dep);
      if (forbidden(dep)) {
        found.push([file, ...chain].map(rel).join(" → "));
        continue;
      }
      if (throughSrc && inside(dep, "src") && dep.endsWith(".ts") && existsSync(dep))
        queue.push(...anyImports(dep).map((d) => [...chain, d]));
    }
  }
  return found;
}

/** The operator's decisions and its shell: src/core/, src/controller/ and the files that start them. */
const operatorDecisions = (path: string) =>
  inside(path, "src/core") ||
  inside(path, "src/controller") ||
  path === join(src, "main.ts") ||
  path === join(src, "manager.ts");

describe("the boundaries around src/", () => {
  it("src/ imports neither test/ nor testkit/", () => {
    expect(boundaryViolations("src", (d) => inside(d, "test") || inside(d, "testkit"))).toEqual([]);
  });

  it("testkit/ never reaches src/core/ or src/controller/, directly or through src/", () => {
    expect(typescriptFiles(join(root, "testkit")).length).toBeGreaterThan(40);
    expect(boundaryViolations("testkit", operatorDecisions, true)).toEqual([]);
  });

  it("testkit/ and bench/ never import test/", () => {
    expect([
      ...boundaryViolations("testkit", (d) => inside(d, "test")),
      ...boundaryViolations("bench", (d) => inside(d, "test")),
    ]).toEqual([]);
  });
});
