// The faults matrix: every fault the Talos fleet simulator can inject, at each step of a node's
// upgrade where it can strike, with the outcome the operator must produce. faults-matrix.test.ts
// runs each row; docs/faults.md shows the same rows (rendered by faults-doc.ts, kept in sync by a test).
import type { Faults } from "../../testkit/fleet/node.ts";

/** Where in a node's upgrade the fault strikes. */
export type Step =
  | "pre-flight pull"
  | "gates before a node"
  | "drain → upgrade call"
  | "upgrade call"
  | "reboot"
  | "verification"
  | "installer write"
  | "Kubernetes pre-pull"
  | "control plane component"
  | "kubelet";

/** When the test injects it. */
export type Moment = "before the plan" | "when the node is cordoned" | "when the node is back up";

export type UpgradePhase = "Talos" | "Kubernetes";

export interface FaultCase {
  phase: UpgradePhase;
  /** The Faults field (or `apidOutage`, `spec.talos.image`), as the table names it. */
  fault: string;
  /** What is injected: simulator faults, an apid outage of this long, or a plan image the registry lacks. */
  inject: { faults?: Faults; apidOutageMs?: number; image?: string };
  /** The node it hits, by its short name in a fleet of cp-1, worker-1, worker-2. */
  node: "cp-1" | "worker-1";
  moment: Moment;
  step: Step;
  /** Plan spec fields that the row needs (short timeouts), over the defaults of the test. */
  spec?: { rollout?: { nodeTimeout: string }; healthChecks?: { timeout: string } };
  expected: {
    planPhase: "Completed" | "Failed" | "Pending" | "UpgradingTalos" | "UpgradingKubernetes";
    /** The Stalled condition's reason, or the Ready condition's when the plan completes. */
    reason: string;
    /** The node's entry in status.nodes; in the Kubernetes phase, its first task not Done. */
    node: { state: "Done" | "Failed" | "Pending"; reason?: string; message?: string };
    /** Nodes left cordoned at the end (short names). */
    cordoned: string[];
    /** Whether the nodes after the faulty one get an upgrade call (Kubernetes phase: a configuration patch). */
    laterNodes: "upgraded" | "untouched";
  };
}

const short = { rollout: { nodeTimeout: "5s" } };
const gateTimeout = { healthChecks: { timeout: "3s" } };
const refusal = "config rejected by the simulator";

/** The fault changes nothing the plan ends with: completed, every node done, nothing cordoned. */
const completed: FaultCase["expected"] = {
  planPhase: "Completed",
  reason: "Succeeded",
  node: { state: "Done" },
  cordoned: [],
  laterNodes: "upgraded",
};

/** worker-1 not back within the row's nodeTimeout: the plan fails there, the node left cordoned. */
const workerTimedOut = (message: string): FaultCase["expected"] => ({
  planPhase: "Failed",
  reason: "NodeTimeout",
  node: { state: "Failed", reason: "NodeTimeout", message },
  cordoned: ["worker-1"],
  laterNodes: "untouched",
});

/** Talos refuses the configuration patch of a Kubernetes task: the plan fails on that task. */
const patchRefused = (node: FaultCase["node"], step: Step): FaultCase => ({
  phase: "Kubernetes",
  fault: "applyConfigurationError",
  inject: { faults: { applyConfigurationError: refusal } },
  node,
  moment: "before the plan",
  step,
  expected: {
    planPhase: "Failed",
    reason: "ConfigPatchRefused",
    node: { state: "Failed", reason: "ConfigPatchRefused", message: refusal },
    cordoned: [],
    laterNodes: "untouched",
  },
});

