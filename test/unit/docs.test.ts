// The docs hold themselves to what the repository has: README.md stays a short front page, and in
// README.md, testkit/README.md and docs/*.md every relative link (and its anchor), every `npm run`
// script, every repository path written as code, every example plan and the Renovate example point
// at something real. Each failure names the page and the offending text.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { group, kind, planSpecSchema, version } from "../../src/api/v1alpha1/plan.ts";

const root = join(import.meta.dirname, "..", "..");
const pages = [
  "README.md",
  "testkit/README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(join(root, file), "utf8");

const fencePattern = /^(`{3,})([^\n`]*)\n([\s\S]*?)^\1[ \t]*$/gm;

/** The fenced code blocks of a page, with their info string. */
function fences(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(fencePattern)].map((m) => ({ lang: (m[2] ?? "").trim(), body: m[3] ?? "" }));
}

/** A page without its fenced code blocks. */
const prose = (text: string) => text.replace(fencePattern, "");

/** The inline code spans of a page's prose. */
const inlineCode = (text: string) => [...prose(text).matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");

/** GitHub's anchor for a heading: lowercase, punctuation dropped except hyphens, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .trim();
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown file offers, duplicates numbered as GitHub numbers them. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const m of prose(read(file)).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1] ?? "");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The inline links of a page's prose, code spans kept as plain text so that `[`x`](y)` counts. */
function links(text: string): { text: string; target: string }[] {
  const plain = prose(text).replace(/`([^`]+)`/g, (_m, code: string) => code.replace(/[[\]()]/g, " "));
  return [...plain.matchAll(/\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({
    text: m[1] ?? "",
    target: m[2] ?? "",
  }));
}

/** The paths (a.b[0].c) at which two JSON values differ. */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
    return Object.is(a, b) ? [] : [path];
  if (Array.isArray(a) !== Array.isArray(b)) return [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((key) =>
    differences(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
    ),
  );
}

describe("README.md and docs/*.md", () => {
  it("README.md is a front page of under 8,000 characters", () => {
    const length = [...read("README.md")].length;
    const failures =
      length < 8000 ? [] : [`README.md: ${length} characters, 8,000 at most (move detail to docs/)`];
    expect(failures).toEqual([]);
  });

  it("every relative link names a file of the repository, and every anchor a heading of it", () => {
    const failures: string[] = [];
    for (const page of pages) {
      for (const { text, target } of links(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http(s), mailto
        const link = `[${text}](${target})`;
        const hash = target.indexOf("#");
        const path = hash < 0 ? target : target.slice(0, hash);
        const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const file =
          path === "" ? page : relative(root, resolve(root, dirname(page), decodeURIComponent(path)));
        if (file.startsWith("..") || !existsSync(join(root, file))) {
          failures.push(`${page}: ${link}: no file ${file}`);
          continue;
        }
        if (anchor === undefined) continue;
        if (file.endsWith(".md")) {
          if (!anchors(file).has(anchor)) failures.push(`${page}: ${link}: no heading #${anchor} in ${file}`);
        } else if (statSync(join(root, file)).isDirectory() || !/^L\d+(-L\d+)?$/.test(anchor)) {
          failures.push(`${page}: ${link}: #${anchor} is not a line anchor of ${file}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("every `npm run <script>` names a script of package.json", () => {
    const scripts = Object.keys(
      (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts,
    );
    const failures: string[] = [];
    for (const page of pages)
      for (const m of read(page).matchAll(/\bnpm\s+run(?:-script)?\s+(-*[\w:.-]*\w)/g)) {
        const script = m[1] ?? "";
        if (script.startsWith("-")) continue; // an npm option, as in `npm run --silent`
        if (!scripts.includes(script))
          failures.push(`${page}: npm run ${script}: no such script in package.json`);
      }
    expect(failures).toEqual([]);
  });

  it("every repository path written as code exists", () => {
    const looksLikePath =
      /^(?:(?:src|test|testkit|deploy|charts|docs|bench|proto|\.ci)\/|(?:Dockerfile|package\.json)$)/;
    const failures: string[] = [];
    for (const page of pages) {
      const text = read(page);
      const code = [...inlineCode(text), ...fences(text).map((f) => f.body)];
      for (const chunk of code)
        for (const token of chunk.split(/[\s`'"()[\]{},;=|]+/)) {
          const path = token
            .replace(/^\.\//, "")
            .replace(/#.*$/, "")
            .replace(/:\d+(?::\d+)?$/, "")
            .replace(/[.,:;!?]+$/, "");
          if (!looksLikePath.test(path) || /[*<$]/.test(path)) continue;
          if (!existsSync(join(root, path)))
            failures.push(`${page}: ${token}: no such path in the repository`);
        }
    }
    expect(failures).toEqual([]);
  });

  it("every TalosUpgradePlan shown is valid for the plan's schema", () => {
    const failures: string[] = [];
    for (const page of pages)
      for (const block of fences(read(page)).filter((f) => f.lang === "yaml")) {
        const plan = parse(block.body) as {
          apiVersion?: string;
          kind?: string;
          metadata?: { name?: string };
          spec?: unknown;
        };
        if (plan?.kind !== kind) continue;
        const name = plan.metadata?.name ?? "(no name)";
        if (plan.apiVersion !== `${group}/${version}`)
          failures.push(`${page}: plan ${name}: apiVersion ${plan.apiVersion}`);
        const result = planSpecSchema.safeParse(plan.spec);
        if (!result.success)
          for (const issue of result.error.issues)
            failures.push(`${page}: plan ${name}: spec.${issue.path.join(".")}: ${issue.message}`);
      }
    expect(failures).toEqual([]);
  });
});

