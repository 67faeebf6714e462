// Property test of the bootstrap manifest sync over a model cluster: random rendered sets, live
// objects (missing, drifted, unmarked, another inventory's, an immutable field changed), an
// inventory or none, prune and recreate on or off, and a crash after any effect of a sync. Passes
// of dry run → decision → sync repeat until nothing is left to do. Invariants: an object another
// inventory owns is never changed or deleted; an object Talos renders is never pruned; nothing is
// deleted when Talos renders nothing; the sync converges (every rendered object as rendered and
// marked, the inventory exactly what is rendered plus what prune off keeps), unless it must stall
// (a foreign object, an immutable change without recreate) and then it changes nothing at all.
import fc from "fast-check";
import { stepManifests } from "../../../src/core/manifests.ts";
import type { Action } from "../../../src/model/actions.ts";
import { forInventory, type ManifestObject } from "../../../src/model/manifests.ts";
import type { ManifestEntry, ManifestsView } from "../../../src/model/observation.ts";

/** talosctl's inventory ConfigMap, whose name marks the objects it owns. */
const talosInventory = "talos-bootstrap-manifests-inventory";

/**
 * The model's key for an object, as talosctl's inventory writes it (cli-utils' ObjMetadata):
 * `<namespace>_<name>_<group>_<kind>`. The model's names hold no `:`, which RBAC names would double.
 */
const keyOf = (o: ManifestObject) =>
  `${o.metadata.namespace ?? ""}_${o.metadata.name}_${o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : ""}_${o.kind}`;

interface Live {
  value: number;
  /** Stands for an immutable field (a selector). */
  selector: number;
  owner?: string;
}

interface Cluster {
  objects: Map<string, Live>;
  inventory: Set<string> | undefined;
  /** Every effect the syncs made, in order. */
  log: { op: "apply" | "delete"; key: string }[];
}

const kinds = [
  { apiVersion: "v1", kind: "ConfigMap", namespace: "kube-system" },
  { apiVersion: "apps/v1", kind: "DaemonSet", namespace: "kube-system" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole" },
];

const objectOf = (i: number, value: number, selector: number): ManifestObject => {
  const kind = kinds[i % kinds.length] ?? kinds[0];
  return {
    apiVersion: kind?.apiVersion ?? "v1",
    kind: kind?.kind ?? "ConfigMap",
    metadata: { name: `obj-${i}`, ...(kind?.namespace ? { namespace: kind.namespace } : {}) },
    spec: { value, selector },
  };
};

const specOf = (o: ManifestObject) => o.spec as { value: number; selector: number };

/** What the adapter's dry run reports, from the model. */
function inspect(cluster: Cluster, rendered: ManifestObject[]): ManifestsView {
  // As the adapter's: each object as the sync applies it, marked for the inventory.
  const entries: ManifestEntry[] = rendered
    .map((o) => forInventory(o))
    .map((object) => {
      const live = cluster.objects.get(keyOf(object));
      if (!live) return { object, state: "missing" };
      const owner = live.owner !== undefined ? { owner: live.owner } : {};
      const { value, selector } = specOf(object);
      if (live.selector !== selector)
        return { object, state: "immutable", fields: ["spec.selector"], ...owner };
      const same = live.value === value && live.owner === talosInventory;
      return same
        ? { object, state: "same", ...owner }
        : { object, state: "differs", fields: ["spec.value"], ...owner };
    });
  const renderedKeys = new Set(rendered.map(keyOf));
  const orphans = [...(cluster.inventory ?? [])]
    .filter((key) => !renderedKeys.has(key))
    .map((key) => {
      const live = cluster.objects.get(key);
      return {
        key,
        ref: key,
        exists: live !== undefined,
        ...(live?.owner !== undefined ? { owner: live.owner } : {}),
      };
    });
  return {
    source: "cp-1",
    method: "ServerSideApply",
    entries,
    ...(cluster.inventory ? { inventory: [...cluster.inventory] } : {}),
    orphans,
    workloads: [],
  };
}

/** The adapter's sync, effect by effect; `budget` effects happen before a crash (Infinity: none). */
function carryOutSync(
  cluster: Cluster,
  action: Extract<Action, { kind: "syncManifests" }>,
  budget: number,
): void {
  let left = budget;
  const effect = (fn: () => void) => {
    if (left <= 0) throw new Error("crash");
    left--;
    fn();
  };
  try {
    for (const object of action.recreate)
      effect(() => {
        cluster.objects.delete(keyOf(object));
        cluster.log.push({ op: "delete", key: keyOf(object) });
      });
    for (const stage of action.stages)
      for (const object of stage)
        effect(() => {
          const key = keyOf(object);
          const live = cluster.objects.get(key);
          const { value, selector } = specOf(object);
          // The apiserver refuses an immutable change: the recreate above must have run.
          if (live && live.selector !== selector) throw new Error(`immutable: ${key}`);
          cluster.objects.set(key, {
            value,
            selector,
            owner: object.metadata.annotations?.["config.k8s.io/owning-inventory"],
          });
          cluster.log.push({ op: "apply", key });
        });
    if (!action.inventory) return;
    const listed = [...action.inventory, ...action.prune];
    effect(() => {
      cluster.inventory = new Set(listed);
    });
    for (const key of action.prune)
      effect(() => {
        cluster.objects.delete(key);
        cluster.log.push({ op: "delete", key });
      });
    const final = action.inventory;
    effect(() => {
      cluster.inventory = new Set(final);
    });
  } catch (error) {
    if ((error as Error).message !== "crash") throw error;
  }
}

const scenario = fc.record({
  rendered: fc.array(
    fc.record({ value: fc.integer({ min: 0, max: 2 }), selector: fc.integer({ min: 0, max: 1 }) }),
    {
      minLength: 0,
      maxLength: 6,
    },
  ),
  /** Per object index (0..8): what the cluster has. */
  live: fc.array(
    fc.option(
      fc.record({
        value: fc.integer({ min: 0, max: 2 }),
        selector: fc.integer({ min: 0, max: 1 }),
        owner: fc.constantFrom(undefined, talosInventory, talosInventory, "someone-else"),
      }),
    ),
    { minLength: 9, maxLength: 9 },
  ),
  /** Inventory: none, or which of the 9 keys it lists. */
  inventory: fc.option(fc.array(fc.boolean(), { minLength: 9, maxLength: 9 })),
  prune: fc.boolean(),
  recreate: fc.boolean(),
  crashes: fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 4 }),
});

