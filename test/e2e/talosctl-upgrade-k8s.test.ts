// The real `talosctl upgrade-k8s` against the simulated fleet and the real control plane, and the
// operator on the same cluster: each must find the cluster the other left exactly as it would
// have left it (nothing to patch), so they agree on what an upgraded cluster looks like.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { jest } from "@jest/globals";
import { componentImages } from "../fleet/machine-config.ts";
import { tool } from "../harness/tools.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

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

  it("talosctl takes the cluster to v1.35, the operator then v1.36, and neither finds anything left to patch", async () => {
    scenario = await new Scenario().start({
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.34.2",
      workers: 2,
    });

    const output = await upgradeK8s("1.34.2", "1.35.0");
    expect(output).toContain('updating "kube-apiserver" to version "1.35.0"');
    expect(images()).toEqual(allAt("v1.35.0"));
    const byTalosctl = patches();
    expect(byTalosctl).toBe(3 * 5 + 2);

    await scenario.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready");
    expect(patches()).toBe(byTalosctl);

    await scenario.apply({ kubernetes: { version: "v1.36.0" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("jsonpath={.status.kubernetes.version}=v1.36.0");
    await scenario.waitFor("condition=Ready", 180);
    expect(images()).toEqual(allAt("v1.36.0"));
    const byOperator = patches() - byTalosctl;
    expect(byOperator).toBe(3 * 5 + 2);

    // talosctl on the operator's result succeeds and changes no image. It skips every component
    // whose image is already right, except kube-proxy, which it rewrites unconditionally: that is
    // its one ApplyConfiguration per control plane.
    const before = images();
    await upgradeK8s("1.36.0", "1.36.0");
    expect(images()).toEqual(before);
    expect(patches() - byTalosctl - byOperator).toBe(scenario.fleet.controlPlanes().length);
  });
});
