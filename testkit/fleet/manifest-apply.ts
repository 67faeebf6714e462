// What machined's ManifestApplyController does with the bootstrap manifests on a fresh cluster, and
// the cleanup a test cluster shared between fleets needs after it. Bootstrap creates each rendered
// object that is missing (server-side apply, field manager `talos`, the owning-inventory
// annotation), leaves existing ones alone, and records both in the inventory ConfigMap that
// `talosctl upgrade-k8s` later syncs and prunes against.

import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import { waitUntil } from "../control-plane/wait.ts";
import type { ManifestObject } from "./manifests.ts";
import { compareVersions } from "./versions.ts";

/** constants.KubernetesBootstrapManifestsInventoryName, in kube-system (KubernetesInventoryNamespace). */
export const inventoryName = "talos-bootstrap-manifests-inventory";
/** go-kubernetes ssa.InventoryAnnotationKey. */
export const inventoryAnnotation = "config.k8s.io/owning-inventory";
const namespace = "kube-system";

interface ObjectMeta {
  name?: string;
  namespace?: string;
  annotations?: Record<string, string>;
}

const metaOf = (object: ManifestObject) => (object.metadata ?? {}) as ObjectMeta;
const groupOf = (object: ManifestObject) => {
  const apiVersion = String(object.apiVersion);
  return apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
};
const rbacKinds = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);

/**
 * The inventory key of an object: cli-utils' ObjMetadata.String(), `<namespace>_<name>_<group>_<kind>`
 * (namespace empty for cluster-scoped objects, group empty for the core group), with `:` in RBAC
 * names written as `__` since ConfigMap keys cannot hold it.
 */
export function inventoryKey(object: ManifestObject): string {
  const meta = metaOf(object);
  const group = groupOf(object);
  const kind = String(object.kind);
  const name =
    group === "rbac.authorization.k8s.io" && rbacKinds.has(kind)
      ? (meta.name ?? "").replaceAll(":", "__")
      : (meta.name ?? "");
  return `${meta.namespace ?? ""}_${name}_${group}_${kind}`;
}

const isNotFound = (error: unknown) => (error as { code?: number }).code === 404;

/**
 * Creates what is missing from the manifests of each control plane, in the order the controllers
 * on those machines would take the etcd lock, and writes the inventory once at the end.
 */
export async function applyBootstrapManifests(
  kubeconfig: KubeConfig,
  renderings: Record<string, ManifestObject[]>[],
  talosVersion: string,
): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kubeconfig);
  if (compareVersions(talosVersion, "v1.13.0") < 0) {
    // Before v1.13 machined only creates what is missing (field manager talos): no inventory, no mark.
    for (const manifests of renderings)
      for (const id of Object.keys(manifests).sort())
        for (const object of manifests[id] ?? [])
          if (!(await exists(objects, object)))
            await objects.create(object as KubernetesObject, undefined, undefined, "talos");
    return;
  }
  const inventory = new Set(Object.keys(await readInventory(core)));
  for (const manifests of renderings) {
    // machined applies the Manifest resources sorted by ID; the rendered sets hold no Namespace or CRD to put first.
    for (const id of Object.keys(manifests).sort()) {
      for (const object of manifests[id] ?? []) {
        const key = inventoryKey(object);
        if (inventory.has(key)) continue;
        if (!(await exists(objects, object))) await create(objects, object);
        inventory.add(key);
      }
    }
  }
  // As go-kubernetes' ConfigMap inventory writes itself: a plain Update of name, namespace and data.
  await core.replaceNamespacedConfigMap({
    name: inventoryName,
    namespace,
    body: {
      metadata: { name: inventoryName, namespace },
      data: Object.fromEntries([...inventory].map((key) => [key, ""])),
    },
  });
}

/** The inventory ConfigMap's data, created empty first if missing, as ssa.GetInventory does. */
async function readInventory(core: CoreV1Api): Promise<Record<string, string>> {
  try {
    return (await core.readNamespacedConfigMap({ name: inventoryName, namespace })).data ?? {};
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: inventoryName, namespace } },
    });
    return {};
  }
}

async function exists(objects: KubernetesObjectApi, object: ManifestObject): Promise<boolean> {
  try {
    const meta = metaOf(object);
    await objects.read({
      apiVersion: String(object.apiVersion),
      kind: String(object.kind),
      metadata: { name: meta.name ?? "", ...(meta.namespace ? { namespace: meta.namespace } : {}) },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function create(objects: KubernetesObjectApi, object: ManifestObject): Promise<void> {
  const meta = metaOf(object);
  const owner = meta.annotations?.[inventoryAnnotation];
  if (owner !== undefined && owner !== inventoryName)
    throw new Error(`unexpected foreign inventory annotation on ${inventoryKey(object)}`);
  const annotated = {
    ...object,
    metadata: { ...meta, annotations: { ...meta.annotations, [inventoryAnnotation]: inventoryName } },
  };
  await objects.patch(
    annotated as KubernetesObject,
    undefined,
    undefined,
    "talos",
    true,
    PatchStrategy.ServerSideApply,
  );
}

/** Pod-owning workloads among the objects: DaemonSets by name, Deployments by their ReplicaSets' prefix. */
function ownedByWorkload(objects: ManifestObject[]): (refs: V1OwnerReference[] | undefined) => boolean {
  const daemonSets = new Set<string>();
  const deployments = new Set<string>();
  for (const object of objects) {
    const name = metaOf(object).name ?? "";
    if (object.kind === "DaemonSet") daemonSets.add(name);
    if (object.kind === "Deployment") deployments.add(name);
  }
  return (refs) =>
    (refs ?? []).some(
      (ref) =>
        (ref.kind === "DaemonSet" && daemonSets.has(ref.name)) ||
        (ref.kind === "Deployment" && deployments.has(ref.name)) ||
        (ref.kind === "ReplicaSet" && [...deployments].some((d) => ref.name.startsWith(`${d}-`))),
    );
}

/**
 * Deletes the objects and the inventory, then waits until the real garbage collector has removed
 * their ReplicaSets and pods, so that the next fleet on this cluster starts clean. Pods still there
 * are force-deleted: a machine that is down never finishes their graceful deletion.
 */
export async function removeBootstrapManifests(
  kubeconfig: KubeConfig,
  objects: ManifestObject[],
): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const api = KubernetesObjectApi.makeApiClient(kubeconfig);
  for (const object of objects) {
    await api
      .delete(object as KubernetesObject, undefined, undefined, undefined, undefined, "Background")
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
  await core.deleteNamespacedConfigMap({ name: inventoryName, namespace }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  const owned = ownedByWorkload(objects);
  let left: string[] = [];
  await waitUntil(
    "the bootstrap manifests' pods are gone",
    async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items.filter((p) =>
        owned(p.metadata?.ownerReferences),
      );
      const replicaSets = (await apps.listNamespacedReplicaSet({ namespace })).items.filter((r) =>
        owned(r.metadata?.ownerReferences),
      );
      left = [
        ...pods.map((p) => `pod ${p.metadata?.name}`),
        ...replicaSets.map((r) => `replicaset ${r.metadata?.name}`),
      ];
      for (const pod of pods)
        await core
          .deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? "", body: { gracePeriodSeconds: 0 } })
          // Gone already, or tried again on the next pass.
          .catch(() => undefined);
      return left.length === 0;
    },
    { timeoutMs: 60_000, intervalMs: 250, describe: () => left.join("\n") },
  );
}