it("never touches another inventory's objects nor prunes a rendered one, and converges through crashes", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const all = Array.from({ length: 9 }, (_, i) => objectOf(i, 0, 0));
      const rendered = s.rendered.map((r, i) => objectOf(i, r.value, r.selector));
      const cluster: Cluster = { objects: new Map(), inventory: undefined, log: [] };
      s.live.forEach((live, i) => {
        const object = all[i];
        if (live && object) cluster.objects.set(keyOf(object), { ...live });
      });
      if (s.inventory) cluster.inventory = new Set(all.filter((_, i) => s.inventory?.[i]).map(keyOf));
      const foreign = new Set(
        [...cluster.objects].filter(([, live]) => live.owner === "someone-else").map(([key]) => key),
      );
      const renderedKeys = new Set(rendered.map(keyOf));
      const spec = { mode: "Apply" as const, prune: s.prune, recreate: s.recreate, timeout: "5m" };
      const crashes = [...s.crashes];

      let last: ReturnType<typeof stepManifests> | undefined;
      for (let pass = 0; pass < 12; pass++) {
        last = stepManifests({
          view: inspect(cluster, rendered),
          spec,
          previous: undefined,
          now: new Date(),
          dryRun: false,
        });
        const action = last.actions.find((a) => a.kind === "syncManifests");
        if (!action) break;
        carryOutSync(cluster, action, crashes.shift() ?? Number.POSITIVE_INFINITY);
      }

      // Another inventory's objects: never applied, never deleted.
      for (const entry of cluster.log) expect(foreign.has(entry.key)).toBe(false);
      // What Talos renders is never pruned (a recreate deletes and applies it again at once).
      const deleted = cluster.log.filter((e) => e.op === "delete").map((e) => e.key);
      for (const key of deleted) {
        if (!renderedKeys.has(key)) continue;
        expect(cluster.log.some((e) => e.op === "apply" && e.key === key)).toBe(true);
      }
      if (rendered.length === 0) expect(deleted).toEqual([]);

      const initialInventory = s.inventory ? all.filter((_, i) => s.inventory?.[i]).map(keyOf) : [];
      const liveAt = (o: ManifestObject) => cluster.objects.get(keyOf(o));
      const mustStall =
        rendered.some((o) => foreign.has(keyOf(o))) ||
        (!s.recreate &&
          rendered.some((o) => liveAt(o) !== undefined && liveAt(o)?.selector !== specOf(o).selector)) ||
        (s.prune && initialInventory.some((k) => !renderedKeys.has(k) && foreign.has(k))) ||
        (s.prune && rendered.length === 0 && initialInventory.some((k) => cluster.objects.has(k)));
      expect(last?.verdict?.kind === "stalled").toBe(mustStall);
      if (mustStall) {
        // A stall changes nothing: no effect happened at all.
        expect(cluster.log).toEqual([]);
        return;
      }
      // Converged: every rendered object as rendered and marked as talosctl marks it, and nothing left to do.
      for (const object of rendered)
        expect(liveAt(object)).toEqual({ ...specOf(object), owner: talosInventory });
      const kept = s.prune
        ? []
        : initialInventory.filter((k) => !renderedKeys.has(k) && cluster.objects.has(k));
      expect([...(cluster.inventory ?? [])].sort()).toEqual([...new Set([...renderedKeys, ...kept])].sort());
      if (s.prune)
        for (const k of initialInventory)
          if (!renderedKeys.has(k)) expect(cluster.objects.has(k)).toBe(false);
      expect(last?.actions).toEqual([]);
    }),
    { numRuns: Number(process.env.MANIFESTS_PROPERTY_RUNS ?? 1000) },
  );
});
