// The printed table and the targets the issue sets, each with the measured value and the margin.
import { describeLag, lagLimit } from "./lag.ts";
import type { OperatorResult } from "./operator-run.ts";
import type { LoopResult } from "./talosctl-loop.ts";

export interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
}

const s = (ms: number | undefined) => (ms === undefined ? "-" : (ms / 1000).toFixed(1));
const ms = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(0));

/** How far a value misses its limit, as a share of the limit: 0.65× against 1.3× is 50% short. */
function margin(value: number, limit: number, lowerIsBetter = true): string {
  const over = lowerIsBetter ? value / limit - 1 : 1 - value / limit;
  return over > 0
    ? `${(over * 100).toFixed(0)}% ${lowerIsBetter ? "over" : "short of"} the target`
    : "within";
}

function loopFor(loops: LoopResult[], nodes: number): LoopResult | undefined {
  return loops.find((l) => l.nodes === nodes);
}

/** The check that a case's simulator kept to its timing; the case's other targets count only when it did. */
function lagCheck(label: string, r: OperatorResult | LoopResult): TargetCheck {
  return {
    target: `${label}: the simulator's p99 lag ≤ ${lagLimit * 100}% of its nominal timing`,
    value:
      r.refused ??
      `reboot ${describeLag(r.simulatorLag.reboot)}, upgrade ${describeLag(r.simulatorLag.upgrade)} ms`,
    met: r.refused === undefined,
  };
}

/**
 * The issue's targets: wall/ideal, gap p99, memory, requests and calls per node, the loop ratio;
 * none for a case refused because its simulator lagged, only that refusal.
 */
export function evaluateTargets(results: OperatorResult[], loops: LoopResult[]): TargetCheck[] {
  const checks: TargetCheck[] = loops.map((l) => lagCheck(`talosctl loop, ${l.nodes} nodes`, l));
  const atMost = (target: string, value: number, limit: number, unit = "") =>
    checks.push({
      target: `${target} ≤ ${limit}${unit}`,
      value: `${Number.isInteger(value) ? value : value.toFixed(2)}${unit} (${margin(value, limit)})`,
      met: value <= limit,
    });
  for (const r of results) {
    const label = `${r.nodes} nodes, maxUnavailable ${r.maxUnavailable}`;
    checks.push(lagCheck(label, r));
    // Started again as its Deployment would, the case goes on; an exit is a defect of the operator
    // whatever the simulator did.
    checks.push({
      target: `${label}: the operator runs without exiting`,
      value: `${r.operatorRestarts} restarts`,
      met: r.operatorRestarts === 0,
    });
    if (r.refused) continue;
    if (r.phase !== "Completed")
      checks.push({ target: `${label}: the plan completes`, value: r.phase, met: false });
    if (r.nodes === 100) atMost(`${label}: wall/ideal`, r.wallOverIdeal, 1.03);
    if (r.nodes === 1000) atMost(`${label}: wall/ideal`, r.wallOverIdeal, 1.1);
    const p99 = r.gapVerifiedToStartMs.p99;
    if (p99 !== undefined && r.nodes >= 100)
      atMost(`${label}: gap p99`, p99, r.nodes >= 1000 ? 250 : 100, " ms");
    if (r.nodes === 1000) atMost(`${label}: peak RSS`, Math.round(r.peakRssMiB), 200, " MiB");
    atMost(`${label}: RSS at rest, before the plan`, Math.round(r.idleRssMiB), 120, " MiB");
    atMost(`${label}: Talos calls per node`, r.talosCallsPerNode, 15);
    const verbs = Object.entries(r.kubeRequestsByVerb);
    // Evictions follow the pods (one each, and a PDB's refusals), Lease requests the time taken.
    const perNode =
      verbs
        .filter(([verb]) => verb !== "create pods/eviction" && !verb.endsWith(" leases"))
        .reduce((sum, [, n]) => sum + n, 0) / r.nodes;
    atMost(`${label}: Kubernetes requests per node besides evictions and Leases`, perNode, 10);
    const loop = loopFor(loops, r.nodes);
    if (loop && !loop.refused && r.nodes === 100) {
      const faster = loop.wallMs / r.wallMs;
      const limit = typeof r.maxUnavailable === "string" ? 8 : 1.3;
      const note = loop.extrapolated ? `, loop extrapolated from ${loop.upgraded} nodes` : "";
      checks.push({
        target: `${label}: ≥ ${limit}× the talosctl loop`,
        value: `${faster.toFixed(2)}×${note} (${margin(faster, limit, false)})`,
        met: faster >= limit,
      });
    }
  }
  return checks;
}

