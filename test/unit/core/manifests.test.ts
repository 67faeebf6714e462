// The manifest sync decided from a dry run: modes, order, inventory, prune, immutable fields,
// ownership, rollout judgement and its timeout, holds and failures, and object identities.
import { applyStages, rolloutState, stepManifests } from "../../../src/core/manifests.ts";
import {
  forInventory,
  inventoryKey,
  type ManifestObject,
  objectRef,
  parseInventoryKey,
  usesServerSideApply,
} from "../../../src/model/manifests.ts";
import type { ManifestEntry, ManifestsView, Workload } from "../../../src/model/observation.ts";

const object = (kind: string, name: string, namespace?: string, apiVersion = "v1"): ManifestObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
});
const proxy = object("DaemonSet", "kube-proxy", "kube-system", "apps/v1");
const dns = object("Deployment", "coredns", "kube-system", "apps/v1");
const corefile = object("ConfigMap", "coredns", "kube-system");
const role = object("ClusterRole", "system:coredns", undefined, "rbac.authorization.k8s.io/v1");
/** Their keys in talosctl's inventory, written out (the first test checks inventoryKey gives them). */
const keys = {
  proxy: "kube-system_kube-proxy_apps_DaemonSet",
  dns: "kube-system_coredns_apps_Deployment",
  corefile: "kube-system_coredns__ConfigMap",
};
/** An object as talosctl applies it: marked as its inventory's (the second test checks forInventory does so). */
const marked = (o: ManifestObject): ManifestObject => ({
  ...o,
  metadata: {
    ...o.metadata,
    annotations: {
      ...o.metadata.annotations,
      "config.k8s.io/owning-inventory": "talos-bootstrap-manifests-inventory",
    },
  },
});

const entry = (
  o: ManifestObject,
  state: ManifestEntry["state"],
  extra: Partial<ManifestEntry> = {},
): ManifestEntry => ({
  object: forInventory(o),
  state,
  owner: state === "missing" ? undefined : "talos-bootstrap-manifests-inventory",
  ...extra,
});
const view = (entries: ManifestEntry[], extra: Partial<ManifestsView> = {}): ManifestsView => ({
  source: "cp-1",
  method: "ServerSideApply",
  entries,
  inventory: entries.map((e) => inventoryKey(e.object)),
  orphans: [],
  workloads: [],
  ...extra,
});
const spec = (extra: Record<string, unknown> = {}) => ({
  mode: "Apply" as const,
  prune: true,
  recreate: false,
  timeout: "5m",
  ...extra,
});
const now = new Date("2026-11-30T02:00:00Z");
const step = (v: ManifestsView | undefined, extra: Partial<Parameters<typeof stepManifests>[0]> = {}) =>
  stepManifests({ view: v, spec: spec(), previous: undefined, now, dryRun: false, ...extra });

describe("object identities", () => {
  it("keys objects as talosctl's inventory does, and reads the keys back", () => {
    expect(inventoryKey(proxy)).toBe("kube-system_kube-proxy_apps_DaemonSet");
    expect(inventoryKey(corefile)).toBe("kube-system_coredns__ConfigMap");
    expect(inventoryKey(role)).toBe("_system__coredns_rbac.authorization.k8s.io_ClusterRole");
    for (const o of [proxy, corefile, role, object("Namespace", "a_b")]) {
      const parsed = parseInventoryKey(inventoryKey(o));
      expect(parsed).toEqual({
        namespace: o.metadata.namespace ?? "",
        name: o.metadata.name,
        group: o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "",
        kind: o.kind,
      });
    }
    expect(parseInventoryKey("nonsense")).toBeUndefined();
    expect(objectRef(proxy)).toBe("DaemonSet/kube-system/kube-proxy");
    expect(objectRef(role)).toBe("ClusterRole/system:coredns");
  });

  it("marks objects for the inventory, keeping their own annotations", () => {
    const annotated = { ...corefile, metadata: { ...corefile.metadata, annotations: { mine: "x" } } };
    expect(forInventory(annotated).metadata.annotations).toEqual({
      mine: "x",
      "config.k8s.io/owning-inventory": "talos-bootstrap-manifests-inventory",
    });
    expect(annotated.metadata.annotations).toEqual({ mine: "x" });
  });

  it("uses server-side apply from Talos v1.13, as talosctl does", () => {
    expect(usesServerSideApply("v1.12.9")).toBe(false);
    expect(usesServerSideApply("v1.13.0-alpha.1")).toBe(false);
    expect(usesServerSideApply("v1.13.0")).toBe(true);
    expect(usesServerSideApply("v1.14.2")).toBe(true);
  });
});

