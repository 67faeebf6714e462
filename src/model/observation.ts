// One immutable snapshot of everything a decision needs, gathered by observe() (the only place
// that reads the world) or built by hand in tests.
import type { KubeComponent, Plan } from "../api/v1alpha1/plan.ts";

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

/** A node's Kubernetes components as the Talos API shows them; read only during the Kubernetes phase. */
export interface KubernetesFacts {
  reachable: boolean;
  error?: string;
  /** Images in the machine configuration: what a patch changes. */
  images: Partial<Record<KubeComponent, string>>;
  proxyDisabled: boolean;
  /** Control plane configs as Talos rendered them; the version is what the mirror pod's talos.dev/config-version says. */
  rendered: Partial<Record<KubeComponent, { image: string; version: string }>>;
  /** The kubelet as Talos runs it (KubeletSpec) and whether its service is running and healthy. */
  kubeletImage?: string;
  kubeletArgs: string[];
  kubeletHealthy: boolean;
  /** Static pod command lines on control planes, for flags the target removed. */
  staticPodArgs: Partial<Record<KubeComponent, string[]>>;
}

/** A mirror pod of a control plane static pod, from the Kubernetes API. */
export interface MirrorPod {
  image?: string;
  configVersion?: string;
  ready: boolean;
}

export interface NodeView {
  name: string;
  role: "controlplane" | "worker";
  /** InternalIP: where the Talos API routes calls for this node. */
  address?: string;
  labels: Record<string, string>;
  /** Kubernetes Node Ready condition. */
  ready: boolean;
  /**
   * The boot ID the kubelet last reported (status.nodeInfo.bootID): a Ready condition counts for a
   * reboot only once the kubelet reports from the new boot, not a Ready left from before it.
   */
  kubeletBootId?: string;
  unschedulable: boolean;
  /**
   * The plan this operator cordoned the node for (an annotation names it), so it is that plan's to
   * uncordon; undefined for a node a person cordoned (it stays cordoned) or one not cordoned.
   */
  cordonedBy?: string;
  talos: TalosFacts;
  /** Pods the drain must still evict (DaemonSet and mirror pods, and pods the podSelector excludes, are not counted). */
  evictablePods: number;
  /** Why the last eviction was refused, e.g. a PodDisruptionBudget. */
  drainBlockedBy?: string;
  /** Images this operator pulled on the node (installer, Kubernetes components), with the error of a failed pull. */
  pulls: Record<string, { error?: string }>;
  /** Images being pulled on the node now: asked for by an earlier pass, not answered yet. */
  pulling?: string[];
  /** The kubelet version the Node reports (status.nodeInfo.kubeletVersion). */
  kubeletVersion?: string;
  /** Mirror pods of the control plane static pods on this node, by component. */
  mirrorPods: Partial<Record<KubeComponent, MirrorPod>>;
  /** Read during the Kubernetes phase only. */
  kubernetes?: KubernetesFacts;
  /** Talos refused a machine configuration patch, by component. */
  patchErrors?: Partial<Record<KubeComponent, string>>;
  /** Talos refused the last upgrade call for a reason retrying will not change. */
  upgradeError?: string;
}

export interface GateResult {
  name: string;
  passing: boolean;
  message: string;
  /** The check itself is wrong (a CEL expression that does not compile): waiting cannot help. */
  invalid?: boolean;
}

export interface EtcdView {
  /** Members consistent across control planes, all healthy but those down for their upgrade, no alarm. */
  healthy: boolean;
  /** Voting members: learners do not count towards quorum. */
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
  /** API resources the Kubernetes target no longer serves that still hold objects. */
  removedApis?: { resource: string; count: number; error?: string }[];
  /** The Talos credentials could not be loaded; nothing can be observed or done on Talos. */
  talosConfigError?: string;
}