describe("the Renovate example (docs/examples/renovate.json)", () => {
  type Manager = {
    customType: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    datasourceTemplate: string;
    depNameTemplate: string;
  };
  const exampleFile = "docs/examples/renovate.json";
  const config = JSON.parse(read(exampleFile)) as { customManagers: Manager[] };
  const depNames = { talos: "siderolabs/talos", kubernetes: "kubernetes/kubernetes" } as const;

  /** The versions the example's regexes capture in a text, by Renovate package name. */
  function captured(text: string): Record<string, string[]> {
    const found: Record<string, string[]> = { [depNames.talos]: [], [depNames.kubernetes]: [] };
    for (const manager of config.customManagers)
      for (const matchString of manager.matchStrings) {
        // Renovate's named groups, (?<currentValue>…), are JavaScript's; RE2's (?P<…>) spelling is not.
        const regex = new RegExp(matchString.replaceAll("(?P<", "(?<"), "g");
        for (const m of text.matchAll(regex)) {
          const value = m.groups?.currentValue;
          if (value === undefined) continue;
          found[manager.depNameTemplate] = [...(found[manager.depNameTemplate] ?? []), value];
        }
      }
    return found;
  }

  /** The versions a plan's YAML holds, as Renovate should find them. */
  function expected(yamlText: string): Record<string, string[]> {
    const spec = (
      parse(yamlText) as { spec?: { talos?: { version?: string }; kubernetes?: { version?: string } } }
    ).spec;
    return {
      [depNames.talos]: spec?.talos?.version ? [spec.talos.version] : [],
      [depNames.kubernetes]: spec?.kubernetes?.version ? [spec.kubernetes.version] : [],
    };
  }

  /** Where the example's captures differ from a plan's versions, one line per package. */
  function mismatches(where: string, text: string): string[] {
    const got = captured(text);
    const want = expected(text);
    return Object.keys(want)
      .filter((dep) => JSON.stringify(got[dep]) !== JSON.stringify(want[dep]))
      .map(
        (dep) =>
          `${exampleFile} on ${where}: ${dep}: captured ${JSON.stringify(got[dep])}, the plan has ${JSON.stringify(want[dep])}`,
      );
  }

  it("has a regex manager for each version, looked up in GitHub releases", () => {
    const failures: string[] = [];
    for (const manager of config.customManagers) {
      const name = `${exampleFile}: manager ${manager.depNameTemplate}`;
      if (manager.customType !== "regex") failures.push(`${name}: customType ${manager.customType}`);
      if (manager.datasourceTemplate !== "github-releases")
        failures.push(`${name}: datasourceTemplate ${manager.datasourceTemplate}`);
      if (!(manager.managerFilePatterns?.length > 0)) failures.push(`${name}: no managerFilePatterns`);
      for (const matchString of manager.matchStrings ?? [])
        if (!matchString.includes("(?<currentValue>"))
          failures.push(`${name}: matchString ${matchString} has no currentValue group`);
    }
    const names = config.customManagers.map((m) => m.depNameTemplate).sort();
    if (JSON.stringify(names) !== JSON.stringify([depNames.kubernetes, depNames.talos].sort()))
      failures.push(
        `${exampleFile}: managers for ${names.join(", ")}, not ${depNames.talos} and ${depNames.kubernetes}`,
      );
    expect(failures).toEqual([]);
  });

  it("is the snippet docs/gitops.md shows", () => {
    const snippets = fences(read("docs/gitops.md"))
      .filter((f) => f.lang === "json" && f.body.includes("customManagers"))
      .map((f) => JSON.parse(f.body) as unknown);
    const failures =
      snippets.length === 1
        ? differences(snippets[0], config, "").map(
            (path) =>
              `docs/gitops.md: its Renovate snippet differs from ${exampleFile} at ${path || "the top"}`,
          )
        : [
            `docs/gitops.md: ${snippets.length} Renovate snippets (json blocks with customManagers), one expected`,
          ];
    expect(failures).toEqual([]);
  });

  it("captures the versions of deploy/examples/talos-then-kubernetes.yaml", () => {
    const file = "deploy/examples/talos-then-kubernetes.yaml";
    const text = read(file);
    const want = expected(text);
    const failures = Object.entries(want)
      .filter(([, versions]) => versions.length !== 1)
      .map(([dep]) => `${file}: no ${dep} version to check the example against`);
    expect([...failures, ...mismatches(file, text)]).toEqual([]);
  });

  it("captures exactly the versions of every other plan: the examples and those on the docs' pages", () => {
    const plans: { where: string; text: string }[] = [
      ...readdirSync(join(root, "deploy", "examples"))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => ({ where: `deploy/examples/${f}`, text: read(`deploy/examples/${f}`) })),
      ...pages.flatMap((page) =>
        fences(read(page))
          .filter((f) => f.lang === "yaml" && /^kind: TalosUpgradePlan$/m.test(f.body))
          .map((f, n) => ({ where: `${page} (plan ${n + 1})`, text: f.body })),
      ),
    ];
    expect(plans.flatMap(({ where, text }) => mismatches(where, text))).toEqual([]);
  });
});
