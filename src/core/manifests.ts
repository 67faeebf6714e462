// The bootstrap manifest sync that ends each Kubernetes version, decided from a dry run of it:
// what to create, update, recreate and prune, in talosctl's order, and when what was applied has
// rolled out. Every pass compares again, so a sync cut short by a crash is finished, never doubled.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import { type ManifestStatus, manifestNamesShown } from "../api/v1alpha1/kubernetes-status.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { inventory, inventoryKey, type ManifestObject, objectRef } from "../model/manifests.ts";
import { nameList } from "../model/messages.ts";
import type { ManifestsView, Workload } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";

type ManifestSpec = NonNullable<PlanSpec["kubernetes"]>["manifests"];

/**
 * Apply stages as talosctl has them: what others depend on (CRDs, Namespaces, ClusterRoles), then
 * the *Class kinds, then ConfigMaps and Secrets (so that a checksum annotation sees them), then the
 * rest. A stage is ready before the next one starts.
 */
function stageOf(kind: string): number {
  if (["CustomResourceDefinition", "Namespace", "ClusterRole"].includes(kind)) return 0;
  if (kind.endsWith("Class")) return 1;
  if (kind === "ConfigMap" || kind === "Secret") return 2;
  return 3;
}

/** Within a stage, kinds in the order a reconciler applies them; webhooks last, others in between. */
const kindRank = [
  "CustomResourceDefinition",
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "ResourceQuota",
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ConfigMap",
  "Secret",
  "Service",
  "LimitRange",
  "Deployment",
  "StatefulSet",
  "CronJob",
  "PodDisruptionBudget",
];
const lastKinds = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

function rankOf(kind: string): number {
  if (lastKinds.includes(kind)) return kindRank.length + 1 + lastKinds.indexOf(kind);
  const rank = kindRank.indexOf(kind);
  return rank === -1 ? kindRank.length : rank;
}

/** The objects grouped in apply stages, each stage in apply order (rendered order among equals). */
export function applyStages(objects: ManifestObject[]): ManifestObject[][] {
  const stages: ManifestObject[][] = [[], [], [], []];
  for (const object of objects) stages[stageOf(object.kind)]?.push(object);
  return stages
    .map((stage) =>
      stage.map((o, i) => ({ o, i })).sort((a, b) => rankOf(a.o.kind) - rankOf(b.o.kind) || a.i - b.i),
    )
    .map((stage) => stage.map(({ o }) => o))
    .filter((stage) => stage.length > 0);
}

/** Whether a DaemonSet or Deployment runs its current spec everywhere, and if not, how far it got. */
export function rolloutState(workload: Workload): { done: boolean; message: string } {
  const status = (workload.status ?? {}) as Record<string, number | undefined>;
  const observed = status.observedGeneration ?? 0;
  if (workload.generation !== undefined && observed < workload.generation)
    return { done: false, message: `generation ${workload.generation} not observed yet` };
  const count = (key: string) => status[key] ?? 0;
  if (workload.kind === "DaemonSet") {
    const desired = count("desiredNumberScheduled");
    const [updated, available, ready] = [
      count("updatedNumberScheduled"),
      count("numberAvailable"),
      count("numberReady"),
    ];
    const done = updated >= desired && available >= desired && ready >= desired;
    return { done, message: `${updated}/${desired} updated, ${available}/${desired} available` };
  }
  const wanted = workload.replicas ?? 1;
  const [updated, available, total] = [
    count("updatedReplicas"),
    count("availableReplicas"),
    count("replicas"),
  ];
  // Old replicas still counted in status.replicas are still running.
  const done = updated >= wanted && available >= wanted && total <= updated;
  return {
    done,
    message: `${updated}/${wanted} updated, ${available}/${wanted} available, ${total} running`,
  };
}

export interface ManifestStep {
  status: ManifestStatus | undefined;
  actions: Action[];
  events: PlanEvent[];
  /** Undefined once the sync is done (or not asked for). */
  verdict?: Verdict;
  wakeAt?: number;
}

