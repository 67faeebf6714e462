// What an e2e scenario needs from a control plane: an admin kubeconfig and the operator's own
// least-privilege one (a ServiceAccount bound to exactly deploy/base/rbac.yaml, not an admin), with
// the CRD installed. The e2e global setup prepares one for the run; a test that restarts the
// kube-apiserver (the chaos test) starts its own, so other tests never see the outage.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ControlPlane, type ControlPlaneOptions } from "./control-plane.ts";
import { waitEstablished } from "./kubectl.ts";
import { serviceAccountKubeconfig } from "./service-accounts.ts";
import {
  e2eEtcdUrlEnv,
  e2eKubeconfigEnv,
  operatorKubeconfigEnv,
  scratchDir,
} from "./shared-control-plane.ts";

export interface E2eCluster {
  /** Admin (system:masters) kubeconfig: what the test, kubectl and the kubelet stand-in use. */
  kubeconfig: string;
  /** The operator's ServiceAccount kubeconfig. */
  operatorKubeconfig: string;
  /** The control plane's etcd (client URL, plain http): what the scenario's fleet snapshots. */
  etcdUrl: string;
}

const deploy = join(import.meta.dirname, "..", "..", "deploy");

/** A control plane with the real controllers (node lifecycle on a short grace period), ready for e2e. */
export async function startE2eControlPlane(
  options: Pick<ControlPlaneOptions, "auditPolicy"> = {},
): Promise<{ plane: ControlPlane; cluster: E2eCluster }> {
  const plane = await ControlPlane.start({
    controllers: true,
    controllerManagerFlags: ["--node-monitor-grace-period=20s"],
    ...options,
  });
  try {
    return { plane, cluster: await prepareE2eCluster(plane) };
  } catch (error) {
    await plane.stop();
    throw error;
  }
}

/** The CRDs and the operator's ServiceAccount on a running control plane (the benchmark uses it too). */
export async function prepareE2eCluster(plane: ControlPlane): Promise<E2eCluster> {
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", ["--kubeconfig", plane.kubeconfigPath, ...args], {
      encoding: "utf8",
      ...(input ? { input } : {}),
    });
  kubectl(["apply", "--server-side", "-f", join(deploy, "crds")]);
  await waitEstablished("talosupgradeplans.upgrade.talos-operator.dev", { kubeconfig: plane.kubeconfigPath });
  // The chart's RBAC, moved to the namespace the e2e operators use.
  const overlay = scratchDir("rbac");
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    `namespace: default\nresources:\n  - ${join(deploy, "base", "serviceaccount.yaml")}\n  - ${join(deploy, "base", "rbac.yaml")}\n`,
  );
  kubectl(["apply", "-f", "-"], kubectl(["kustomize", "--load-restrictor=LoadRestrictionsNone", overlay]));
  // The manifest sync's grants stay in kube-system and cluster-wide; only their subject moves.
  const sync = readFileSync(join(deploy, "base", "rbac-manifests.yaml"), "utf8");
  kubectl(["apply", "-f", "-"], sync.replaceAll("namespace: talos-upgrade-system", "namespace: default"));
  // The Lease FlowSchema, its subject and Lease namespace moved with the ServiceAccount: the
  // benchmark's operator renews its Lease on an apiserver its drains keep busy.
  const leases = readFileSync(join(deploy, "base", "flowschema.yaml"), "utf8");
  kubectl(["apply", "-f", "-"], leases.replaceAll("talos-upgrade-system", "default"));
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfigPath);
  const operatorKubeconfig = await serviceAccountKubeconfig(
    admin,
    overlay,
    "default",
    "talos-upgrade-operator",
  );
  return { kubeconfig: plane.kubeconfigPath, operatorKubeconfig, etcdUrl: plane.etcdUrl };
}

/** The run's e2e cluster, prepared by the jest global setup (e2e-setup.ts). */
export function sharedE2eCluster(): E2eCluster {
  const kubeconfig = process.env[e2eKubeconfigEnv];
  const operatorKubeconfig = process.env[operatorKubeconfigEnv];
  const etcdUrl = process.env[e2eEtcdUrlEnv];
  if (!kubeconfig || !operatorKubeconfig || !etcdUrl)
    throw new Error(
      `${e2eKubeconfigEnv} / ${operatorKubeconfigEnv} / ${e2eEtcdUrlEnv} are not set: the e2e global setup prepares the cluster`,
    );
  return { kubeconfig, operatorKubeconfig, etcdUrl };
}
