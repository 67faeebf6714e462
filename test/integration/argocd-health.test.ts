// The Argo CD health check, run by a Lua 5.1 interpreter (Argo CD's gopher-lua speaks 5.1) over the
// fixtures in Argo CD's health_test.yaml layout; and the argocd-cm snippet carries that script.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { argocdConfigMap, argocdConfigMapYaml, argocdHealthScript } from "../../src/api/v1alpha1/generate.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const dir = join(root, "deploy", "argocd");

/** A Lua table constructor for a YAML/JSON value (null becomes nil, as Argo CD's conversion does). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
    .join(", ")}}`;
}

const { tests } = parse(readFileSync(join(dir, "health_test.yaml"), "utf8")) as {
  tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
};

it.each(tests.map((t) => [t.inputPath, t.healthStatus] as const))("%s is %j", async (inputPath, expected) => {
  const object = parse(readFileSync(join(dir, inputPath), "utf8"));
  const program = `obj = ${toLua(object)}\nlocal hs = assert(loadfile(${JSON.stringify(join(dir, "health.lua"))}))()\nio.write(hs.status, "\\n", hs.message or "")`;
  const { stdout } = await run("lua5.1", ["-e", program]);
  const [status, ...message] = stdout.split("\n");
  expect({ status, message: message.join("\n") }).toEqual(expected);
});

it(`${argocdConfigMap} carries ${argocdHealthScript} (npm run generate)`, () => {
  expect(readFileSync(join(root, argocdConfigMap), "utf8")).toBe(argocdConfigMapYaml());
});