/** What a sync would do now, from the dry run. */
interface Diff {
  create: ManifestObject[];
  update: ManifestObject[];
  /** Objects whose immutable fields would change, and which fields. */
  immutable: { object: ManifestObject; fields: string[] }[];
  prune: string[];
  unchanged: number;
  /** The inventory after the sync; undefined on the legacy path, which keeps none. */
  inventory?: string[];
  inventoryStale: boolean;
  /** Objects another inventory owns: neither applied nor pruned. */
  foreign: string[];
}

function diffOf(view: ManifestsView, spec: ManifestSpec): Diff {
  const ours = (owner: string | undefined) => owner === undefined || owner === "" || owner === inventory.name;
  const foreign = [
    ...view.entries.filter((e) => e.state !== "same" && !ours(e.owner)).map((e) => objectRef(e.object)),
    ...view.orphans.filter((o) => o.exists && spec.prune && !ours(o.owner)).map((o) => o.ref),
  ];
  const pick = (state: string) => view.entries.filter((e) => e.state === state && ours(e.owner));
  const prune = spec.prune ? view.orphans.filter((o) => o.exists && ours(o.owner)).map((o) => o.key) : [];
  const base = {
    create: pick("missing").map((e) => e.object),
    update: pick("differs").map((e) => e.object),
    immutable: pick("immutable").map((e) => ({ object: e.object, fields: e.fields ?? [] })),
    prune,
    unchanged: view.entries.filter((e) => e.state === "same").length,
    foreign,
  };
  if (view.method === "Legacy") return { ...base, inventoryStale: false };
  // Entries already gone leave the inventory; those kept (prune off, or foreign) stay listed.
  const kept = view.orphans.filter((o) => o.exists && !prune.includes(o.key)).map((o) => o.key);
  const next = [...new Set([...view.entries.map((e) => inventoryKey(e.object)), ...kept])].sort();
  const now = [...(view.inventory ?? [])].sort();
  const inventoryStale = view.inventory === undefined || next.join("\n") !== now.join("\n");
  return { ...base, inventory: next, inventoryStale };
}

const bounded = (refs: string[]) => refs.slice(0, manifestNamesShown);

/** "create 1 (Deployment/kube-system/coredns), update 0, prune 0, unchanged 12": names bounded. */
function summary(diff: Diff, pruned: string[]): string {
  const part = (verb: string, refs: string[]) =>
    refs.length > 0 ? `${verb} ${refs.length} (${nameList(refs)})` : `${verb} 0`;
  const updated = [...diff.update, ...diff.immutable.map((i) => i.object)].map(objectRef);
  return [
    part("create", diff.create.map(objectRef)),
    part("update", updated),
    part("prune", pruned),
    `unchanged ${diff.unchanged}`,
  ].join(", ");
}

/**
 * One pass of the sync: Skip does nothing; Diff (and a dry run) publishes what would change;
 * Apply applies what the dry run says differs, then waits for the applied DaemonSets and
 * Deployments to roll out. `previous` is the status the last pass wrote for this version.
 */
export function stepManifests(input: {
  view: ManifestsView | undefined;
  spec: ManifestSpec;
  previous: ManifestStatus | undefined;
  now: Date;
  dryRun: boolean;
  /** What holds new work back (paused, window closed, health checks failing): no sync starts then. */
  hold?: Verdict;
}): ManifestStep {
  const { view, spec, previous, now } = input;
  if (spec.mode === "Skip") return { status: undefined, actions: [], events: [] };
  if (!view) {
    const message = "reading the bootstrap manifests Talos renders";
    return stay(previous, { kind: "waiting", reason: Reason.Progressing, message });
  }
  const unreadable = unusableView(view, spec, previous);
  if (unreadable) return unreadable;
  const diff = diffOf(view, spec);
  const compared = comparison(view, diff, previous);
  const refused = refusedChange(diff, spec, compared.status);
  if (refused) return refused;
  if (spec.mode === "Diff" || input.dryRun) return publishDiff(compared, previous, diff, input.dryRun);
  if (compared.changes > 0 || diff.inventoryStale) return apply(view, diff, compared, now, input.hold);
  return awaitRollout(view, spec, compared.status, now);
}

/** A pass that changes nothing and says why through its verdict. */
const stay = (status: ManifestStatus | undefined, verdict: Verdict): ManifestStep => ({
  status,
  actions: [],
  events: [],
  verdict,
});

