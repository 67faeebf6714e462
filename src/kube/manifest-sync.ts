// The bootstrap manifests on the cluster side: a dry run that says what a sync would change, and
// the sync itself, both as talosctl upgrade-k8s does them. From Talos v1.13: server-side apply as
// field manager `talos`, forced, with the inventory ConfigMap and pruning. Before: create what is
// missing and update (PUT) what differs, with no inventory.
import {
  ApisApi,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import type { Action } from "../model/actions.ts";
import {
  fieldManager,
  forInventory,
  inventory,
  inventoryKey,
  type ManifestObject,
  objectRef,
  owningInventoryAnnotation,
  parseInventoryKey,
} from "../model/manifests.ts";
import type { ManifestEntry, ManifestsView, Workload } from "../model/observation.ts";
import { apiMessage, httpStatus } from "./client.ts";

type Method = ManifestsView["method"];
type Inspection = Pick<ManifestsView, "entries" | "inventory" | "orphans" | "workloads">;
type Live = KubernetesObject & { spec?: { replicas?: number }; status?: Record<string, unknown> };

/** Updates tried against a fresh read before a conflict is an error. */
const conflictAttempts = 3;

/** What the server sets or keeps on its own: not a difference between two versions of an object. */
function comparable(object: Record<string, unknown>, method: Method): Record<string, unknown> {
  const { status: _status, ...rest } = object;
  const metadata = { ...(rest.metadata as Record<string, unknown>) };
  for (const key of [
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
  ])
    delete metadata[key];
  if (method === "Legacy") {
    // As talosctl's update path: annotations the cluster's own components write are not drift.
    const annotations = Object.entries((metadata.annotations ?? {}) as Record<string, string>).filter(
      ([key]) => !key.includes("kubernetes.io/"),
    );
    metadata.annotations = Object.fromEntries(annotations);
  }
  return { ...rest, metadata };
}

/** Dotted paths where two JSON values differ, at most `max` of them. */
function changedPaths(a: unknown, b: unknown, max = 10, prefix = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: unknown) => typeof v === "object" && v !== null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return [prefix || "."];
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const paths: string[] = [];
  for (const key of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
    const path = Array.isArray(a) ? `${prefix}[${key}]` : prefix ? `${prefix}.${key}` : key;
    paths.push(...changedPaths(left[key], right[key], max - paths.length, path));
    if (paths.length >= max) break;
  }
  return paths.slice(0, max);
}

/** The fields an "is immutable" refusal names, e.g. spec.selector (the values between are skipped). */
function immutableFields(message: string): string[] | undefined {
  if (!/immutable/i.test(message)) return undefined;
  const parts = message.split(/([A-Za-z][\w.[\]]*): Invalid value: /);
  const fields: string[] = [];
  // split() with a group alternates text and field: each field is followed by its own message.
  for (let i = 1; i < parts.length; i += 2)
    if (/field is immutable/.test(parts[i + 1] ?? "")) fields.push(parts[i] ?? "");
  return [...new Set(fields)];
}

export class ManifestSync {
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;
  private readonly apis: ApisApi;
  private readonly inventory: { namespace: string; name: string };

