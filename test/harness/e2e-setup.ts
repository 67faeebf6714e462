// jest global setup for the e2e project: a control plane of its own (with the real controllers),
// so e2e runs never see the integration tests' Nodes and plans.
import { ControlPlane } from "./control-plane.ts";
import { e2eKubeconfigEnv } from "./shared-control-plane.ts";

export default async function e2eSetup(): Promise<void> {
  const started = Date.now();
  const plane = await ControlPlane.start({
    controllers: true,
    controllerManagerFlags: ["--node-monitor-grace-period=20s"],
  });
  (globalThis as { tuoE2eControlPlane?: ControlPlane }).tuoE2eControlPlane = plane;
  process.env[e2eKubeconfigEnv] = plane.kubeconfigPath;
  console.log(
    `\ne2e control plane: kube-apiserver ${plane.versions.kubeApiServer} ready in ${Date.now() - started} ms`,
  );
}