const retryingStall = (reason: string, message: string): Verdict => ({
  kind: "stalled",
  reason,
  message,
  retrying: true,
});

/** A view that cannot be compared, or that would prune everything, stops the sync here. */
function unusableView(
  view: ManifestsView,
  spec: ManifestSpec,
  previous: ManifestStatus | undefined,
): ManifestStep | undefined {
  if (view.error) {
    const message = `cannot compare the bootstrap manifests rendered on ${view.source}: ${view.error}`;
    return stay(
      { ...previous, create: [], update: [], prune: [], rollingOut: previous?.rollingOut ?? [] },
      retryingStall(Reason.ManifestSyncFailed, message),
    );
  }
  const stranded = view.orphans.filter((o) => o.exists);
  if (view.entries.length === 0 && stranded.length > 0 && spec.prune) {
    // Talos answering an empty set (a machine mid-restart) must not prune the cluster's DNS and proxy.
    const message = `Talos renders no bootstrap manifests on ${view.source}; the ${stranded.length} object(s) the inventory lists are left in place`;
    return stay(previous, retryingStall(Reason.ManifestSyncFailed, message));
  }
  return undefined;
}

interface Comparison {
  status: ManifestStatus;
  counts: NonNullable<ManifestStatus["counts"]>;
  changes: number;
  prunedRefs: string[];
}

/** What a sync would change now, as status publishes it (names bounded, counts complete). */
function comparison(view: ManifestsView, diff: Diff, previous: ManifestStatus | undefined): Comparison {
  const refs = (objects: ManifestObject[]) => objects.map(objectRef);
  const updates = [...refs(diff.update), ...refs(diff.immutable.map((i) => i.object))];
  const counts = {
    create: diff.create.length,
    update: updates.length,
    prune: diff.prune.length,
    unchanged: diff.unchanged,
  };
  const prunedRefs = view.orphans.filter((o) => diff.prune.includes(o.key)).map((o) => o.ref);
  const status: ManifestStatus = {
    source: view.source,
    method: view.method,
    create: bounded(refs(diff.create)),
    update: bounded(updates),
    prune: bounded(prunedRefs),
    counts,
    ...(previous?.appliedAt ? { appliedAt: previous.appliedAt } : {}),
    rollingOut: previous?.rollingOut ?? [],
  };
  return { status, counts, changes: counts.create + counts.update + counts.prune, prunedRefs };
}

/** Objects another inventory owns, or an immutable field changed without recreate: no sync. */
function refusedChange(diff: Diff, spec: ManifestSpec, status: ManifestStatus): ManifestStep | undefined {
  if (diff.foreign.length > 0) {
    const message = `another inventory owns ${nameList(diff.foreign)}: the sync neither changes nor deletes them`;
    return stay(status, retryingStall(Reason.ManifestOwnedElsewhere, message));
  }
  if (diff.immutable.length > 0 && !spec.recreate) {
    const which = diff.immutable.map(
      (i) => `${objectRef(i.object)} (${i.fields.join(", ") || "immutable field"})`,
    );
    const message = `Talos renders ${nameList(which)} with an immutable field changed; set spec.kubernetes.manifests.recreate: true to delete and create again (talosctl --manifests-force)`;
    return stay(status, retryingStall(Reason.ImmutableFieldChanged, message));
  }
  return undefined;
}

/** Diff mode and dry runs publish what would change; the Event only when the counts move. */
function publishDiff(
  compared: Comparison,
  previous: ManifestStatus | undefined,
  diff: Diff,
  dryRun: boolean,
): ManifestStep {
  const same = previous?.counts && JSON.stringify(previous.counts) === JSON.stringify(compared.counts);
  const message = `a sync would ${summary(diff, compared.prunedRefs)}`;
  const events: PlanEvent[] =
    compared.changes > 0 && !same && !dryRun
      ? [{ type: "Normal", reason: Reason.ManifestsDiffer, message }]
      : [];
  return { status: compared.status, actions: [], events };
}

