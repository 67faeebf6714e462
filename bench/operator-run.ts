// One operator case: a fresh control plane (etcd + kube-apiserver, with an audit log of the
// operator's requests; with workloads, the controller-manager and scheduler too), a simulated
// fleet with its kubelet stand-in, the operator as a process under its least-privilege
// ServiceAccount, and one plan applied; measured until it completes.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { auditRequests, operatorUser } from "../testkit/control-plane/audit.ts";
import { prepareE2eCluster } from "../testkit/control-plane/e2e-cluster.ts";
import { scratchDir } from "../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../testkit/control-plane/wait.ts";
import { type OperatorProcess, startOperator } from "../testkit/e2e/operator-process.ts";
import { budgetOf } from "../testkit/e2e/oracles.ts";
import { fleetLabel } from "../testkit/fleet/kubelet.ts";
import { type ClusterShape, startBenchCluster } from "./cluster.ts";
import { lagRefusal, machineDrainsMs, type SimulatorLag, simulatorLag } from "./lag.ts";
import { counterTotal, gapsMs, idealMs, nodePhasesMs, type Spread, spread } from "./measures.ts";
import { lowerPriority } from "./priority.ts";
import { procUsage } from "./proc.ts";
import { type Supervised, supervise } from "./supervisor.ts";
import { targetVersion } from "./versions.ts";
import type { Workloads } from "./workloads.ts";

export interface OperatorCase extends ClusterShape {
  maxUnavailable: number | string;
  timeoutMs: number;
  /** The operator's built entry point (dist/src/main.js): what the image runs. */
  operatorEntry: string;
}

export interface OperatorResult {
  nodes: number;
  maxUnavailable: number | string;
  budget: number;
  /** The pods the fleet ran, and how long they took to start. */
  workloads?: Workloads;
  phase: string;
  wallMs: number;
  idealMs: number;
  wallOverIdeal: number;
  /** Status finishedAt (the operator verified a node) → the next node's startedAt (its cordon). */
  gapVerifiedToStartMs: Spread;
  /** The machine's apid answering again after its reboot → the next upgrade call. */
  gapBackToCallMs: Spread;
  /** Where each node's time went (measures.ts, nodePhasesMs). */
  phasesMs: Record<"toCall" | "toBack" | "toVerified", Spread>;
  /** Talos' own drain phase in each upgrade the operator called (what it left machined to evict). */
  machineDrainMs: Spread;
  /** How far the simulator ran behind its own timing during the rollout. */
  simulatorLag: SimulatorLag;
  /** Why the case's figures are not to be trusted (the simulator lagged); absent when they are. */
  refused?: string;
  kubeRequestsPerNode: number;
  kubeRequestsByVerb: Record<string, number>;
  apiserverRequestsPerNode: number;
  talosCallsPerNode: number;
  talosCallsByMethod: Record<string, number>;
  /** Resident memory once leading, before the plan is applied. */
  idleRssMiB: number;
  peakRssMiB: number;
  cpuSeconds: number;
  /**
   * CPU seconds each process spent from the plan's apply to its end: the operator, the control
   * plane's components, and the bench's own (the simulator, the kubelet stand-in, the polling).
   */
  rolloutCpuSeconds: Record<string, number>;
  /** How many times the operator exited on its own and was started again, as its Deployment would. */
  operatorRestarts: number;
  operatorLog: string;
}

const upgradeMethod = "/machine.MachineService/Upgrade";

