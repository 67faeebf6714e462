// How the simulator orders versions (Talos', Kubernetes'): semver precedence, read here on its
// own rather than through the operator's compareVersions. A simulated Talos that judged versions
// with the code under test would share its mistakes, and the tests would not see them.

const shape = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function parts(version: string): { core: number[]; pre: string[] } {
  const match = shape.exec(version);
  if (!match) throw new Error(`the simulator cannot order version ${JSON.stringify(version)}`);
  return { core: [1, 2, 3].map((i) => Number(match[i])), pre: match[4] ? match[4].split(".") : [] };
}

/** One pre-release identifier against another: numbers by value, below words; words by ASCII. */
function identifierOrder(a: string, b: string): number {
  const numeric = (s: string) => /^\d+$/.test(s);
  if (numeric(a) && numeric(b)) return Math.sign(Number(a) - Number(b));
  if (numeric(a) !== numeric(b)) return numeric(a) ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as `a` comes before, with or after `b`. */
export function compareVersions(a: string, b: string): number {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  // A release comes after its pre-releases.
  if (x.pre.length === 0 || y.pre.length === 0) return Math.sign(y.pre.length - x.pre.length);
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const d = identifierOrder(x.pre[i] ?? "", y.pre[i] ?? "");
    if (d !== 0) return d;
  }
  return Math.sign(x.pre.length - y.pre.length);
}