/** Applies what differs (or only rewrites a stale inventory), unless the plan is held. */
function apply(
  view: ManifestsView,
  diff: Diff,
  compared: Comparison,
  now: Date,
  hold: Verdict | undefined,
): ManifestStep {
  const { status, changes } = compared;
  if (hold && changes > 0) return stay(status, hold);
  if (view.syncError) {
    const verdict = retryingStall(
      Reason.ManifestSyncFailed,
      `the bootstrap manifest sync failed: ${view.syncError}`,
    );
    return { status, actions: [syncAction(view, diff)], events: [], verdict };
  }
  const applied = [...diff.create, ...diff.update, ...diff.immutable.map((i) => i.object)];
  const rollingOut = applied.filter((o) => o.kind === "DaemonSet" || o.kind === "Deployment").map(objectRef);
  const message = `syncing the bootstrap manifests from ${view.source}: ${summary(diff, compared.prunedRefs)}`;
  return {
    status: {
      ...status,
      appliedAt: now.toISOString(),
      rollingOut: bounded([...new Set([...status.rollingOut, ...rollingOut])]),
    },
    actions: [syncAction(view, diff)],
    events: changes > 0 ? [{ type: "Normal", reason: Reason.ManifestsApplied, message }] : [],
    verdict: { kind: "waiting", reason: Reason.Progressing, message },
  };
}

function syncAction(view: ManifestsView, diff: Diff): Action {
  const fieldsOf = new Map(view.entries.map((e) => [objectRef(e.object), e.fields ?? []]));
  const change = (object: ManifestObject, kind: "create" | "update" | "recreate") => ({
    ref: objectRef(object),
    change: kind,
    ...(kind === "create" ? {} : { fields: fieldsOf.get(objectRef(object)) ?? [] }),
  });
  const pruned = view.orphans.filter((o) => diff.prune.includes(o.key));
  return {
    changes: [
      ...diff.create.map((o) => change(o, "create")),
      ...diff.update.map((o) => change(o, "update")),
      ...diff.immutable.map((i) => change(i.object, "recreate")),
      ...pruned.map((o) => ({ ref: o.ref, change: "prune" as const })),
    ],
    kind: "syncManifests",
    node: view.source,
    method: view.method,
    recreate: diff.immutable.map((i) => i.object),
    stages: applyStages([...diff.create, ...diff.update, ...diff.immutable.map((i) => i.object)]),
    prune: diff.prune,
    ...(diff.inventory ? { inventory: diff.inventory } : {}),
  };
}

/** Nothing left to apply: done once the DaemonSets and Deployments applied have rolled out. */
function awaitRollout(
  view: ManifestsView,
  spec: ManifestSpec,
  status: ManifestStatus,
  now: Date,
): ManifestStep {
  const byRef = new Map(view.workloads.map((w) => [w.ref, w]));
  const pending = status.rollingOut.flatMap((ref) => {
    const workload = byRef.get(ref);
    // A workload no longer rendered is not waited for.
    if (!workload) return [];
    const state = rolloutState(workload);
    return state.done ? [] : [{ ref, message: state.message }];
  });
  const settled = { ...status, rollingOut: pending.map((p) => p.ref) };
  if (pending.length === 0) {
    const events: PlanEvent[] =
      status.rollingOut.length > 0
        ? [
            {
              type: "Normal",
              reason: Reason.ManifestsRolledOut,
              message: `rolled out: ${nameList(status.rollingOut)}`,
            },
          ]
        : [];
    return { status: settled, actions: [], events };
  }
  const waited = pending.map((p) => `${p.ref} (${p.message})`);
  const deadline = Date.parse(status.appliedAt ?? now.toISOString()) + parseDuration(spec.timeout);
  if (now.getTime() >= deadline) {
    const message = `not rolled out ${spec.timeout} after the sync: ${nameList(waited)}`;
    return {
      status: settled,
      actions: [],
      events: [],
      verdict: { kind: "stalled", reason: Reason.ManifestsNotRolledOut, message, retrying: true },
    };
  }
  const message = `waiting for the rollout of ${nameList(waited)}`;
  return {
    status: settled,
    actions: [],
    events: [],
    verdict: { kind: "waiting", reason: Reason.Progressing, message },
    wakeAt: deadline,
  };
}