interface StatusView {
  phase?: string;
  nodes?: { name: string; state: string; startedAt?: string; finishedAt?: string; message?: string }[];
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

function auditPolicy(dir: string): string {
  const path = join(dir, "audit-policy.yaml");
  // Only the operator's requests are logged, at Metadata level: enough to count them by verb.
  writeFileSync(
    path,
    [
      "apiVersion: audit.k8s.io/v1",
      "kind: Policy",
      "omitStages: [RequestReceived]",
      "rules:",
      "  - level: Metadata",
      `    users: ["${operatorUser}"]`,
      "  - level: None",
      "",
    ].join("\n"),
  );
  return path;
}

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

export async function runOperatorCase(c: OperatorCase, say: (line: string) => void): Promise<OperatorResult> {
  const dir = scratchDir("bench");
  const auditLog = join(dir, "audit.log");
  let operatorKubeconfig = "";
  const cluster = await startBenchCluster(
    {
      ...c,
      apiServerFlags: [`--audit-policy-file=${auditPolicy(dir)}`, `--audit-log-path=${auditLog}`],
      prepare: async (plane) => {
        operatorKubeconfig = (await prepareE2eCluster(plane)).operatorKubeconfig;
      },
    },
    say,
  );
  const { plane, admin, kubectl, fleet, workloads } = cluster;
  let operator: Supervised<OperatorProcess> | undefined;
  try {
    const talosconfig = await fleet.talosconfigFor("bench-operator");
    const startOne = () => {
      const started = startOperator({
        kubeconfig: operatorKubeconfig,
        talosconfig,
        planSelector: "",
        // The same POD_NAME every run, as a container restarted in its pod has.
        identity: "bench-operator",
        // The production defaults where the e2e tests shorten them: facts cached for 60 s, the
        // leader Lease renewed every 2 s (it counts in the operator's Kubernetes requests).
        entry: c.operatorEntry,
        env: {
          FACTS_TTL_MS: "60000",
          TALOS_DEADLINE_MS: "15000",
          LEASE_DURATION_MS: "15000",
          RENEW_DEADLINE_MS: "10000",
          RETRY_PERIOD_MS: "2000",
          LOG_LEVEL: "info",
        },
      });
      const notLowered = lowerPriority(started.pid);
      if (notLowered) say(`  ${notLowered}`);
      return started;
    };
    operator = supervise(startOne, {
      ticksPerSecond: clockTicks,
      maxRestarts: 3,
      restarted: (code, n) =>
        say(`  the operator exited (code ${code}) and was started again (restart ${n})`),
    });
    const supervised = operator;
    await waitUntil("the operator leads", async () => /"msg":"leading"/.test(supervised.current().logs()), {
      timeoutMs: 120_000,
      alive: () => supervised.current().running(),
      describe: () => supervised.current().logs(),
    });

    const metricsBefore = counterTotal(kubectl(["get", "--raw", "/metrics"]), "apiserver_request_total");
    const backAt = new Map<string, number[]>();
    for (const node of fleet.nodes())
      node.listen({ up: (n) => backAt.set(n.hostname, [...(backAt.get(n.hostname) ?? []), Date.now()]) });

    const plan = {
      apiVersion: "upgrade.talos-operator.dev/v1alpha1",
      kind: "TalosUpgradePlan",
      metadata: { name: "bench" },
      spec: {
        talos: { version: targetVersion },
        nodeSelector: { matchLabels: { [fleetLabel]: fleet.name } },
        rollout: { maxUnavailable: c.maxUnavailable, nodeTimeout: "10m" },
      },
    };
    // Leading, its caches filled, no plan yet: the operator at rest.
    const idle = procUsage(supervised.current().pid, clockTicks);
    const processes = plane.pidsByName();
    const cpuOf = (): Record<string, number> => {
      const own = process.cpuUsage();
      supervised.sample();
      return {
        operator: supervised.usage().cpuSeconds,
        ...Object.fromEntries(
          Object.entries(processes).map(([name, pid]) => [name, procUsage(pid, clockTicks).cpuSeconds]),
        ),
        bench: (own.user + own.system) / 1e6,
      };
    };
    const cpuBefore = cpuOf();
    const applied = Date.now();
    kubectl(["apply", "-f", "-"], JSON.stringify(plan));
    const plans = admin.makeApiClient(CustomObjectsApi);
    let status: StatusView = {};
    let lastSaid = 0;
    for (;;) {
      // A poll that fails (the apiserver closing a busy HTTP/2 connection) is retried, not fatal.
      const object = (await plans
        .getClusterCustomObject({
          group: "upgrade.talos-operator.dev",
          version: "v1alpha1",
          plural: "talosupgradeplans",
          name: "bench",
        })
        .catch(() => ({ status }))) as { status?: StatusView & { progress?: string } };
      status = object.status ?? {};
      if (status.phase === "Completed" || status.phase === "Failed") break;
      if (Date.now() - applied > c.timeoutMs) break;
      if (Date.now() - lastSaid > 15_000) {
        say(
          `  ${((Date.now() - applied) / 1000).toFixed(0)} s: ${status.phase ?? "Pending"} ${object.status?.progress ?? ""}`,
        );
        lastSaid = Date.now();
      }
      supervised.sample();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const wallMs = Date.now() - applied;
    const cpuAfter = cpuOf();
    const rolloutCpu = Object.fromEntries(
      Object.entries(cpuAfter).map(([name, seconds]) => [name, seconds - (cpuBefore[name] ?? 0)]),
    );
    supervised.sample();
    const usage = supervised.usage();
    const metricsAfter = counterTotal(kubectl(["get", "--raw", "/metrics"]), "apiserver_request_total");
    const ended = Date.now();
    await supervised.stop();
    if (status.phase !== "Completed") {
      say(`  the plan did not complete: ${JSON.stringify(status.conditions)}`);
    }

    const calls = fleet.nodes().flatMap((n) => n.calls.filter((call) => call.caller === "bench-operator"));
    const byMethod: Record<string, number> = {};
    for (const call of calls) byMethod[call.method] = (byMethod[call.method] ?? 0) + 1;
    const calledAt = calls.filter((x) => x.method === upgradeMethod).map((x) => x.at);
    const verified = (status.nodes ?? []).flatMap((e) => (e.finishedAt ? [Date.parse(e.finishedAt)] : []));
    const startedAt = (status.nodes ?? []).flatMap((e) => (e.startedAt ? [Date.parse(e.startedAt)] : []));
    const back = [...backAt.values()].flat();
    const machines = fleet
      .nodes()
      .map((n) => ({ lag: n.lag, upgrades: n.upgrades, backAt: backAt.get(n.hostname) ?? [] }));
    const lag = simulatorLag(machines, applied, c.timing);
    const refused = lagRefusal(lag);
    const entries = new Map((status.nodes ?? []).map((e) => [e.name, e]));
    const at = (time?: string) => (time ? Date.parse(time) : undefined);
    const phases = nodePhasesMs(
      fleet.nodes().map((n) => ({
        startedAt: at(entries.get(n.hostname)?.startedAt),
        calledAt: n.calls
          .filter((x) => x.caller === "bench-operator" && x.method === upgradeMethod)
          .map((x) => x.at),
        backAt: backAt.get(n.hostname) ?? [],
        finishedAt: at(entries.get(n.hostname)?.finishedAt),
      })),
    );
    const audit = auditRequests(readFileSync(auditLog, "utf8"), operatorUser, applied - 1_000, ended);
    const workers = c.nodes - c.controlPlanes;
    const budget = budgetOf(c.maxUnavailable, workers);
    // A drain evicts a node's pods at once; they take the termination time to stop.
    const ideal = idealMs({
      controlPlanes: c.controlPlanes,
      workers,
      budget,
      timing: c.timing,
      drainMs: c.workload?.terminationMs ?? 0,
    });
    return {
      nodes: c.nodes,
      maxUnavailable: c.maxUnavailable,
      budget,
      ...(workloads ? { workloads } : {}),
      phase: status.phase ?? "none",
      wallMs,
      idealMs: ideal,
      wallOverIdeal: wallMs / ideal,
      gapVerifiedToStartMs: spread(gapsMs(verified, startedAt)),
      gapBackToCallMs: spread(gapsMs(back, calledAt)),
      phasesMs: {
        toCall: spread(phases.toCall),
        toBack: spread(phases.toBack),
        toVerified: spread(phases.toVerified),
      },
      machineDrainMs: spread(machineDrainsMs(machines, applied)),
      simulatorLag: lag,
      ...(refused ? { refused } : {}),
      kubeRequestsPerNode: audit.requests / c.nodes,
      kubeRequestsByVerb: audit.byVerb,
      apiserverRequestsPerNode: (metricsAfter - metricsBefore) / c.nodes,
      talosCallsPerNode: calls.length / c.nodes,
      talosCallsByMethod: byMethod,
      idleRssMiB: idle.rssMiB,
      peakRssMiB: usage.peakRssMiB,
      cpuSeconds: usage.cpuSeconds,
      rolloutCpuSeconds: rolloutCpu,
      operatorRestarts: supervised.restarts(),
      operatorLog: supervised.current().logFile,
    };
  } finally {
    await operator?.stop();
    await cluster.stop();
  }
}