  /** `inventoryNamespace`: talosctl's kube-system, unless a test keeps its inventory apart. */
  constructor(kc: KubeConfig, inventoryNamespace = inventory.namespace) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apis = kc.makeApiClient(ApisApi);
    this.inventory = { namespace: inventoryNamespace, name: inventory.name };
  }

  /** What a sync of `rendered` would change now; it changes nothing. */
  async inspect(rendered: ManifestObject[], method: Method): Promise<Inspection> {
    const applied = method === "ServerSideApply" ? rendered.map(forInventory) : rendered;
    const inspected = await Promise.all(applied.map((object) => this.compare(object, method)));
    const entries = inspected.map((i) => i.entry);
    const workloads = inspected.flatMap((i) => (i.workload ? [i.workload] : []));
    if (method === "Legacy") return { entries, orphans: [], workloads };
    const keys = await this.readInventory();
    const renderedKeys = new Set(rendered.map(inventoryKey));
    const orphans = await Promise.all(
      (keys ?? []).filter((key) => !renderedKeys.has(key)).map((key) => this.orphan(key)),
    );
    return { entries, ...(keys ? { inventory: keys } : {}), orphans, workloads };
  }

  private async compare(
    object: ManifestObject,
    method: Method,
  ): Promise<{ entry: ManifestEntry; workload?: Workload }> {
    const live = await this.read(object);
    if (!live) return { entry: { object, state: "missing" } };
    const owner = live.metadata?.annotations?.[owningInventoryAnnotation];
    const base = { object, ...(owner !== undefined ? { owner } : {}) };
    const workload =
      object.kind === "DaemonSet" || object.kind === "Deployment"
        ? {
            ref: objectRef(object),
            kind: object.kind,
            ...(live.metadata?.generation !== undefined ? { generation: live.metadata.generation } : {}),
            ...(live.spec?.replicas !== undefined ? { replicas: live.spec.replicas } : {}),
            ...(live.status ? { status: live.status } : {}),
          }
        : undefined;
    try {
      const result = await this.write(object, method, live, true);
      const before = comparable(live as Record<string, unknown>, method);
      const after = comparable(result as Record<string, unknown>, method);
      const fields = changedPaths(before, after);
      const entry: ManifestEntry =
        fields.length === 0 ? { ...base, state: "same" } : { ...base, state: "differs", fields };
      return { entry, ...(workload ? { workload } : {}) };
    } catch (error) {
      const fields = httpStatus(error) === 422 ? immutableFields(apiMessage(error)) : undefined;
      if (!fields) throw new Error(`${objectRef(object)}: ${apiMessage(error)}`);
      return { entry: { ...base, state: "immutable", fields }, ...(workload ? { workload } : {}) };
    }
  }

  /** Server-side apply (forced, as talosctl), or on the legacy path a create or an update. */
  private async write(
    object: ManifestObject,
    method: Method,
    live: Live | undefined,
    dryRun: boolean,
  ): Promise<Live> {
    const dry = dryRun ? "All" : undefined;
    if (method === "ServerSideApply")
      return this.objects.patch<Live>(
        object,
        undefined,
        dry,
        fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      );
    if (!live) return this.objects.create<Live>(object, undefined, dry);
    // An update races the controllers writing the object's status (a DaemonSet's, a
    // Deployment's): a conflict reads it again, a few times, before it counts as a failure.
    for (let attempt = 1; ; attempt++) {
      const current = {
        ...object,
        metadata: { ...object.metadata, resourceVersion: live.metadata?.resourceVersion },
      };
      try {
        return await this.objects.replace<Live>(current, undefined, dry);
      } catch (error) {
        if (httpStatus(error) !== 409 || attempt >= conflictAttempts) throw error;
        const fresh = await this.read(object);
        if (!fresh) return this.objects.create<Live>(object, undefined, dry);
        live = fresh;
      }
    }
  }

  private async read(object: KubernetesObject): Promise<Live | undefined> {
    try {
      return await this.objects.read<Live>({
        apiVersion: object.apiVersion ?? "",
        kind: object.kind ?? "",
        metadata: {
          name: object.metadata?.name ?? "",
          ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
        },
      });
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async readInventory(): Promise<string[] | undefined> {
    try {
      const map = await this.core.readNamespacedConfigMap(this.inventory);
      return Object.keys(map.data ?? {});
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The object an inventory key names, as a reference the API takes (its group's preferred version). */
  private async referenceOf(key: string): Promise<KubernetesObject | undefined> {
    const parsed = parseInventoryKey(key);
    if (!parsed) return undefined;
    let apiVersion = "v1";
    if (parsed.group !== "") {
      const groups = await this.apis.getAPIVersions();
      const version = groups.groups.find((g) => g.name === parsed.group)?.preferredVersion?.groupVersion;
      // A group no longer served holds no objects.
      if (!version) return undefined;
      apiVersion = version;
    }
    return {
      apiVersion,
      kind: parsed.kind,
      metadata: { name: parsed.name, ...(parsed.namespace ? { namespace: parsed.namespace } : {}) },
    };
  }

  private async orphan(key: string): Promise<ManifestsView["orphans"][number]> {
    const reference = await this.referenceOf(key);
    const parsed = parseInventoryKey(key);
    const ref = parsed
      ? parsed.namespace
        ? `${parsed.kind}/${parsed.namespace}/${parsed.name}`
        : `${parsed.kind}/${parsed.name}`
      : key;
    const live = reference ? await this.read(reference) : undefined;
    const owner = live?.metadata?.annotations?.[owningInventoryAnnotation];
    return { key, ref, exists: live !== undefined, ...(owner !== undefined ? { owner } : {}) };
  }

  /** Runs a decided sync. Each step is safe to repeat: a sync cut short is finished by the next pass. */
  async sync(action: Extract<Action, { kind: "syncManifests" }>): Promise<void> {
    const ssa = action.method === "ServerSideApply";
    for (const object of action.recreate) await this.deleteAndWait(object);
    for (const stage of action.stages) {
      for (const object of stage) {
        const live = ssa ? undefined : await this.read(object);
        await this.write(object, action.method, live, false);
      }
      for (const object of stage)
        if (object.kind === "CustomResourceDefinition") await this.established(object);
    }
    if (!ssa || !action.inventory) return;
    // Recorded with the objects about to be pruned first: a crash before they are gone leaves them listed.
    await this.writeInventory([...action.inventory, ...action.prune]);
    if (action.prune.length === 0) return;
    for (const key of action.prune) {
      const reference = await this.referenceOf(key);
      if (reference) await this.remove(reference);
    }
    await this.writeInventory(action.inventory);
  }

  private async remove(object: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(object, undefined, undefined, undefined, undefined, "Background");
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
    }
  }

  private async deleteAndWait(object: ManifestObject): Promise<void> {
    await this.remove(object);
    for (let i = 0; i < 120; i++) {
      if (!(await this.read(object))) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`${objectRef(object)} is still there 60 s after it was deleted to be created again`);
  }

  private async established(crd: ManifestObject): Promise<void> {
    for (let i = 0; i < 60; i++) {
      const live = await this.read(crd);
      const conditions = (live?.status?.conditions ?? []) as { type?: string; status?: string }[];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`${objectRef(crd)} is not Established 30 s after it was applied`);
  }

  /** The inventory ConfigMap with exactly these keys, created when missing. */
  private async writeInventory(keys: string[]): Promise<void> {
    const data = Object.fromEntries([...new Set(keys)].sort().map((key) => [key, ""]));
    try {
      const current = await this.core.readNamespacedConfigMap(this.inventory);
      await this.core.replaceNamespacedConfigMap({ ...this.inventory, body: { ...current, data } });
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
      await this.core.createNamespacedConfigMap({
        namespace: this.inventory.namespace,
        body: { metadata: { ...this.inventory }, data },
      });
    }
  }
}
