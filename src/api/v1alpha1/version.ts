// Semantic versions as Talos and Kubernetes write them ("v1.12.4", "1.13.0-alpha.2").

const pattern = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

// Every pass compares the same few versions many times over (each node against each step of the
// path); parsing each text once keeps a 1000-node pass from spending its time in the regex.
const parsed = new Map<string, Readonly<Version>>();
const parsedLimit = 4096;

export function parseVersion(text: string): Readonly<Version> {
  const known = parsed.get(text);
  if (known) return known;
  const match = pattern.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a semantic version such as v1.12.4`);
  const [, major, minor, patch, prerelease] = match;
  const version = Object.freeze({
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease: prerelease ?? "",
  });
  if (parsed.size >= parsedLimit) parsed.clear();
  parsed.set(text, version);
  return version;
}

/** Negative, zero or positive as a sorts before, with or after b; a pre-release sorts before its release. */
export function compareVersions(a: string | Version, b: string | Version): number {
  const x = typeof a === "string" ? parseVersion(a) : a;
  const y = typeof b === "string" ? parseVersion(b) : b;
  for (const key of ["major", "minor", "patch"] as const) {
    if (x[key] !== y[key]) return x[key] - y[key];
  }
  if (x.prerelease === y.prerelease) return 0;
  if (x.prerelease === "") return 1;
  if (y.prerelease === "") return -1;
  return comparePrerelease(x.prerelease, y.prerelease);
}

function comparePrerelease(a: string, b: string): number {
  const left = a.split(".");
  const right = b.split(".");
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i];
    const r = right[i];
    if (l === undefined) return -1;
    if (r === undefined) return 1;
    const ln = /^\d+$/.test(l) ? Number(l) : Number.NaN;
    const rn = /^\d+$/.test(r) ? Number(r) : Number.NaN;
    if (!Number.isNaN(ln) && !Number.isNaN(rn)) {
      if (ln !== rn) return ln - rn;
    } else if (Number.isNaN(ln) !== Number.isNaN(rn)) {
      return Number.isNaN(ln) ? 1 : -1;
    } else if (l !== r) {
      return l < r ? -1 : 1;
    }
  }
  return 0;
}

/** "v1.12" for v1.12.4: the release line a version belongs to. */
export function minorOf(text: string): string {
  const v = parseVersion(text);
  return `v${v.major}.${v.minor}`;
}
