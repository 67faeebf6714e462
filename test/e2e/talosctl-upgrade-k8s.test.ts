// The real `talosctl upgrade-k8s` against the simulated fleet and the real control plane, and the
// operator on the same cluster: each must find the cluster the other left exactly as it would
// have left it (nothing to patch, no manifest to change), so they agree on what an upgraded
// cluster looks like, bootstrap manifests and their inventory included.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { jest } from "@jest/globals";
import { type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { manifestObjectSchema } from "../../src/model/manifests.ts";
import { tool } from "../../testkit/control-plane/tools.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { componentImages } from "../../testkit/fleet/machine-config.ts";

const run = promisify(execFile);

jest.setTimeout(300_000);

describe("talosctl upgrade-k8s and the operator", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  const patches = () => Object.values(scenario.recorder.configPatches()).reduce((a, b) => a + b, 0);
  const images = () =>
    scenario.fleet
      .nodes()
      .map((n) => ({ node: n.hostname, ...componentImages(scenario.fleet.machineConfig(n)) }));
  const allAt = (version: string) =>
    scenario.fleet.nodes().map((n) => ({
      node: n.hostname,
      kubelet: `ghcr.io/siderolabs/kubelet:${version}`,
      ...(n.isControlPlane
        ? {
            apiServer: `registry.k8s.io/kube-apiserver:${version}`,
            controllerManager: `registry.k8s.io/kube-controller-manager:${version}`,
            scheduler: `registry.k8s.io/kube-scheduler:${version}`,
            proxy: `registry.k8s.io/kube-proxy:${version}`,
          }
        : {}),
    }));
  const upgradeK8s = async (from: string, to: string) => {
    const endpoint = scenario.fleet.controlPlanes()[0]?.address ?? "";
    const { stdout, stderr } = await run(
      tool("talosctl", "talosctl"),
      [
        "--talosconfig",
        scenario.fleet.talosconfig.admin,
        "-n",
        endpoint,
        "upgrade-k8s",
        // The e2e cluster keeps other scenarios' mirror pods around for a while: say where we start.
        "--from",
        from,
        "--to",
        to,
        "--with-docs=false",
        "--with-examples=false",
      ],
      { timeout: 240_000 },
    );
    return `${stdout}${stderr}`;
  };

  /** Every bootstrap manifest object as the cluster has it: version, field managers, inventory mark, image. */
  const manifestState = async () => {
    const api = KubernetesObjectApi.makeApiClient(scenario.kc);
    const cp = scenario.fleet.controlPlanes()[0];
    const rendered = cp ? Object.values(scenario.fleet.manifests(cp)).flat() : [];
    const inventory = await scenario
      .kubectl(["get", "configmap", "-n", "kube-system", "talos-bootstrap-manifests-inventory", "-o", "json"])
      .then((r) => (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {});
    const objects = await Promise.all(
      rendered.map(async (o) => {
        const live = (await api.read(manifestObjectSchema.parse(o))) as KubernetesObject & {
          spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
        };
        const meta = live.metadata ?? {};
        return [
          `${live.kind}/${meta.name}`,
          {
            resourceVersion: meta.resourceVersion,
            // Who applied the object: the controllers' status writers come and go with rollouts.
            appliedBy: (meta.managedFields ?? [])
              .filter((f) => f.operation === "Apply")
              .map((f) => f.manager)
              .sort(),
            inventory: meta.annotations?.["config.k8s.io/owning-inventory"],
            image: live.spec?.template?.spec?.containers?.[0]?.image,
          },
        ] as const;
      }),
    );
    return { inventory, objects: Object.fromEntries(objects) };
  };
  const withoutVersions = (state: Awaited<ReturnType<typeof manifestState>>) =>
    Object.fromEntries(
      Object.entries(state.objects).map(([ref, { resourceVersion: _v, ...rest }]) => [ref, rest]),
    );

  it("talosctl takes the cluster to v1.35, the operator then v1.36, and neither finds anything left to patch or sync", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.34.2",
      workers: 2,
      manifests: true,
    });

    const output = await upgradeK8s("1.34.2", "1.35.0");
    expect(output).toContain('updating "kube-apiserver" to version "1.35.0"');
    expect(output).toContain("DaemonSet/kube-system/kube-proxy");
    expect(images()).toEqual(allAt("v1.35.0"));
    const byTalosctl = patches();
    expect(byTalosctl).toBe(3 * 5 + 2);
    const afterTalosctl = await manifestState();
    expect(afterTalosctl.objects["DaemonSet/kube-proxy"]).toMatchObject({
      image: "registry.k8s.io/kube-proxy:v1.35.0",
      appliedBy: ["talos"],
      inventory: "talos-bootstrap-manifests-inventory",
    });

    // The operator on talosctl's result: no patch, and a manifest sync that finds nothing to do.
    await scenario.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready");
    expect(patches()).toBe(byTalosctl);
    const synced = (await scenario.status()).kubernetes?.manifests;
    expect(synced?.counts).toMatchObject({ create: 0, update: 0, prune: 0 });
    expect(synced?.counts?.unchanged).toBe(Object.keys(afterTalosctl.objects).length);
    expect(await manifestState()).toEqual(afterTalosctl);

    await scenario.apply({ kubernetes: { version: "v1.36.0" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("jsonpath={.status.kubernetes.version}=v1.36.0");
    await scenario.waitFor("condition=Ready", 180);
    expect(images()).toEqual(allAt("v1.36.0"));
    const byOperator = patches() - byTalosctl;
    expect(byOperator).toBe(3 * 5 + 2);
    const afterOperator = await manifestState();
    expect(afterOperator.objects["DaemonSet/kube-proxy"]?.image).toBe("registry.k8s.io/kube-proxy:v1.36.0");
    // What each tool leaves looks the same: applied by talos, marked for the inventory, listed in it.
    for (const state of [afterTalosctl, afterOperator]) {
      for (const object of Object.values(state.objects)) {
        expect(object.appliedBy).toEqual(["talos"]);
        expect(object.inventory).toBe("talos-bootstrap-manifests-inventory");
      }
      expect(Object.values(state.inventory).every((v) => v === "")).toBe(true);
      expect(Object.keys(state.inventory)).toHaveLength(Object.keys(state.objects).length);
    }
    expect(Object.keys(afterTalosctl.inventory)).toContain("kube-system_kube-proxy-legacy__ConfigMap");
    expect(Object.keys(afterOperator.inventory)).not.toContain("kube-system_kube-proxy-legacy__ConfigMap");

    // talosctl on the operator's result succeeds and changes no image and no object. It skips every
    // component whose image is already right, except kube-proxy, which it rewrites unconditionally:
    // that is its one ApplyConfiguration per control plane.
    const before = images();
    await upgradeK8s("1.36.0", "1.36.0");
    expect(images()).toEqual(before);
    expect(patches() - byTalosctl - byOperator).toBe(scenario.fleet.controlPlanes().length);
    const afterBoth = await manifestState();
    expect(afterBoth.inventory).toEqual(afterOperator.inventory);
    expect(withoutVersions(afterBoth)).toEqual(withoutVersions(afterOperator));
    expect(afterBoth.objects).toEqual(afterOperator.objects);
  });
});
