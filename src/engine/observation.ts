// One immutable snapshot of everything a decision needs, gathered by observe() (the only place
// that reads the world) or built by hand in tests.
import type { Plan } from "../api/v1alpha1/plan.ts";

export type MachineStage =
  | "UNKNOWN"
  | "BOOTING"
  | "INSTALLING"
  | "MAINTENANCE"
  | "RUNNING"
  | "REBOOTING"
  | "SHUTTING_DOWN"
  | "RESETTING"
  | "UPGRADING";

/** What the Talos API says about a node; `reachable: false` carries the error. */
export interface TalosFacts {
  reachable: boolean;
  error?: string;
  version?: string;
  bootId?: string;
  stage?: MachineStage;
  ready?: boolean;
  platform?: string;
  schematic?: string;
}

export interface NodeView {
  name: string;
  role: "controlplane" | "worker";
  /** InternalIP: where the Talos API routes calls for this node. */
  address?: string;
  labels: Record<string, string>;
  /** Kubernetes Node Ready condition. */
  ready: boolean;
  unschedulable: boolean;
  /** Cordoned by this operator (an annotation marks it), so it is ours to uncordon; a node a person cordoned stays cordoned. */
  cordonedByOperator: boolean;
  talos: TalosFacts;
  /** Pods the drain must still evict (DaemonSet and mirror pods, and pods the podSelector excludes, are not counted). */
  evictablePods: number;
  /** Why the last eviction was refused, e.g. a PodDisruptionBudget. */
  drainBlockedBy?: string;
  /** The pre-flight pull of the installer image on this node, before it is cordoned. */
  installerPull?: { image: string; error?: string };
  /** Talos refused the last upgrade call for a reason retrying will not change. */
  upgradeError?: string;
}

export interface GateResult {
  name: string;
  passing: boolean;
  message: string;
}

export interface EtcdView {
  /** Members consistent across control planes, all started and healthy, no alarm. */
  healthy: boolean;
  members: number;
  healthyMembers: number;
  message: string;
}

export interface Observation {
  now: Date;
  plan: Plan;
  nodes: NodeView[];
  /** Another plan that is progressing; only one plan progresses at a time cluster-wide. */
  blockingPlan?: string;
  /** Health checks evaluated for this pass (builtin, CEL, Prometheus), in spec order. */
  gates: GateResult[];
  etcd?: EtcdView;
  /** The Talos credentials could not be loaded; nothing can be observed or done on Talos. */
  talosConfigError?: string;
}
