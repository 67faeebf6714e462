// `npm run bench`: the operator against fleets of simulated Talos machines, side by side with a bash
// loop of the real `talosctl upgrade --wait`; results as JSON and a table. Not part of `npm test`.
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildOperator } from "../scripts/build.ts";
import { buildTools } from "../testkit/control-plane/build-tools.ts";
import { budgetOf } from "../testkit/e2e/oracles.ts";
import { defaultTiming } from "../testkit/fleet/fleet.ts";
import { describeLag, type SimulatorLag } from "./lag.ts";
import { idealFormula, idealMs } from "./measures.ts";
import { type OperatorResult, runOperatorCase } from "./operator-run.ts";
import { othersNice } from "./priority.ts";
import { evaluateTargets, table } from "./report.ts";
import { type LoopResult, runTalosctlLoop } from "./talosctl-loop.ts";
import { fromVersion, targetVersion } from "./versions.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000" },
    "max-unavailable": { type: "string", default: "1,10%" },
    "reboot-ms": { type: "string", default: "2000" },
    "control-planes": { type: "string", default: "3" },
    "max-ideal-s": { type: "string", default: "900" },
    "talosctl-max-nodes": { type: "string", default: "100" },
    "pods-per-worker": { type: "string", default: "20" },
    "pod-termination-ms": { type: "string", default: "2000" },
    "controllers-qps": { type: "string" },
    "no-talosctl": { type: "boolean", default: false },
    out: { type: "string", default: "bench-results.json" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(`npm run bench -- [options]
  --sizes 10,100,1000          fleet sizes (nodes, control planes included)
  --max-unavailable 1,10%      rollout.maxUnavailable values, each a case per size
  --reboot-ms 2000             simulated reboot time R (talosctl's tracker needs more than ~1 s)
  --control-planes 3
  --max-ideal-s 900            skip operator cases whose ideal time is longer (1000 nodes one at a time)
  --talosctl-max-nodes 100     the talosctl loop upgrades at most this many nodes; beyond, extrapolated
  --pods-per-worker 20         workload pods per worker (Deployments, StatefulSets, PDBs, a DaemonSet,
                               bare pods; the real controller-manager and scheduler); 0 for none
  --pod-termination-ms 2000    what a pod takes to stop once evicted (part of the ideal drain)
  --controllers-qps N          the controller-manager's and scheduler's request rate (burst 2N); without
                               it their defaults, 20 and 50, which pace how fast evicted pods come back
  --no-talosctl                leave the talosctl loop out
  --out bench-results.json
`);
  process.exit(0);
}

buildTools(values["no-talosctl"] ? ["kube"] : ["kube", "talosctl"]);
// The operator runs as the image runs it, built to JavaScript: from its TypeScript sources Node.js
// loads a type stripper as well, about 30 MiB of resident memory the product does not have.
const root = resolve(import.meta.dirname, "..");
await buildOperator();
const operatorEntry = resolve(root, "dist/src/main.js");
const say = (line: string) => process.stdout.write(`${line}\n`);
const sizes = values.sizes.split(",").map(Number);
const budgets = values["max-unavailable"].split(",").map((v) => (v.endsWith("%") ? v : Number(v)));
const controlPlanes = Number(values["control-planes"]);
const timing = { ...defaultTiming, rebootMs: Number(values["reboot-ms"]) };
const maxIdealMs = Number(values["max-ideal-s"]) * 1000;
const podsPerWorker = Number(values["pods-per-worker"]);
const workload =
  podsPerWorker > 0 ? { podsPerWorker, terminationMs: Number(values["pod-termination-ms"]) } : undefined;
const drainMs = workload?.terminationMs ?? 0;
const controllersQps =
  values["controllers-qps"] === undefined ? undefined : Number(values["controllers-qps"]);

