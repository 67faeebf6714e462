// What a decision asks the shell to do: data, not calls. The shell writes the decided status
// first (the durable intent), then runs these in order.
import type { S3Destination } from "../api/v1alpha1/etcd-backup.ts";
import type { HookStage } from "../api/v1alpha1/hooks.ts";
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import type { SilenceMatcher } from "../api/v1alpha1/silence.ts";
import type { ManifestObject } from "./manifests.ts";

export type Action =
  | { kind: "cordon"; node: string }
  | { kind: "uncordon"; node: string }
  | { kind: "drain"; node: string }
  /**
   * Pull an image on the node ahead of the disruptive step: the installer before the node is
   * cordoned (NS_SYSTEM), Kubernetes images before any configuration is patched (the kubelet in
   * NS_SYSTEM, static pod images in NS_CRI).
   */
  | {
      kind: "prepull";
      node: string;
      address: string;
      image: string;
      api: "legacy" | "lifecycle";
      namespace: "NS_SYSTEM" | "NS_CRI";
    }
  /**
   * Talos ≥ 1.13: install `image` (pulled already) to the node's other boot entry with
   * LifecycleService.Upgrade, which does not reboot, while the node still serves; the node's
   * upgrade call then only reboots it. `bootId`: the boot the install is for. Run off the pass.
   */
  | { kind: "install"; node: string; address: string; image: string; bootId: string }
  /**
   * Name the installer a verified node now runs in its machine.install.image, applied without a
   * reboot, so that a later reinstall or reset boots this version and not the old one.
   */
  | { kind: "patchInstallImage"; node: string; address: string; image: string }
  /**
   * Create a hook's Job from the plan's template, named `job` (a Job of that name already there is
   * the same run: a restarted operator adopts it), with the run's facts in `env`.
   */
  | {
      kind: "runHook";
      job: string;
      plan: string;
      hook: string;
      stage: HookStage;
      node?: string;
      spec: Record<string, unknown>;
      timeoutSeconds: number;
      env: { name: string; value: string }[];
    }
  /**
   * Create or renew the plan's Alertmanager silence (`id` when known; else the plan's own active
   * silence is looked up, so a lost status write does not make a second one).
   */
  | {
      kind: "putSilence";
      /** Plan-wide, on no node. */
      node?: undefined;
      plan: string;
      url: string;
      id?: string;
      matchers: SilenceMatcher[];
      endsAt: string;
      comment: string;
    }
  /** Expire the plan's silence (`id`, and any other active one the operator made for the plan). */
  | { kind: "expireSilence"; node?: undefined; plan: string; url: string; id?: string }
  /**
   * Stream an etcd snapshot from control plane `source`, verify it (etcd's SHA-256 trailer), store
   * it at `key` in the bucket, read it back, then delete this plan's snapshots beyond `retention`.
   * Run off the pass; repeating it writes the same object.
   */
  | {
      kind: "etcdSnapshot";
      /** Plan-wide: reads from a node, changes none. */
      node?: undefined;
      plan: string;
      source: string;
      address: string;
      destination: S3Destination;
      key: string;
      /** Where this plan's snapshots are, for the retention. */
      prefix: string;
      retention: number;
      timeoutSeconds: number;
    }
  /** Set one component's image in the node's machine configuration, applied without a reboot. */
  | { kind: "patchConfig"; node: string; address: string; component: KubeComponent; image: string }
  /**
   * Bring the cluster's bootstrap manifests to what Talos renders on `node`: delete and create
   * again `recreate`, apply `stages` in order (each ready before the next), record `inventory`,
   * delete the objects of the `prune` inventory keys, then record the inventory without them.
   */
  | {
      kind: "syncManifests";
      node: string;
      method: "ServerSideApply" | "Legacy";
      recreate: ManifestObject[];
      stages: ManifestObject[][];
      prune: string[];
      inventory?: string[];
      /** Each object the sync changes and how, with the paths of its changed fields, for the log. */
      changes: { ref: string; change: "create" | "update" | "recreate" | "prune"; fields?: string[] }[];
    }
  | {
      kind: "upgrade";
      node: string;
      address: string;
      image: string;
      version: string;
      /** legacy: MachineService.Upgrade (< v1.13); lifecycle: ImageService.Pull + LifecycleService.Upgrade + Reboot. */
      api: "legacy" | "lifecycle";
      /** A staged upgrade (legacy API only): Talos installs early in the next boot. */
      stage: boolean;
      rebootMode: "Default" | "Powercycle" | "Force";
      /** The boot ID recorded with the intent: a machine on another boot, or busy, took a call already. */
      bootIdBefore: string;
    };

export interface PlanEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}
