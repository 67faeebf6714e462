// One immutable snapshot of everything a decision needs, gathered by observe() (the only place
// that reads the world) or built by hand in tests.
import type { S3Destination } from "../api/v1alpha1/etcd-backup.ts";
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import type { Plan } from "../api/v1alpha1/plan.ts";
import type { ManifestObject } from "./manifests.ts";

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
  /** When Talos created the MachineStatus resource this boot ("seconds.nanoseconds"): it names the boot. */
  statusCreatedAt?: string;
  platform?: string;
  /** What the node's installer is made of; read while the node may still be started. */
  image?: ImageFacts;
  /** Talos' active diagnostics, "id: message". */
  diagnostics?: string[];
}

/** What a node's installer image is made of, as Talos reports it; each part only when it says. */
export interface ImageFacts {
  /** The Image Factory schematic ID (the `schematic` extension's version). */
  schematic?: string;
  /** Extensions other than Image Factory's own `schematic` marker. */
  extensions: string[];
  /** SecurityStates: booted with SecureBoot. */
  secureBoot?: boolean;
  /** The Image Factory that built the running schematic (host[:port]), from Talos v1.14. */
  factory?: string;
  /** SecurityStates: booted from a UKI (systemd-boot); false on GRUB. */
  bootedWithUKI?: boolean;
  /** machine.install.extraKernelArgs, read on GRUB machines only. */
  kernelArgs?: string[];
  /** machine.install.grubUseUKICmdline: GRUB takes the command line from the UKI. */
  grubUseUKICmdline?: boolean;
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
  /** A round of evictions is under way on the node, asked for by an earlier pass: none is asked for again. */
  draining?: boolean;
  /** Images this operator pulled on the node (installer, Kubernetes components), with the error of a failed pull. */
  pulls: Record<string, { error?: string }>;
  /** Images being pulled on the node now: asked for by an earlier pass, not answered yet. */
  pulling?: string[];
  /**
   * The installer this process last installed on the node ahead of its reboot (Talos ≥ 1.13), the
   * boot it was installed from, and Talos' error if the install failed.
   */
  installed?: { image: string; bootId: string; error?: string };
  /** The installer being installed on the node now (asked for by an earlier pass). */
  installing?: string;
  /** The kubelet version the Node reports (status.nodeInfo.kubeletVersion). */
  kubeletVersion?: string;
  /** Images of the kube-proxy pods (of the DaemonSet, not terminating) on this node. */
  proxyImages?: string[];
  /** Mirror pods of the control plane static pods on this node, by component. */
  mirrorPods: Partial<Record<KubeComponent, MirrorPod>>;
  /** Read during the Kubernetes phase only. */
  kubernetes?: KubernetesFacts;
  /** Talos refused a machine configuration patch, by component. */
  patchErrors?: Partial<Record<KubeComponent, string>>;
  /** The installer this process last wrote into the node's machine.install.image. */
  installImagePatched?: string;
  /** An installer Talos refused to write into the node's configuration, and why. */
  installImageRefused?: { image: string; message: string };
  /** Talos refused the last upgrade call for a reason retrying will not change. */
  upgradeError?: string;
  /** What Talos made of the sequence the upgrade call (from the intent's boot) asked for, by its events. */
  sequenceVerdict?: SequenceOutcome;
}

/** A sequence Talos acked and never started (another held machined's lock), or one that failed. */
export type SequenceOutcome = { outcome: "locked" } | { outcome: "failed"; message: string };

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
  /**
   * Read by an earlier pass (seconds ago, with the control planes' boots, readiness and the nodes
   * under way unchanged since): good enough to gate workers, never to take a control plane down.
   */
  earlier?: boolean;
  /** Control planes (addresses) down for their upgrade when it was read: their silence went unread. */
  silent?: string[];
}

/** One rendered object against the cluster, as a dry run of the sync shows it. */
export interface ManifestEntry {
  /** The object as the sync applies it. */
  object: ManifestObject;
  /** missing: would be created; differs: would change; same: nothing to change; immutable: a field that cannot change would. */
  state: "missing" | "differs" | "same" | "immutable";
  /** The live object's owning-inventory annotation, if it has one. */
  owner?: string;
  /** Paths of the fields that would change: names, never values (a Secret's would leak). */
  fields?: string[];
}

/** A DaemonSet or Deployment among the rendered objects, as it runs now. */
export interface Workload {
  ref: string;
  kind: string;
  generation?: number;
  /** spec.replicas of a Deployment. */
  replicas?: number;
  status?: Record<string, unknown>;
}

/** The bootstrap manifests of the cluster: what Talos renders, what the cluster runs. */
export interface ManifestsView {
  /** The control plane node they were read from. */
  source: string;
  method: "ServerSideApply" | "Legacy";
  /** They could not be read or compared; nothing else is filled in. */
  error?: string;
  /** Why the last sync this process ran failed, until one succeeds or a retry is asked for. */
  syncError?: string;
  entries: ManifestEntry[];
  /** Inventory keys; undefined when there is no inventory ConfigMap yet. */
  inventory?: string[];
  /** Inventory entries Talos no longer renders: whether the object still exists, and whose it is. */
  orphans: { key: string; ref: string; exists: boolean; owner?: string }[];
  workloads: Workload[];
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
  /** Read once the components of a Kubernetes version are done, and by a dry run. */
  manifests?: ManifestsView;
  /** The Talos credentials could not be loaded; nothing can be observed or done on Talos. */
  talosConfigError?: string;
  /** Notifications the shell has delivered since status last listed them, and its last failure. */
  notifications?: { delivered: string[]; error?: string };
  /** What the shell last did with the plan's Alertmanager silence. */
  silence?: SilenceOutcome;
  /** The plan's hook Jobs by name, read when it has hooks; a Job not listed does not exist. */
  hookJobs?: Map<string, HookJobState>;
  /** The operator's default etcd snapshot destination (the chart's etcdBackup.s3), when it has one. */
  etcdBackupDefault?: S3Destination;
  /** The plan's etcd snapshot this process runs or last ran, by object key. */
  etcdSnapshot?: EtcdSnapshotRun;
}

/**
 * An etcd snapshot run of the shell: under way, or how it ended and when (a pass may see the end
 * long after it, and a snapshot's age counts from its end).
 */
export interface EtcdSnapshotRun {
  key: string;
  inFlight: boolean;
  outcome?:
    | { ok: true; finishedAt: string; size: number; sha256: string; retained: number; pruneError?: string }
    | { ok: false; finishedAt: string; message: string };
}

/** The silence the shell wrote (its ID and end), or expired, or why Alertmanager refused. */
export interface SilenceOutcome {
  id?: string;
  endsAt?: string;
  /** The matchers it was written with, as Alertmanager prints them. */
  matchers?: string[];
  expired?: boolean;
  error?: string;
}

/** A hook Job as the Job controller reports it; `message` is its condition's reason and message. */
export interface HookJobState {
  state: "Running" | "Succeeded" | "Failed";
  /** When the Job was created: a hook's timeout runs from then, not from when the plan asked. */
  createdAt?: string;
  message?: string;
}
