// The bootstrap manifest sync seen from a plan: a dry run publishes what a sync would change and
// changes no object; Diff mode does the same on a real run and still upgrades the components; on
// Talos v1.12 the sync takes talosctl's pre-v1.13 path; a changed immutable field stalls the plan
// until recreate is allowed.
import { jest } from "@jest/globals";
import { type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { manifestObjectSchema } from "../../src/model/manifests.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";

jest.setTimeout(240_000);

describe("bootstrap manifests and a plan", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  /** One control plane and one worker on these versions, rendering bootstrap manifests. */
  const small = (talosVersion: string, kubernetesVersion: string) =>
    new Scenario().start({ controlPlanes: 1, workers: 1, talosVersion, kubernetesVersion, manifests: true });
  /** The objects the control planes render at the start. */
  const renderedNow = () => {
    const cp = scenario.fleet.controlPlanes()[0];
    return cp ? Object.values(scenario.fleet.manifests(cp)).flat() : [];
  };
  /** resourceVersion of each of `objects` (absent: gone). */
  const versions = async (objects: unknown[]) => {
    const api = KubernetesObjectApi.makeApiClient(scenario.kc);
    const read = async (o: unknown) => {
      const object = manifestObjectSchema.parse(o);
      const live: KubernetesObject | undefined = await api.read(object).catch(() => undefined);
      return [`${object.kind}/${object.metadata.name}`, live?.metadata?.resourceVersion ?? "absent"] as const;
    };
    return Object.fromEntries(await Promise.all(objects.map(read)));
  };
  /**
   * A person changed CoreDNS by hand: the drift a sync would undo. Then every workload settles, so
   * that no controller writes status while the objects are compared.
   */
  const driftCoreDns = async () => {
    await scenario.kubectl([
      "set",
      "image",
      "-n",
      "kube-system",
      "deployment/coredns",
      "coredns=registry.k8s.io/coredns/coredns:v0.0.1-hand",
    ]);
    for (const workload of ["deployment/coredns", "daemonset/kube-proxy", "daemonset/kube-flannel"])
      await scenario.kubectl(["rollout", "status", "-n", "kube-system", workload, "--timeout=60s"]);
  };

  it("a dry run publishes the manifest diff and changes no object", async () => {
    scenario = await small("v1.13.0", "v1.35.2");
    await driftCoreDns();
    const rendered = renderedNow();
    const before = await versions(rendered);
    await scenario.apply({ kubernetes: { version: "v1.36.0" }, dryRun: true });
    await scenario.waitFor("jsonpath={.status.kubernetes.manifests.method}=ServerSideApply");
    const manifests = (await scenario.status()).kubernetes?.manifests;
    // As the nodes render them now: CoreDNS back to Talos' image; nothing pruned before v1.36.
    expect(manifests).toMatchObject({
      update: ["Deployment/kube-system/coredns"],
      create: [],
      prune: [],
      counts: { create: 0, update: 1, prune: 0 },
    });
    expect(await versions(rendered)).toEqual(before);
    expect(Object.values(scenario.recorder.configPatches()).every((n) => n === 0)).toBe(true);
  });

  it("on Talos v1.12, updates what changed with no inventory and no prune, as talosctl does there", async () => {
    scenario = await small("v1.12.4", "v1.34.2");
    await scenario.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready", 180);
    const manifests = (await scenario.status()).kubernetes?.manifests;
    expect(manifests).toMatchObject({ method: "Legacy", rollingOut: [] });
    const proxy = JSON.parse(
      (await scenario.kubectl(["get", "daemonset", "-n", "kube-system", "kube-proxy", "-o", "json"])).stdout,
    ) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(proxy.spec.template.spec.containers[0]?.image).toBe("registry.k8s.io/kube-proxy:v1.35.0");
    await expect(
      scenario.kubectl(["get", "configmap", "-n", "kube-system", "talos-bootstrap-manifests-inventory"]),
    ).rejects.toThrow(/NotFound/);
    const applied = (await scenario.events()).find((e) => e.reason === "ManifestsApplied");
    expect(applied?.message).toContain("update 1 (DaemonSet/kube-system/kube-proxy)");
  });

  it("a changed immutable field stalls the plan naming it, until recreate is allowed", async () => {
    scenario = await small("v1.14.0", "v1.36.0");
    const plan = { kubernetes: { version: "v1.37.0" }, rollout: { nodeTimeout: "2m" } };
    await scenario.apply(plan);
    await scenario.waitFor("condition=Stalled", 180);
    const stalled = scenario.condition(await scenario.status(), "Stalled");
    expect(stalled).toMatchObject({ reason: "ImmutableFieldChanged" });
    expect(stalled?.message).toContain("DaemonSet/kube-system/kube-proxy (spec.selector)");
    await scenario.apply({ ...plan, kubernetes: { ...plan.kubernetes, manifests: { recreate: true } } });
    await scenario.waitFor("condition=Ready", 180);
    const proxy = JSON.parse(
      (await scenario.kubectl(["get", "daemonset", "-n", "kube-system", "kube-proxy", "-o", "json"])).stdout,
    ) as { spec: { selector: { matchLabels: Record<string, string> } } };
    expect(proxy.spec.selector.matchLabels).toEqual({ "k8s-app": "kube-proxy", tier: "node" });
    await scenario.kubectl([
      "rollout",
      "status",
      "-n",
      "kube-system",
      "daemonset/kube-proxy",
      "--timeout=30s",
    ]);
  });

  it("Diff mode upgrades the components, publishes the diff, and leaves the manifests as they are", async () => {
    scenario = await small("v1.13.0", "v1.35.2");
    await driftCoreDns();
    const rendered = renderedNow();
    const before = await versions(rendered);
    await scenario.apply({
      kubernetes: { version: "v1.36.0", manifests: { mode: "Diff" } },
      rollout: { nodeTimeout: "2m" },
    });
    await scenario.waitFor("condition=Ready", 180);
    const manifests = (await scenario.status()).kubernetes?.manifests;
    expect(manifests?.update).toEqual(["DaemonSet/kube-system/kube-proxy", "Deployment/kube-system/coredns"]);
    expect(manifests?.prune).toEqual(["ConfigMap/kube-system/kube-proxy-legacy"]);
    expect(await versions(rendered)).toEqual(before);
    const events = await scenario.events();
    expect(events.filter((e) => e.reason === "ManifestsDiffer")).toHaveLength(1);
    expect(events.some((e) => e.reason === "ManifestsApplied")).toBe(false);
  });
});
