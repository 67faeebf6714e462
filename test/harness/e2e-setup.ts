// jest global setup for the e2e project: a control plane of its own (with the real controllers),
// so e2e runs never see the integration tests' Nodes and plans; the CRD installed; and the
// operator's identity (see e2e-cluster.ts).

import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { startE2eControlPlane } from "../../testkit/control-plane/e2e-cluster.ts";
import {
  e2eEtcdUrlEnv,
  e2eKubeconfigEnv,
  operatorKubeconfigEnv,
} from "../../testkit/control-plane/shared-control-plane.ts";

export default async function e2eSetup(): Promise<void> {
  const started = Date.now();
  const { plane, cluster } = await startE2eControlPlane();
  (globalThis as { tuoE2eControlPlane?: ControlPlane }).tuoE2eControlPlane = plane;
  process.env[e2eKubeconfigEnv] = cluster.kubeconfig;
  process.env[operatorKubeconfigEnv] = cluster.operatorKubeconfig;
  process.env[e2eEtcdUrlEnv] = cluster.etcdUrl;
  console.log(
    `\ne2e control plane: kube-apiserver ${plane.versions.kubeApiServer} ready in ${Date.now() - started} ms; the operator runs as system:serviceaccount:default:talos-upgrade-operator`,
  );
}