describe("apply order", () => {
  it("stages CRDs, Namespaces and ClusterRoles; then *Class kinds; then ConfigMaps and Secrets; then the rest, webhooks last", () => {
    const objects = [
      object("ValidatingWebhookConfiguration", "hook", undefined, "admissionregistration.k8s.io/v1"),
      dns,
      object("Secret", "token", "kube-system"),
      proxy,
      object("Service", "kube-dns", "kube-system"),
      object("PriorityClass", "high", undefined, "scheduling.k8s.io/v1"),
      corefile,
      object("ServiceAccount", "coredns", "kube-system"),
      role,
      object("Namespace", "extra"),
      object("CustomResourceDefinition", "things.example.com", undefined, "apiextensions.k8s.io/v1"),
      object("ClusterRoleBinding", "system:coredns", undefined, "rbac.authorization.k8s.io/v1"),
    ];
    expect(applyStages(objects).map((stage) => stage.map((o) => `${o.kind}/${o.metadata.name}`))).toEqual([
      ["CustomResourceDefinition/things.example.com", "Namespace/extra", "ClusterRole/system:coredns"],
      ["PriorityClass/high"],
      ["ConfigMap/coredns", "Secret/token"],
      [
        "ClusterRoleBinding/system:coredns",
        "ServiceAccount/coredns",
        "Service/kube-dns",
        "Deployment/coredns",
        "DaemonSet/kube-proxy",
        "ValidatingWebhookConfiguration/hook",
      ],
    ]);
    expect(applyStages([])).toEqual([]);
  });
});

describe("rollout judgement", () => {
  const ds = (status: Record<string, number>, generation = 2): Workload => ({
    ref: "DaemonSet/kube-system/kube-proxy",
    kind: "DaemonSet",
    generation,
    status,
  });
  const dep = (status: Record<string, number>, replicas = 2): Workload => ({
    ref: "Deployment/kube-system/coredns",
    kind: "Deployment",
    generation: 3,
    replicas,
    status,
  });

  it("a DaemonSet is rolled out once its generation is observed and every scheduled pod is updated, available and ready", () => {
    const full = {
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
      numberReady: 3,
    };
    expect(rolloutState(ds(full)).done).toBe(true);
    expect(rolloutState(ds({ ...full, observedGeneration: 1 }))).toEqual({
      done: false,
      message: "generation 2 not observed yet",
    });
    expect(rolloutState(ds({ ...full, updatedNumberScheduled: 2 }))).toEqual({
      done: false,
      message: "2/3 updated, 3/3 available",
    });
    expect(rolloutState(ds({ ...full, numberAvailable: 2 })).done).toBe(false);
    expect(rolloutState(ds({ ...full, numberReady: 2 })).done).toBe(false);
    expect(rolloutState(ds({}, 1)).done).toBe(false);
  });

  it("a Deployment is rolled out once the new replicas are available and no old one runs", () => {
    const full = { observedGeneration: 3, updatedReplicas: 2, availableReplicas: 2, replicas: 2 };
    expect(rolloutState(dep(full)).done).toBe(true);
    expect(rolloutState(dep({ ...full, replicas: 3 })).done).toBe(false);
    expect(rolloutState(dep({ ...full, availableReplicas: 1 })).done).toBe(false);
    expect(rolloutState(dep({ ...full, updatedReplicas: 1 })).done).toBe(false);
    expect(rolloutState(dep({ observedGeneration: 3 }, 0)).done).toBe(true);
  });
});

