// Builders for plans and what their status holds: the plan itself, node entries, Kubernetes tasks,
// and the spec parts tests give it (maintenance windows, hooks, an etcd backup destination).
//
// The fixtures' conventions, which every builder here and in nodes.ts follows:
//  - the default plan is named `production` and targets Talos v1.12.4 (`targetVersion`);
//  - a node runs v1.11.6 by default (`previousVersion`): one minor behind the target, so that every
//    default node has exactly one upgrade to do and no intermediate version is needed;
//  - a node's role comes from its name (`roleOf`): a name starting with `cp` is a control plane,
//    any other a worker. Every builder that takes a name and no role says so, and takes a role to
//    override it where it can.

import type { KubernetesTask } from "../../../src/api/v1alpha1/kubernetes-status.ts";
import type { NodeStatus } from "../../../src/api/v1alpha1/node-entries.ts";
import { type Plan, type PlanStatus, planSpecSchema } from "../../../src/api/v1alpha1/plan.ts";

/** The name of the plan `aPlan` builds; a node cordoned by it carries it in `cordonedBy`. */
export const planName = "production";
/** The Talos version `aPlan` targets unless its spec names another. */
export const targetVersion = "v1.12.4";
/** The Talos version a node runs unless told otherwise: one minor behind `targetVersion`. */
export const previousVersion = "v1.11.6";

/** The fixtures' naming rule for roles: `cp…` is a control plane, anything else a worker. */
export const roleOf = (name: string): NodeStatus["role"] =>
  name.startsWith("cp") ? "controlplane" : "worker";

/**
 * The Image Factory ID of the empty schematic (no extension, no argument): what a node without
 * image facts, and a plan that names no schematic, install. The factory's own figure (see
 * test/unit/model/schematic.test.ts), written out here, never read from src/.
 */
export const vanillaSchematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/** The public factory's metal installer of the vanilla schematic at `version`: the default plan's image. */
export const vanillaImage = (version: string) =>
  `factory.talos.dev/metal-installer/${vanillaSchematic}:${version}`;

/**
 * A plan named `production` (generation 1) whose spec is `spec` over `{ talos: { version:
 * "v1.12.4" } }`, parsed by the API's schema so that every default the API gives is there (a
 * parsed fixture, as the operator reads one). Pass `talos: undefined` for a plan without a Talos
 * phase. `status` and `annotations` only when given.
 */
export function aPlan(
  spec: Record<string, unknown> = {},
  status?: PlanStatus,
  annotations?: Record<string, string>,
): Plan {
  return {
    apiVersion: "upgrade.talos-operator.dev/v1alpha1",
    kind: "TalosUpgradePlan",
    metadata: { name: planName, generation: 1, ...(annotations ? { annotations } : {}) },
    spec: planSpecSchema.parse({ talos: { version: targetVersion }, ...spec }),
    ...(status ? { status } : {}),
  };
}

/**
 * `aPlan(spec, status)` under another name, created at `createdAt` (an ISO time): for tests of
 * several plans, where the older plan goes first.
 */
export function aNamedPlan(
  name: string,
  createdAt: string,
  status?: PlanStatus,
  spec: Record<string, unknown> = {},
): Plan {
  const plan = aPlan(spec, status);
  return { ...plan, metadata: { ...plan.metadata, name, creationTimestamp: createdAt } };
}

/**
 * A status.nodes entry: role by name (`roleOf`), from v1.11.6 towards v1.12.4, no attempt while
 * Pending and one once started, no message; everything else as `extra` says.
 */
export function anEntry(
  name: string,
  state: NodeStatus["state"],
  extra: Partial<NodeStatus> = {},
): NodeStatus {
  return {
    name,
    role: roleOf(name),
    state,
    fromVersion: previousVersion,
    version: targetVersion,
    attempts: state === "Pending" ? 0 : 1,
    message: "",
    ...extra,
  };
}

/** A status with these node entries and nothing else: no condition, no history, no phase. */
export const aStatus = (...nodes: NodeStatus[]): PlanStatus => ({ conditions: [], history: [], nodes });

/** A status.kubernetes task: role by node name (`roleOf`), no message; times and image from `extra`. */
export const aTask = (
  component: KubernetesTask["component"],
  node: string,
  state: KubernetesTask["state"],
  extra: Partial<KubernetesTask> = {},
): KubernetesTask => ({ component, node, role: roleOf(node), state, message: "", ...extra });

/** A maintenance window as spec.maintenanceWindows lists it: four hours, in UTC, unless told. */
export const aWindow = (schedule: string, duration = "4h", timeZone = "UTC") => ({
  schedule,
  duration,
  timeZone,
});

/** A hook's JobSpec: one container named `name`, running the image `tools/<name>:1`. */
export const aHookJob = (name: string) => ({
  template: { spec: { containers: [{ name, image: `tools/${name}:1` }] } },
});

/** A hook named `name` running `aHookJob(name)`, with a timeout of 10m (the API's default, written out). */
export const aHook = (name: string, timeout = "10m") => ({ name, timeout, job: aHookJob(name) });

/**
 * An S3 destination for spec.etcdBackup.s3: a local endpoint (path-style), bucket `etcd-backups`,
 * credentials in the Secret talos-upgrade-system/etcd-backup-s3.
 */
export const anS3Destination = () => ({
  endpoint: "http://127.0.0.1:9000",
  bucket: "etcd-backups",
  credentialsSecretRef: { name: "etcd-backup-s3", namespace: "talos-upgrade-system" },
});

export { budgetOf } from "../../../testkit/e2e/oracles.ts";
