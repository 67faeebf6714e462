// What Flux sees: kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, the library Flux's health
// checks compute readiness with), built as the `kstatus` tool, run over every plan fixture of the
// Argo CD health check (deploy/argocd/testdata). The expected verdicts are what kstatus v0.37.2
// answers, not what the plan means: where the two differ, the comment says so.
//
// kstatus' order: metadata.deletionTimestamp → Terminating; then, when status.observedGeneration is
// set and differs from metadata.generation → InProgress; then the first condition in list order that
// is Reconciling=True (InProgress) or Stalled=True (Failed); then a Ready condition (True → Current,
// False or Unknown → InProgress); else Current. Its message is the deciding condition's message.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { tool } from "../../testkit/control-plane/tools.ts";

const testdata = join(import.meta.dirname, "..", "..", "deploy", "argocd", "testdata");

interface Verdict {
  status: "Current" | "InProgress" | "Failed" | "Terminating" | "NotFound" | "Unknown";
  message: string;
}

function kstatus(input: string): { code: number | null; verdict?: Verdict; stderr: string } {
  const run = spawnSync(tool("kstatus", "kstatus"), [], { input, encoding: "utf8", timeout: 30_000 });
  if (run.error) throw run.error;
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  const verdict =
    run.status === 0 && lines.length === 1 ? (JSON.parse(lines[0] ?? "") as Verdict) : undefined;
  return { code: run.status, verdict, stderr: run.stderr };
}

const fixture = (name: string) => readFileSync(join(testdata, name), "utf8");

const expected: Record<string, Verdict> = {
  // Completed: Reconciling and Stalled False, Ready True → Current, with kstatus' own message.
  "healthy.yaml": { status: "Current", message: "Resource is Ready" },
  // Upgrading: Reconciling True → InProgress, its message.
  "progressing.yaml": { status: "InProgress", message: "2/6 nodes upgraded" },
  // Outside every window: Reconciling True → InProgress. Flux waits as for an upgrade under way.
  "waiting-for-window.yaml": { status: "InProgress", message: "outside every maintenance window" },
  // Paused: no Reconciling or Stalled True (the operator writes both False), so Ready False decides
  // → InProgress. Flux keeps waiting on a plan that will not move until someone unpauses it.
  "paused.yaml": { status: "InProgress", message: "spec.paused is true: no new node is started" },
  // Dry run: Reconciling and Stalled False, Ready False (reason DryRun) → InProgress, for good: the
  // plan never becomes Ready, so a Flux health check on it can only time out.
  "dry-run.yaml": { status: "InProgress", message: "dry run: 6 node(s) would be upgraded" },
  // Failed for good (rolled back): Stalled True, Reconciling False → Failed, Stalled's message.
  "degraded.yaml": { status: "Failed", message: "node cp-2 failed: rolled back by Talos" },
  // A failed etcd snapshot the operator will try again: it writes Stalled True and Reconciling True,
  // Stalled first in the list, so kstatus stops there → Failed, as Argo CD says Degraded.
  "stalled.yaml": {
    status: "Failed",
    message:
      "etcd snapshot of cp-2 failed (attempt 1): snapshot truncated; control planes wait, next attempt in 20s",
  },
  // A new spec not yet observed: observedGeneration 2 ≠ generation 3 → InProgress, whatever the
  // (stale) Ready True says.
  "stale-generation.yaml": {
    status: "InProgress",
    message: "TalosUpgradePlan generation is 3, but latest observed generation is 2",
  },
  // No status yet: no observedGeneration to compare and no condition at all, so kstatus assumes the
  // object is reconciled → Current, before the operator has looked at the plan.
  "no-status.yaml": { status: "Current", message: "Resource is current" },
};

describe("kstatus (Flux's readiness rules) on the TalosUpgradePlan fixtures", () => {
  it("has an expectation for every fixture in deploy/argocd/testdata", () => {
    const fixtures = readdirSync(testdata).filter((f) => f.endsWith(".yaml"));
    expect(Object.keys(expected).sort()).toEqual(fixtures.sort());
  });

  it.each(Object.entries(expected))("%s is %j", (name, verdict) => {
    const run = kstatus(fixture(name));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.verdict).toEqual(verdict);
  });

  it("reads the same object as JSON", () => {
    const run = kstatus(JSON.stringify(parse(fixture("degraded.yaml"))));
    expect(run.verdict).toEqual(expected["degraded.yaml"]);
  });

  it("decides a plan with Reconciling and Stalled both True by whichever is listed first", () => {
    // Why the operator lists Stalled first: the other way round, kstatus stops at Reconciling.
    const plan = parse(fixture("stalled.yaml"));
    const conditions = plan.status.conditions as { type: string }[];
    plan.status.conditions = [
      ...conditions.filter((c) => c.type === "Reconciling"),
      ...conditions.filter((c) => c.type !== "Reconciling"),
    ];
    expect(kstatus(JSON.stringify(plan)).verdict).toEqual({
      status: "InProgress",
      message: expected["stalled.yaml"]?.message,
    });
  });

  it("says Terminating for a plan being deleted, whatever its conditions", () => {
    // metadata.deletionTimestamp is checked before anything else → Terminating.
    const plan = parse(fixture("progressing.yaml"));
    plan.metadata.deletionTimestamp = "2026-11-28T02:00:00Z";
    expect(kstatus(JSON.stringify(plan)).verdict).toEqual({
      status: "Terminating",
      message: "Resource scheduled for deletion",
    });
  });

  it.each([
    ["not YAML", "status: [", "the input is not YAML or JSON"],
    ["empty", "", "the input holds no object"],
    ["two documents", `${fixture("healthy.yaml")}---\n${fixture("paused.yaml")}`, "more than one document"],
    ["a list", "[1, 2]\n", "the input is not an object"],
    ["no kind", "apiVersion: v1\nmetadata: { name: x }\n", "not a Kubernetes object"],
  ])("refuses %s input with a message and a non-zero exit", (_what, input, message) => {
    const run = kstatus(input);
    expect(run.code).not.toBe(0);
    expect(run.verdict).toBeUndefined();
    expect(run.stderr).toContain(message);
  });
});