describe("the sync decided", () => {
  it("Skip does nothing and reads nothing", () => {
    expect(step(undefined, { spec: spec({ mode: "Skip" }) })).toEqual({
      status: undefined,
      actions: [],
      events: [],
    });
  });

  it("waits to read the manifests, and stalls (retrying) when they cannot be read", () => {
    expect(step(undefined).verdict).toMatchObject({ kind: "waiting" });
    const failed = step(view([], { error: "rpc error: unavailable" }));
    expect(failed.verdict).toMatchObject({ kind: "stalled", reason: "ManifestSyncFailed", retrying: true });
    expect(failed.actions).toEqual([]);
  });

  it("applies what differs, in stages, records the inventory, and waits for the applied workloads", () => {
    const v = view(
      [
        entry(proxy, "differs", { fields: ["spec.template.spec.containers[0].image"] }),
        entry(corefile, "same"),
        entry(dns, "missing"),
      ],
      {
        inventory: [keys.proxy, keys.corefile],
      },
    );
    const d = step(v);
    expect(d.actions).toEqual([
      {
        kind: "syncManifests",
        node: "cp-1",
        method: "ServerSideApply",
        recreate: [],
        stages: [[marked(dns), marked(proxy)]],
        prune: [],
        inventory: [keys.dns, keys.proxy, keys.corefile].sort(),
        changes: [
          { ref: "Deployment/kube-system/coredns", change: "create" },
          {
            ref: "DaemonSet/kube-system/kube-proxy",
            change: "update",
            fields: ["spec.template.spec.containers[0].image"],
          },
        ],
      },
    ]);
    expect(d.status).toMatchObject({
      create: ["Deployment/kube-system/coredns"],
      update: ["DaemonSet/kube-system/kube-proxy"],
      counts: { create: 1, update: 1, prune: 0, unchanged: 1 },
      appliedAt: now.toISOString(),
      rollingOut: ["Deployment/kube-system/coredns", "DaemonSet/kube-system/kube-proxy"],
    });
    expect(d.events.map((e) => e.reason)).toEqual(["ManifestsApplied"]);
    expect(d.verdict).toMatchObject({ kind: "waiting" });
  });

  it("waits for the rollout after the sync, stalls (retrying) past the timeout naming the object, and finishes once rolled out", () => {
    const previous = {
      create: [],
      update: [],
      prune: [],
      appliedAt: now.toISOString(),
      rollingOut: ["DaemonSet/kube-system/kube-proxy"],
    };
    const rolling: Workload = {
      ref: "DaemonSet/kube-system/kube-proxy",
      kind: "DaemonSet",
      generation: 2,
      status: {
        observedGeneration: 2,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 1,
        numberAvailable: 2,
        numberReady: 2,
      },
    };
    const v = view([entry(proxy, "same")], { workloads: [rolling] });
    const waiting = step(v, { previous, now: new Date(now.getTime() + 60_000) });
    expect(waiting.verdict).toMatchObject({ kind: "waiting" });
    expect(waiting.wakeAt).toBe(now.getTime() + 300_000);
    const late = step(v, { previous, now: new Date(now.getTime() + 300_000) });
    expect(late.verdict).toMatchObject({ kind: "stalled", reason: "ManifestsNotRolledOut", retrying: true });
    expect(late.verdict && "message" in late.verdict && late.verdict.message).toContain(
      "DaemonSet/kube-system/kube-proxy (1/3 updated, 2/3 available)",
    );
    const rolled = {
      ...rolling,
      status: { ...rolling.status, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 },
    };
    const done = step(view([entry(proxy, "same")], { workloads: [rolled] }), {
      previous,
      now: new Date(now.getTime() + 400_000),
    });
    expect(done.verdict).toBeUndefined();
    expect(done.status?.rollingOut).toEqual([]);
    expect(done.events.map((e) => e.reason)).toEqual(["ManifestsRolledOut"]);
  });

  it("prunes what the inventory lists and Talos no longer renders, unless prune is off; forgets entries already gone", () => {
    const orphans = [
      {
        key: "kube-system_kube-proxy-legacy__ConfigMap",
        ref: "ConfigMap/kube-system/kube-proxy-legacy",
        exists: true,
        owner: "talos-bootstrap-manifests-inventory",
      },
      { key: "kube-system_gone__ConfigMap", ref: "ConfigMap/kube-system/gone", exists: false },
    ];
    const base = [entry(proxy, "same")];
    const v = view(base, { inventory: [keys.proxy, ...orphans.map((o) => o.key)], orphans });
    const pruned = step(v);
    expect(pruned.actions).toEqual([
      expect.objectContaining({
        prune: ["kube-system_kube-proxy-legacy__ConfigMap"],
        inventory: [keys.proxy],
      }),
    ]);
    expect(pruned.status?.prune).toEqual(["ConfigMap/kube-system/kube-proxy-legacy"]);
    const kept = step(v, { spec: spec({ prune: false }) });
    expect(kept.actions).toEqual([
      expect.objectContaining({
        prune: [],
        inventory: [keys.proxy, "kube-system_kube-proxy-legacy__ConfigMap"].sort(),
      }),
    ]);
  });

  it("records an inventory where none exists, even with nothing to apply (as talosctl creates it)", () => {
    const d = step(view([entry(proxy, "same")], { inventory: undefined }));
    expect(d.actions).toEqual([expect.objectContaining({ stages: [], inventory: [keys.proxy] })]);
    expect(d.events).toEqual([]);
  });

  it("stalls on an immutable field unless recreate is allowed, then recreates it", () => {
    const v = view([entry(proxy, "immutable", { fields: ["spec.selector"] })]);
    const refused = step(v);
    expect(refused.actions).toEqual([]);
    expect(refused.verdict).toMatchObject({
      kind: "stalled",
      reason: "ImmutableFieldChanged",
      retrying: true,
    });
    expect(refused.verdict && "message" in refused.verdict && refused.verdict.message).toContain(
      "DaemonSet/kube-system/kube-proxy (spec.selector)",
    );
    const allowed = step(v, { spec: spec({ recreate: true }) });
    expect(allowed.actions).toEqual([
      expect.objectContaining({ recreate: [marked(proxy)], stages: [[marked(proxy)]] }),
    ]);
  });

  it("neither changes nor prunes what another inventory owns", () => {
    const foreign = step(view([entry(proxy, "differs", { owner: "someone-else" })]));
    expect(foreign.actions).toEqual([]);
    expect(foreign.verdict).toMatchObject({ kind: "stalled", reason: "ManifestOwnedElsewhere" });
    const orphan = {
      key: keys.corefile,
      ref: objectRef(corefile),
      exists: true,
      owner: "someone-else",
    };
    expect(step(view([entry(proxy, "same")], { orphans: [orphan] })).verdict).toMatchObject({
      reason: "ManifestOwnedElsewhere",
    });
    // An object with no annotation is adopted (talosctl's AdoptIfNoInventory).
    expect(step(view([entry(proxy, "differs", { owner: "" })])).actions).toHaveLength(1);
  });

  it("prunes nothing when Talos renders nothing while the inventory lists objects", () => {
    const orphan = {
      key: keys.proxy,
      ref: objectRef(proxy),
      exists: true,
      owner: "talos-bootstrap-manifests-inventory",
    };
    const d = step(view([], { inventory: [orphan.key], orphans: [orphan] }));
    expect(d.actions).toEqual([]);
    expect(d.verdict).toMatchObject({ kind: "stalled", reason: "ManifestSyncFailed" });
  });

  it("Diff mode and a dry run publish the changes and apply nothing; Diff mode says so once", () => {
    const v = view([entry(proxy, "differs"), entry(dns, "missing")]);
    const diff = step(v, { spec: spec({ mode: "Diff" }) });
    expect(diff.actions).toEqual([]);
    expect(diff.verdict).toBeUndefined();
    expect(diff.status?.counts).toEqual({ create: 1, update: 1, prune: 0, unchanged: 0 });
    expect(diff.events.map((e) => e.reason)).toEqual(["ManifestsDiffer"]);
    expect(step(v, { spec: spec({ mode: "Diff" }), previous: diff.status }).events).toEqual([]);
    const dry = step(v, { dryRun: true });
    expect(dry.actions).toEqual([]);
    expect(dry.events).toEqual([]);
    expect(dry.status?.create).toEqual(["Deployment/kube-system/coredns"]);
  });

  it("starts no sync while something holds new work back, and shows a failed sync while trying again", () => {
    const v = view([entry(proxy, "differs")]);
    const held = step(v, { hold: { kind: "paused" } });
    expect(held.actions).toEqual([]);
    expect(held.verdict).toEqual({ kind: "paused" });
    const failed = step({ ...v, syncError: "forbidden: cannot patch daemonsets" });
    expect(failed.actions).toHaveLength(1);
    expect(failed.verdict).toMatchObject({ kind: "stalled", reason: "ManifestSyncFailed", retrying: true });
  });

  it("bounds the names in status and keeps the counts whole", () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      entry(object("ConfigMap", `cm-${i}`, "kube-system"), "missing"),
    );
    const d = step(view(many, { inventory: [] }));
    expect(d.status?.create).toHaveLength(20);
    expect(d.status?.counts?.create).toBe(50);
  });
});