export function table(
  results: OperatorResult[],
  loops: LoopResult[],
  skipped: { nodes: number; maxUnavailable: number | string; why: string }[],
): string {
  const header = [
    "nodes",
    "maxUnav",
    "wall s",
    "ideal s",
    "wall/ideal",
    "gap p50/p99 ms",
    "back→call p50/p99",
    "kube req/node",
    "apiserver req/node",
    "talos calls/node",
    "RSS idle/peak MiB",
    "CPU s",
    "loop s",
    "op÷loop",
    "reboot lag ms",
    "upgrade lag ms",
  ];
  const rows = [...results]
    .sort((a, b) => a.nodes - b.nodes)
    .map((r) => {
      if (r.refused) return [String(r.nodes), String(r.maxUnavailable), `refused: ${r.refused}`];
      const loop = loopFor(loops, r.nodes);
      const compared = loop && !loop.refused ? loop : undefined;
      return [
        String(r.nodes),
        String(r.maxUnavailable),
        s(r.wallMs),
        s(r.idealMs),
        r.wallOverIdeal.toFixed(2),
        `${ms(r.gapVerifiedToStartMs.p50)}/${ms(r.gapVerifiedToStartMs.p99)}`,
        `${ms(r.gapBackToCallMs.p50)}/${ms(r.gapBackToCallMs.p99)}`,
        r.kubeRequestsPerNode.toFixed(1),
        r.apiserverRequestsPerNode.toFixed(1),
        r.talosCallsPerNode.toFixed(1),
        `${r.idleRssMiB.toFixed(0)}/${r.peakRssMiB.toFixed(0)}`,
        r.cpuSeconds.toFixed(1),
        compared ? `${s(compared.wallMs)}${compared.extrapolated ? "*" : ""}` : "-",
        compared ? (r.wallMs / compared.wallMs).toFixed(2) : "-",
        describeLag(r.simulatorLag.reboot),
        describeLag(r.simulatorLag.upgrade),
      ];
    });
  for (const skip of skipped)
    rows.push([String(skip.nodes), String(skip.maxUnavailable), `skipped: ${skip.why}`]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row.length > 3 ? (row[i] ?? "").length : 0))),
  );
  // A skipped or refused case is a note after its size and budget.
  const line = (cells: string[]) =>
    cells.length === 3
      ? `${cells[0]?.padStart(widths[0] ?? 0)}  ${cells[1]?.padStart(widths[1] ?? 0)}  ${cells[2]}`
      : cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  const loopLines = loops.map((l) =>
    l.refused
      ? `talosctl loop, ${l.nodes} nodes: refused: ${l.refused}`
      : `talosctl loop, ${l.nodes} nodes: ${s(l.measuredWallMs)} s for ${l.upgraded} node(s), ${s(l.perNodeMs)} s per node` +
        `${l.extrapolated ? `, ${s(l.wallMs)} s extrapolated to ${l.nodes} (*)` : ""}; ideal ${s(l.idealMs)} s; ` +
        `back→call p50/p99 ${ms(l.gapBackToCallMs.p50)}/${ms(l.gapBackToCallMs.p99)} ms; Talos' own drain p50/p99 ${ms(l.machineDrainMs.p50)}/${ms(l.machineDrainMs.p99)} ms; ` +
        `${l.talosCallsPerNode.toFixed(1)} Talos calls/node; ` +
        `simulator lag, reboot ${describeLag(l.simulatorLag.reboot)}, upgrade ${describeLag(l.simulatorLag.upgrade)} ms`,
  );
  const phaseLines = results.map((r) => {
    const p = r.phasesMs;
    const part = (x: { p50?: number; p99?: number }) => `${ms(x.p50)}/${ms(x.p99)}`;
    const cpu = Object.entries(r.rolloutCpuSeconds)
      .sort(([, a], [, b]) => b - a)
      .map(([name, seconds]) => `${name} ${seconds.toFixed(0)}`)
      .join(", ");
    return (
      `${r.nodes} nodes, maxUnavailable ${r.maxUnavailable}, per node p50/p99 ms: start → upgrade call ${part(p.toCall)}, ` +
      `call → back ${part(p.toBack)} (of it Talos' own drain ${part(r.machineDrainMs)}), back → verified ${part(p.toVerified)}; ` +
      `CPU s over the ${s(r.wallMs)} s rollout: ${cpu}` +
      (r.operatorRestarts > 0
        ? `; the operator exited and was started again ${r.operatorRestarts} times`
        : "")
    );
  });
  return [
    line(header),
    ...rows.map(line),
    "",
    ...phaseLines,
    "gap: status finishedAt (the operator verified a node) → the next node's startedAt (its cordon)",
    "back→call: the machine's apid answering again after its reboot → the next upgrade call",
    `reboot lag: how late the simulator's reboot timers fired, p50/p99/max ms (p99 as a share of R); upgrade lag: upgrade taken → apid back, beyond its nominal; a case whose p99 exceeds ${lagLimit * 100}% is refused`,
    "kube req/node: the operator's own requests (apiserver audit log, its ServiceAccount); apiserver req/node: apiserver_request_total, everyone",
    ...loopLines,
  ].join("\n");
}
