// jest global setup: one real control plane per test run (with the real controllers), shared by
// every test file through its kubeconfig; tests isolate themselves by namespace or name.
import { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { etcdUrlEnv, kubeconfigEnv } from "../../testkit/control-plane/shared-control-plane.ts";

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const plane = await ControlPlane.start({ controllers: true });
  (globalThis as { tuoControlPlane?: ControlPlane }).tuoControlPlane = plane;
  process.env[kubeconfigEnv] = plane.kubeconfigPath;
  process.env[etcdUrlEnv] = plane.etcdUrl;
  console.log(
    `\ncontrol plane: kube-apiserver ${plane.versions.kubeApiServer}, etcd ${plane.versions.etcd}, ` +
      `with controller-manager and scheduler, ready in ${Date.now() - started} ms at ${plane.server}`,
  );
}
