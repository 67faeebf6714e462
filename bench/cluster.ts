// The cluster a bench case runs in: a fresh control plane (etcd and kube-apiserver; with workloads,
// the controller-manager and scheduler too), a simulated fleet joined to it by the kubelet stand-in
// (machined drains in the legacy upgrade, as Talos does), and the fleet's workload pods Ready.
// The operator's case and the talosctl loop's each get one, built the same way.
import { execFileSync } from "node:child_process";
import { KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "../testkit/control-plane/control-plane.ts";
import { Fleet } from "../testkit/fleet/fleet.ts";
import { Kubelets } from "../testkit/fleet/kubelet.ts";
import type { Timing } from "../testkit/fleet/node.ts";
import { lowerPriority } from "./priority.ts";
import { fromVersion } from "./versions.ts";
import { startWorkloads, type WorkloadShape, type Workloads } from "./workloads.ts";

export interface ClusterShape {
  nodes: number;
  controlPlanes: number;
  timing: Timing;
  /** Workload pods on the fleet; none when left out (every drain is instant). */
  workload?: WorkloadShape;
  /**
   * The request rate (`--kube-api-qps`, burst twice that) of the controller-manager and the
   * scheduler; their own defaults (20 and 50) when left out.
   */
  controllersQps?: number;
}

export interface BenchCluster {
  plane: ControlPlane;
  admin: KubeConfig;
  kubectl: (args: string[], input?: string) => string;
  fleet: Fleet;
  workloads?: Workloads;
  stop(): Promise<void>;
}

const clientRate = (qps: number | undefined) =>
  qps === undefined ? [] : [`--kube-api-qps=${qps}`, `--kube-api-burst=${2 * qps}`];

/**
 * Starts the cluster; `prepare` runs once the control plane answers, before the fleet joins (the
 * operator's case installs its CRDs and ServiceAccount there).
 */
export async function startBenchCluster(
  c: ClusterShape & { apiServerFlags?: string[]; prepare?: (plane: ControlPlane) => Promise<void> },
  say: (line: string) => void,
): Promise<BenchCluster> {
  const plane = await ControlPlane.start({
    controllers: c.workload !== undefined,
    // Node leases are renewed rarely (below): the node lifecycle controller must not take that
    // for a lost node.
    controllerManagerFlags: ["--node-monitor-grace-period=10m", ...clientRate(c.controllersQps)],
    schedulerFlags: clientRate(c.controllersQps),
    apiServerFlags: c.apiServerFlags ?? [],
  });
  let fleet: Fleet | undefined;
  let kubelets: Kubelets | undefined;
  const stop = async () => {
    await kubelets?.stop();
    await fleet?.stop();
    await plane.stop();
  };
  try {
    for (const pid of plane.pids()) {
      const notLowered = lowerPriority(pid);
      if (notLowered) say(`  ${notLowered}`);
    }
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfigPath);
    const kubectl = (args: string[], input?: string) =>
      execFileSync("kubectl", ["--kubeconfig", plane.kubeconfigPath, ...args], {
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        ...(input ? { input } : {}),
      });
    await c.prepare?.(plane);
    const started = Date.now();
    fleet = await Fleet.start({
      controlPlanes: c.controlPlanes,
      workers: c.nodes - c.controlPlanes,
      talosVersion: fromVersion,
      timing: c.timing,
      namePrefix: "bench-",
    });
    kubelets = await Kubelets.start(fleet, admin, {
      leaseRenewMs: 60_000,
      podReadyMs: 100,
      podTerminationMs: c.workload?.terminationMs ?? 0,
    });
    say(`  fleet of ${c.nodes} and its Nodes ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const workloads = c.workload
      ? await startWorkloads(admin, fleet.name, c.nodes, c.nodes - c.controlPlanes, c.workload)
      : undefined;
    if (workloads)
      say(`  ${workloads.pods} workload pods Ready in ${(workloads.readyInMs / 1000).toFixed(1)} s`);
    return { plane, admin, kubectl, fleet, ...(workloads ? { workloads } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