const startedAt = new Date();
const out = resolve(values.out);
const operatorResults: OperatorResult[] = [];
const loopResults: LoopResult[] = [];
const skipped: { nodes: number; maxUnavailable: number | string; why: string }[] = [];
say(
  `talos-upgrade-operator bench, ${startedAt.toISOString()}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"})`,
);
say(
  `Talos ${fromVersion} → ${targetVersion} on the legacy MachineService.Upgrade path, R = ${timing.rebootMs} ms`,
);
say(idealFormula);
say(
  `the control plane, the operator and the talosctl loop run at nice ${othersNice}, the simulator and the kubelet stand-in (this process) at its own`,
);
say(
  workload
    ? `workloads: ${workload.podsPerWorker} pods per worker, ${workload.terminationMs} ms to stop (drainMs)`
    : "no workload pods: every drain is instant",
);
say(
  controllersQps === undefined
    ? "controller-manager and scheduler at their default request rates (20 and 50 per second)"
    : `controller-manager and scheduler at ${controllersQps} requests per second (burst ${2 * controllersQps})`,
);

function results() {
  return {
    date: startedAt.toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? "unknown" },
    versions: {
      from: fromVersion,
      to: targetVersion,
      apiPath: "MachineService.Upgrade (legacy), both tools",
    },
    timing,
    workload: workload ?? "none",
    controllersQps: controllersQps ?? "defaults",
    controlPlanes,
    idealFormula,
    othersNice,
    operator: operatorResults,
    talosctlLoop: loopResults,
    skipped,
    targets: evaluateTargets(operatorResults, loopResults),
  };
}
/** Written after every case, so that a run cut short keeps what it measured. */
const save = () => writeFileSync(out, `${JSON.stringify(results(), null, 2)}\n`);
const sayLag = (lag: SimulatorLag, refused: string | undefined) => {
  say(
    `  simulator lag p50/p99/max ms (p99 share): reboot ${describeLag(lag.reboot)}, upgrade ${describeLag(lag.upgrade)} (its timers ${describeLag(lag.upgradeTimers)})`,
  );
  if (refused) say(`  REFUSED, its figures not counted: ${refused}`);
};

for (const nodes of sizes) {
  const workers = nodes - controlPlanes;
  for (const maxUnavailable of budgets) {
    const budget = budgetOf(maxUnavailable, workers);
    const ideal = idealMs({ controlPlanes, workers, budget, timing, drainMs });
    if (ideal > maxIdealMs) {
      const why = `ideal time ${(ideal / 60_000).toFixed(1)} min exceeds --max-ideal-s ${maxIdealMs / 1000}`;
      skipped.push({ nodes, maxUnavailable, why });
      say(`\n${nodes} nodes, maxUnavailable ${maxUnavailable}: skipped, ${why}`);
      continue;
    }
    say(`\n${nodes} nodes, maxUnavailable ${maxUnavailable} (${budget} workers at once): the operator`);
    const started = Date.now();
    const result = await runOperatorCase(
      {
        nodes,
        controlPlanes,
        maxUnavailable,
        timing,
        timeoutMs: Math.max(900_000, ideal * 6),
        ...(workload ? { workload } : {}),
        operatorEntry,
        ...(controllersQps === undefined ? {} : { controllersQps }),
      },
      say,
    );
    operatorResults.push(result);
    save();
    say(
      `  ${result.phase} in ${(result.wallMs / 1000).toFixed(1)} s, ideal ${(ideal / 1000).toFixed(1)} s (case ${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
    sayLag(result.simulatorLag, result.refused);
  }
  if (!values["no-talosctl"]) {
    say(`\n${nodes} nodes: the talosctl loop`);
    const started = Date.now();
    const loop = await runTalosctlLoop(
      {
        nodes,
        controlPlanes,
        timing,
        maxNodes: Number(values["talosctl-max-nodes"]),
        ...(workload ? { workload } : {}),
        ...(controllersQps === undefined ? {} : { controllersQps }),
      },
      say,
    );
    loopResults.push(loop);
    save();
    say(
      `  ${(loop.measuredWallMs / 1000).toFixed(1)} s for ${loop.upgraded} nodes${loop.extrapolated ? `, ${(loop.wallMs / 1000).toFixed(0)} s extrapolated to ${nodes}` : ""} (case ${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
    sayLag(loop.simulatorLag, loop.refused);
  }
}

save();
say(`\n${table(operatorResults, loopResults, skipped)}`);
say("\nTargets:");
for (const t of results().targets) say(`  ${t.met ? "met   " : "MISSED"} ${t.target}: ${t.value}`);
say(`\nResults: ${out}`);
