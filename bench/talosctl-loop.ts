// The baseline: what a person would script. A bash loop of the real `talosctl upgrade --wait`, one
// node after another (control planes first), against a simulated fleet of the same size, timing
// and workloads, in a cluster of its own. On the legacy path Talos drains the node itself.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { scratchDir } from "../testkit/control-plane/shared-control-plane.ts";
import { tool } from "../testkit/control-plane/tools.ts";
import { vanillaSchematic } from "../testkit/fleet/fleet.ts";
import type { SimNode } from "../testkit/fleet/node.ts";
import { type ClusterShape, startBenchCluster } from "./cluster.ts";
import { lagRefusal, machineDrainsMs, type SimulatorLag, simulatorLag } from "./lag.ts";
import { gapsMs, idealMs, type Spread, spread } from "./measures.ts";
import { othersNice } from "./priority.ts";
import { targetVersion } from "./versions.ts";
import type { Workloads } from "./workloads.ts";

const run = promisify(execFile);

export interface LoopResult {
  nodes: number;
  /** Nodes the loop really upgraded; fewer than `nodes` when the rest is extrapolated. */
  upgraded: number;
  measuredWallMs: number;
  /** Wall time for the whole fleet: measured, or measured per node × nodes when `extrapolated`. */
  wallMs: number;
  extrapolated: boolean;
  idealMs: number;
  perNodeMs: number;
  /** The machine's apid answering again → the loop's next upgrade call (talosctl's own verification). */
  gapBackToCallMs: Spread;
  talosCallsPerNode: number;
  /** Talos' own drain phase in each upgrade: the loop's drains. */
  machineDrainMs: Spread;
  /** How far the simulator ran behind its own timing during the loop. */
  simulatorLag: SimulatorLag;
  /** Why the loop's figures are not to be trusted (the simulator lagged); absent when they are. */
  refused?: string;
  talosctlVersion: string;
  script: string;
  /** The pods the fleet ran, and how long they took to start. */
  workloads?: Workloads;
}

export async function runTalosctlLoop(
  c: ClusterShape & { maxNodes: number },
  say: (line: string) => void,
): Promise<LoopResult> {
  const talosctl = tool("talosctl", "talosctl");
  const cluster = await startBenchCluster(c, say);
  const { fleet, workloads } = cluster;
  try {
    const talosconfig = await fleet.talosconfigFor("bench-talosctl");
    const targets = fleet.nodes().slice(0, Math.min(c.nodes, c.maxNodes));
    const dir = scratchDir("bench-talosctl");
    const script = join(dir, "upgrade-all.sh");
    const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:${targetVersion}`;
    writeFileSync(
      script,
      [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        `export TALOSCONFIG=${talosconfig}`,
        `for node in ${targets.map((n) => n.address).join(" ")}; do`,
        `  ${talosctl} -n "$node" upgrade --image ${image} --wait --progress=plain`,
        "done",
        "",
      ].join("\n"),
    );
    const backAt = new Map<SimNode, number[]>(targets.map((n) => [n, []]));
    for (const node of targets) node.listen({ up: () => backAt.get(node)?.push(Date.now()) });
    const version =
      (await run(talosctl, ["version", "--client", "--short"])).stdout.trim().split("\n").at(-1) ?? "";
    say(`  ${version}: ${targets.length} of ${c.nodes} nodes, one after another (${script})`);
    const started = Date.now();
    // At the operator's priority (priority.ts): the loop and the operator meet the same host.
    await run("nice", ["-n", String(othersNice), "bash", script], {
      maxBuffer: 512 * 1024 * 1024,
      timeout: 4 * 3600_000,
    });
    const measuredWallMs = Date.now() - started;
    const notUpgraded = targets.filter((n) => n.version !== targetVersion).map((n) => n.hostname);
    if (notUpgraded.length > 0) throw new Error(`the talosctl loop left ${notUpgraded.join(", ")} behind`);
    const calls = fleet.nodes().flatMap((n) => n.calls.filter((x) => x.caller === "bench-talosctl"));
    const calledAt = calls.filter((x) => x.method === "/machine.MachineService/Upgrade").map((x) => x.at);
    const gaps = gapsMs([...backAt.values()].flat(), calledAt);
    const machines = targets.map((n) => ({ lag: n.lag, upgrades: n.upgrades, backAt: backAt.get(n) ?? [] }));
    const lag = simulatorLag(machines, started, c.timing);
    const drains = machineDrainsMs(machines, started);
    const refused = lagRefusal(lag);
    const perNodeMs = measuredWallMs / targets.length;
    const extrapolated = targets.length < c.nodes;
    return {
      nodes: c.nodes,
      upgraded: targets.length,
      measuredWallMs,
      wallMs: extrapolated ? perNodeMs * c.nodes : measuredWallMs,
      extrapolated,
      // One node at a time, each drained by Talos itself.
      idealMs: idealMs({
        controlPlanes: c.controlPlanes,
        workers: c.nodes - c.controlPlanes,
        budget: 1,
        timing: c.timing,
        drainMs: c.workload?.terminationMs ?? 0,
      }),
      perNodeMs,
      gapBackToCallMs: spread(gaps),
      talosCallsPerNode: calls.length / targets.length,
      machineDrainMs: spread(drains),
      simulatorLag: lag,
      ...(refused ? { refused } : {}),
      talosctlVersion: version,
      script,
      ...(workloads ? { workloads } : {}),
    };
  } finally {
    await cluster.stop();
  }
}