export const talosPhaseCases: FaultCase[] = [
  {
    phase: "Talos",
    fault: "spec.talos.image not in the registry",
    inject: { image: "factory.talos.dev/metal-installer/0000:v1.12.4" },
    node: "cp-1",
    moment: "before the plan",
    step: "pre-flight pull",
    expected: {
      planPhase: "Failed",
      reason: "ImagePullFailed",
      node: { state: "Failed", reason: "ImagePullFailed", message: "cannot be pulled" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "pullFailure",
    inject: { faults: { pullFailure: true } },
    node: "cp-1",
    moment: "before the plan",
    step: "pre-flight pull",
    expected: {
      planPhase: "Failed",
      reason: "ImagePullFailed",
      node: { state: "Failed", reason: "ImagePullFailed", message: "cannot be pulled" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "pullFailure",
    inject: { faults: { pullFailure: true } },
    node: "cp-1",
    moment: "when the node is cordoned",
    step: "upgrade call",
    expected: {
      planPhase: "Failed",
      reason: "UpgradeRefused",
      node: { state: "Failed", reason: "UpgradeRefused", message: "failed to pull image" },
      cordoned: ["cp-1"],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "etcdUnhealthy",
    inject: { faults: { etcdUnhealthy: true } },
    node: "cp-1",
    moment: "before the plan",
    step: "gates before a node",
    spec: gateTimeout,
    expected: {
      planPhase: "Pending",
      reason: "HealthCheckTimeout",
      node: { state: "Pending" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "etcdUnhealthy",
    inject: { faults: { etcdUnhealthy: true } },
    node: "cp-1",
    moment: "when the node is cordoned",
    step: "upgrade call",
    expected: {
      planPhase: "Failed",
      reason: "UpgradeRefused",
      node: { state: "Failed", reason: "UpgradeRefused", message: "failed the quorum read" },
      cordoned: ["cp-1"],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "etcdUnhealthy",
    inject: { faults: { etcdUnhealthy: true } },
    node: "cp-1",
    moment: "when the node is back up",
    step: "gates before a node",
    spec: gateTimeout,
    expected: {
      planPhase: "UpgradingTalos",
      reason: "HealthCheckTimeout",
      node: { state: "Done" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "etcdAlarm",
    inject: { faults: { etcdAlarm: "NOSPACE" } },
    node: "cp-1",
    moment: "before the plan",
    step: "gates before a node",
    spec: gateTimeout,
    expected: {
      planPhase: "Pending",
      reason: "HealthCheckTimeout",
      node: { state: "Pending" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "etcdAlarm",
    inject: { faults: { etcdAlarm: "CORRUPT" } },
    node: "cp-1",
    moment: "when the node is cordoned",
    step: "upgrade call",
    spec: gateTimeout,
    expected: {
      // Talos' own pre-checks look at member health, not alarms: the node upgrades, the gates then hold the workers.
      planPhase: "UpgradingTalos",
      reason: "HealthCheckTimeout",
      node: { state: "Done" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "apidOutage (4 s)",
    inject: { apidOutageMs: 4_000 },
    node: "cp-1",
    moment: "before the plan",
    step: "pre-flight pull",
    expected: completed,
  },
  {
    phase: "Talos",
    fault: "apidOutage (4 s)",
    inject: { apidOutageMs: 4_000 },
    node: "worker-1",
    moment: "when the node is cordoned",
    step: "drain → upgrade call",
    expected: completed,
  },
  {
    phase: "Talos",
    fault: "apidOutage (4 s)",
    inject: { apidOutageMs: 4_000 },
    node: "worker-1",
    moment: "when the node is back up",
    step: "verification",
    expected: completed,
  },
  {
    phase: "Talos",
    fault: "bootFailure",
    inject: { faults: { bootFailure: true } },
    node: "cp-1",
    moment: "before the plan",
    step: "reboot",
    expected: {
      planPhase: "Failed",
      reason: "RolledBack",
      node: { state: "Failed", reason: "RolledBack", message: "rolled back by Talos" },
      cordoned: ["cp-1"],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "machinedKubeRefused",
    inject: { faults: { machinedKubeRefused: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "upgrade call",
    // Said by Talos' events as it fails, not at nodeTimeout (the test's 30s).
    expected: {
      planPhase: "Failed",
      reason: "UpgradeFailed",
      node: {
        state: "Failed",
        reason: "UpgradeFailed",
        message:
          "Talos failed the upgrade: sequence failed: error running phase 1 in upgrade sequence: task 1/1: failed, cannot get pods for node",
      },
      cordoned: ["worker-1"],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Talos",
    fault: "rebootedBeforeUpgrade",
    inject: { faults: { rebootedBeforeUpgrade: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "upgrade call",
    // Talos acks the call and never starts it; the reboot that held the lock boots the old version.
    // The node is called again from its new boot (two attempts, two calls) and upgraded once.
    expected: completed,
  },
  {
    phase: "Talos",
    fault: "drainHoldMs",
    inject: { faults: { drainHoldMs: 60_000 } },
    node: "worker-1",
    moment: "before the plan",
    step: "upgrade call",
    spec: short,
    expected: workerTimedOut("not back on v1.12.4 within 5s (last seen UPGRADING on "),
  },
  {
    phase: "Talos",
    fault: "neverReturns",
    inject: { faults: { neverReturns: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "reboot",
    spec: short,
    expected: workerTimedOut("not back on v1.12.4 within 5s"),
  },
  {
    phase: "Talos",
    fault: "hung",
    inject: { faults: { hung: true } },
    node: "worker-1",
    moment: "when the node is back up",
    step: "verification",
    spec: short,
    expected: workerTimedOut("within 5s (unreachable: "),
  },
  {
    phase: "Talos",
    fault: "slowBootMs (3 s, under nodeTimeout)",
    inject: { faults: { slowBootMs: 3_000 } },
    node: "worker-1",
    moment: "before the plan",
    step: "reboot",
    expected: completed,
  },
  {
    phase: "Talos",
    fault: "slowBootMs (20 s, over nodeTimeout)",
    inject: { faults: { slowBootMs: 20_000 } },
    node: "worker-1",
    moment: "before the plan",
    step: "reboot",
    spec: short,
    expected: workerTimedOut("not back on v1.12.4 within 5s"),
  },
  {
    phase: "Talos",
    fault: "kubeletNotReady",
    inject: { faults: { kubeletNotReady: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "verification",
    spec: short,
    expected: workerTimedOut("within 5s (last seen RUNNING on v1.12.4, not ready)"),
  },
  {
    phase: "Talos",
    fault: "applyConfigurationError",
    inject: { faults: { applyConfigurationError: refusal } },
    node: "cp-1",
    moment: "before the plan",
    step: "installer write",
    expected: {
      planPhase: "Completed",
      reason: "Succeeded",
      node: { state: "Done", reason: "ConfigPatchRefused" },
      cordoned: [],
      laterNodes: "upgraded",
    },
  },
];

/**
 * The Kubernetes phase (v1.34.2 → v1.35.0 on Talos v1.12.4): each fault is injected once the
 * cluster is healthy, just before the plan is applied.
 */
export const kubernetesPhaseCases: FaultCase[] = [
  {
    phase: "Kubernetes",
    fault: "pullFailure",
    inject: { faults: { pullFailure: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "Kubernetes pre-pull",
    expected: {
      planPhase: "Failed",
      reason: "ImagePullFailed",
      node: { state: "Failed", reason: "ImagePullFailed", message: "cannot be pulled" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  patchRefused("cp-1", "control plane component"),
  patchRefused("worker-1", "kubelet"),
  {
    phase: "Kubernetes",
    fault: "staticPodNotReady",
    inject: { faults: { staticPodNotReady: "kube-apiserver" } },
    node: "cp-1",
    moment: "before the plan",
    step: "control plane component",
    spec: short,
    expected: {
      planPhase: "Failed",
      reason: "ComponentTimeout",
      node: { state: "Failed", reason: "ComponentTimeout", message: "mirror pod with config version" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
  {
    phase: "Kubernetes",
    fault: "kubeletNotReady",
    inject: { faults: { kubeletNotReady: true } },
    node: "worker-1",
    moment: "before the plan",
    step: "kubelet",
    spec: short,
    expected: {
      planPhase: "Failed",
      reason: "ComponentTimeout",
      node: { state: "Failed", reason: "ComponentTimeout", message: "waiting for the Node to be Ready" },
      cordoned: [],
      laterNodes: "untouched",
    },
  },
];

export const faultCases: FaultCase[] = [...talosPhaseCases, ...kubernetesPhaseCases];
