// jest global setup for the e2e project: a control plane of its own (with the real controllers),
// so e2e runs never see the integration tests' Nodes and plans; the CRD installed; and the
// operator's identity: a ServiceAccount bound to exactly deploy/base/rbac.yaml, not an admin.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "./control-plane.ts";
import { serviceAccountKubeconfig } from "./service-accounts.ts";
import { e2eKubeconfigEnv, operatorKubeconfigEnv, scratchDir } from "./shared-control-plane.ts";

const deploy = join(import.meta.dirname, "..", "..", "deploy");

export default async function e2eSetup(): Promise<void> {
  const started = Date.now();
  const plane = await ControlPlane.start({
    controllers: true,
    controllerManagerFlags: ["--node-monitor-grace-period=20s"],
  });
  (globalThis as { tuoE2eControlPlane?: ControlPlane }).tuoE2eControlPlane = plane;
  process.env[e2eKubeconfigEnv] = plane.kubeconfigPath;
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", ["--kubeconfig", plane.kubeconfigPath, ...args], {
      encoding: "utf8",
      ...(input ? { input } : {}),
    });

  kubectl(["apply", "--server-side", "-f", join(deploy, "crds")]);
  // The chart's RBAC, moved to the namespace the e2e operators use.
  const overlay = scratchDir("rbac");
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    `namespace: default\nresources:\n  - ${join(deploy, "base", "serviceaccount.yaml")}\n  - ${join(deploy, "base", "rbac.yaml")}\n`,
  );
  kubectl(["apply", "-f", "-"], kubectl(["kustomize", "--load-restrictor=LoadRestrictionsNone", overlay]));
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfigPath);
  process.env[operatorKubeconfigEnv] = await serviceAccountKubeconfig(
    admin,
    overlay,
    "default",
    "talos-upgrade-operator",
  );
  console.log(
    `\ne2e control plane: kube-apiserver ${plane.versions.kubeApiServer} ready in ${Date.now() - started} ms; the operator runs as system:serviceaccount:default:talos-upgrade-operator`,
  );
}
