// The bootstrap manifest sync on a real kube-apiserver: the decision (core/manifests.ts) from a
// real dry run, carried out by the adapter, then compared again. Each test keeps its objects and
// its inventory in a namespace of its own, so that nothing else on the shared cluster is touched.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1ConfigMap,
} from "@kubernetes/client-node";
import { stepManifests } from "../../src/core/manifests.ts";
import { ManifestSync } from "../../src/kube/manifest-sync.ts";
import type { ManifestObject } from "../../src/model/manifests.ts";
import type { ManifestsView } from "../../src/model/observation.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";

// talosctl's inventory ConfigMap and the annotation that marks what it owns, written out here rather
// than read from src/: the two tools take turns on one cluster only while these stay talosctl's.
const inventoryName = "talos-bootstrap-manifests-inventory";
const owningInventoryAnnotation = "config.k8s.io/owning-inventory";

describe("bootstrap manifest sync", () => {
  const kc: KubeConfig = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  let ns: string;
  let sync: ManifestSync;

  beforeEach(() => {
    ns = uniqueName("ms");
    sync = new ManifestSync(kc, ns);
  });

  afterEach(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await rbac.deleteClusterRole({ name: `test:${ns}` }).catch(() => undefined);
  });

  const rendered = (over: { data?: string; selector?: string; without?: string[] } = {}): ManifestObject[] =>
    [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: ns },
        spec: deployment(over.selector ?? "web"),
      },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "app", namespace: ns } },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings", namespace: ns },
        data: { a: over.data ?? "1" },
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `test:${ns}` },
        rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }],
      },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    ].filter((o) => !(over.without ?? []).includes(o.metadata.name));

  const view = async (objects: ManifestObject[], method: ManifestsView["method"] = "ServerSideApply") => ({
    source: "cp-1",
    method,
    ...(await sync.inspect(objects, method)),
  });
  const decide = (v: ManifestsView, spec: { prune?: boolean; recreate?: boolean } = {}) =>
    stepManifests({
      view: v,
      spec: { mode: "Apply", prune: true, recreate: false, timeout: "5m", ...spec },
      previous: undefined,
      now: new Date(),
      dryRun: false,
    });
  /** One pass: dry run, decision, sync. */
  const pass = async (
    objects: ManifestObject[],
    spec: { prune?: boolean; recreate?: boolean } = {},
    method: ManifestsView["method"] = "ServerSideApply",
  ) => {
    const step = decide(await view(objects, method), spec);
    for (const action of step.actions) if (action.kind === "syncManifests") await sync.sync(action);
    return step;
  };
  const inventoryData = async () =>
    (await core.readNamespacedConfigMap({ name: inventoryName, namespace: ns })).data;
  const settings = () => core.readNamespacedConfigMap({ name: "settings", namespace: ns });

  it("creates in talosctl's stages, records the inventory as talosctl does, then finds nothing to do", async () => {
    const first = await view(rendered());
    expect(first.entries.map((e) => e.state)).toEqual([
      "missing",
      "missing",
      "missing",
      "missing",
      "missing",
    ]);
    expect(first.inventory).toBeUndefined();
    const step = decide(first);
    const action = step.actions[0];
    if (action?.kind !== "syncManifests") throw new Error("expected a sync");
    expect(action.stages.map((stage) => stage.map((o) => o.kind))).toEqual([
      ["Namespace", "ClusterRole"],
      ["ConfigMap"],
      ["ServiceAccount", "Deployment"],
    ]);
    expect(step.status?.counts).toEqual({ create: 5, update: 0, prune: 0, unchanged: 0 });
    expect(step.status?.rollingOut).toEqual([`Deployment/${ns}/web`]);
    await sync.sync(action);

    const second = await view(rendered());
    expect(second.entries.map((e) => e.state)).toEqual(["same", "same", "same", "same", "same"]);
    expect(await inventoryData()).toEqual({
      [`${ns}_web_apps_Deployment`]: "",
      [`${ns}_app__ServiceAccount`]: "",
      [`${ns}_settings__ConfigMap`]: "",
      [`_test__${ns}_rbac.authorization.k8s.io_ClusterRole`]: "",
      [`_${ns}__Namespace`]: "",
    });
    const live: V1ConfigMap = await settings();
    expect(live.metadata?.annotations?.[owningInventoryAnnotation]).toBe(inventoryName);
    expect(live.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([["talos", "Apply"]]);
    const again = decide(second);
    expect(again.actions).toEqual([]);
    expect(again.verdict).toBeUndefined();
    expect(again.status?.counts).toEqual({ create: 0, update: 0, prune: 0, unchanged: 5 });
  });

  it("updates what differs and names the fields, never their values", async () => {
    await pass(rendered());
    const changed = await view(rendered({ data: "secret-ish" }));
    const entry = changed.entries.find((e) => e.object.kind === "ConfigMap");
    expect(entry).toMatchObject({ state: "differs", fields: ["data.a"] });
    const step = decide(changed);
    expect(step.status?.update).toEqual([`ConfigMap/${ns}/settings`]);
    expect(JSON.stringify(step.status)).not.toContain("secret-ish");
    expect(JSON.stringify(step.events)).not.toContain("secret-ish");
    await pass(rendered({ data: "secret-ish" }));
    expect((await settings()).data).toEqual({ a: "secret-ish" });
    expect((await view(rendered({ data: "secret-ish" }))).entries.every((e) => e.state === "same")).toBe(
      true,
    );
  });

  it("prunes what Talos no longer renders, and keeps it listed with prune off", async () => {
    await pass(rendered());
    const kept = await pass(rendered({ without: ["settings"] }), { prune: false });
    expect(kept.actions).toEqual([]);
    expect((await settings()).metadata?.name).toBe("settings");
    expect(Object.keys((await inventoryData()) ?? {})).toContain(`${ns}_settings__ConfigMap`);

    const pruned = await pass(rendered({ without: ["settings"] }));
    expect(pruned.status?.prune).toEqual([`ConfigMap/${ns}/settings`]);
    await expect(settings()).rejects.toMatchObject({ code: 404 });
    expect(Object.keys((await inventoryData()) ?? {})).not.toContain(`${ns}_settings__ConfigMap`);
    expect((await pass(rendered({ without: ["settings"] }))).actions).toEqual([]);
  });

  it("stalls on a changed immutable field and names it; recreates only when allowed", async () => {
    await pass(rendered());
    const before = await apps.readNamespacedDeployment({ name: "web", namespace: ns });
    const refused = await pass(rendered({ selector: "web-v2" }));
    expect(refused.actions).toEqual([]);
    expect(refused.verdict).toMatchObject({ kind: "stalled", reason: "ImmutableFieldChanged" });
    expect(refused.verdict && "message" in refused.verdict ? refused.verdict.message : "").toContain(
      `Deployment/${ns}/web (spec.selector)`,
    );

    await pass(rendered({ selector: "web-v2" }), { recreate: true });
    const after = await apps.readNamespacedDeployment({ name: "web", namespace: ns });
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    expect(after.spec?.selector.matchLabels).toEqual({ app: "web-v2" });
  });

  it("adopts an object with no inventory, and leaves one another inventory owns", async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "settings" }, data: { a: "1" } },
    });
    const adopted = await view(rendered({ without: ["web"] }));
    expect(adopted.entries.find((e) => e.object.kind === "ConfigMap")).toMatchObject({
      state: "differs",
      fields: [`metadata.annotations`],
    });
    await pass(rendered({ without: ["web"] }));
    expect((await settings()).metadata?.annotations?.[owningInventoryAnnotation]).toBe(inventoryName);

    await core.patchNamespacedConfigMap({
      name: "settings",
      namespace: ns,
      body: [
        { op: "replace", path: "/metadata/annotations", value: { [owningInventoryAnnotation]: "other" } },
      ],
    });
    const foreign = await pass(rendered({ without: ["web"], data: "2" }));
    expect(foreign.actions).toEqual([]);
    expect(foreign.verdict).toMatchObject({ kind: "stalled", reason: "ManifestOwnedElsewhere" });
    expect((await settings()).data).toEqual({ a: "1" });
  });

  it("on Talos before v1.13, creates and updates as talosctl does there: no field manager of its own, no inventory", async () => {
    await pass(rendered({ without: ["web"] }), {}, "Legacy");
    expect((await settings()).metadata?.annotations?.[owningInventoryAnnotation]).toBeUndefined();
    await expect(inventoryData()).rejects.toMatchObject({ code: 404 });
    const changed = await view(rendered({ without: ["web"], data: "2" }), "Legacy");
    expect(changed.entries.find((e) => e.object.kind === "ConfigMap")).toMatchObject({ state: "differs" });
    await pass(rendered({ without: ["web"], data: "2" }), {}, "Legacy");
    expect((await settings()).data).toEqual({ a: "2" });
    expect(
      (await view(rendered({ without: ["web"], data: "2" }), "Legacy")).entries.every(
        (e) => e.state === "same",
      ),
    ).toBe(true);
  });

  it("prunes nothing when Talos renders nothing at all", async () => {
    await pass(rendered());
    const empty = await pass([]);
    expect(empty.actions).toEqual([]);
    expect(empty.verdict).toMatchObject({ kind: "stalled", reason: "ManifestSyncFailed" });
    expect((await settings()).metadata?.name).toBe("settings");
  });
});

function deployment(app: string) {
  return {
    replicas: 0,
    selector: { matchLabels: { app } },
    template: {
      metadata: { labels: { app } },
      spec: { containers: [{ name: "web", image: "example.invalid/web:1" }] },
    },
  };
}
