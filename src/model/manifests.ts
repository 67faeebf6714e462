// The bootstrap manifests Talos renders (kube-proxy, CoreDNS, the CNI, its own RBAC), as objects
// the operator syncs the way `talosctl upgrade-k8s` does: the same field manager, inventory
// ConfigMap and annotation, so that the two tools can take turns on one cluster.
import { z } from "zod";
import { compareVersions } from "../api/v1alpha1/version.ts";

/** A Kubernetes object as Talos renders it; anything else a manifest holds is kept as is. */
export const manifestObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});

export type ManifestObject = z.infer<typeof manifestObjectSchema>;

/** talosctl's field manager, inventory ConfigMap (in kube-system) and owning-inventory annotation. */
export const fieldManager = "talos";
export const inventory = { namespace: "kube-system", name: "talos-bootstrap-manifests-inventory" };
export const owningInventoryAnnotation = "config.k8s.io/owning-inventory";

/** Talos v1.13 is the first whose own manifest controller records an inventory: talosctl syncs those with SSA. */
const serverSideApplyFrom = "v1.13.0";

export function usesServerSideApply(lowestTalos: string): boolean {
  return compareVersions(lowestTalos, serverSideApplyFrom) >= 0;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
}

/** Kind/namespace/name, or Kind/name for a cluster-scoped object: how status and Events name one. */
export function objectRef(object: Pick<ManifestObject, "kind" | "metadata">): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${object.kind}/${namespace}/${name}` : `${object.kind}/${name}`;
}

/** RBAC kinds, whose names may hold colons: cli-utils writes those as `__` in a key. */
const rbacKinds = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);

/**
 * The inventory's key for an object: `<namespace>_<name>_<group>_<kind>` (cli-utils' ObjMetadata),
 * with the colons of RBAC names doubled into `__` as it writes them.
 */
export function inventoryKey(object: Pick<ManifestObject, "apiVersion" | "kind" | "metadata">): string {
  const { name } = object.metadata;
  const written = rbacKinds.has(object.kind) ? name.replaceAll(":", "__") : name;
  return `${object.metadata.namespace ?? ""}_${written}_${groupOf(object.apiVersion)}_${object.kind}`;
}

/** An inventory key back to the object it names; undefined for a key that is not one. */
export function parseInventoryKey(
  key: string,
): { namespace: string; name: string; group: string; kind: string } | undefined {
  // Namespace and group hold no "_"; a name's "__" stands for ":" and a single "_" is not allowed in names.
  const match = /^([^_]*)_(.+)_([^_]*)_([^_]+)$/.exec(key);
  if (!match) return undefined;
  const [, namespace = "", name = "", group = "", kind = ""] = match;
  return { namespace, name: rbacKinds.has(kind) ? name.replaceAll("__", ":") : name, group, kind };
}

/** The object as the sync applies it: marked as the inventory's, as talosctl marks it. */
export function forInventory(object: ManifestObject): ManifestObject {
  const annotations = { ...object.metadata.annotations, [owningInventoryAnnotation]: inventory.name };
  return { ...object, metadata: { ...object.metadata, annotations } };
}
