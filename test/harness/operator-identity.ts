// The operator's Kubernetes identity on a test control plane: the CRDs, and a ServiceAccount bound
// to exactly the chart's RBAC (deploy/base), moved to `namespace`; returns its token kubeconfig.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { serviceAccountKubeconfig } from "./service-accounts.ts";
import { scratchDir } from "./shared-control-plane.ts";

const deploy = join(import.meta.dirname, "..", "..", "deploy");

/** The ServiceAccount the chart's RBAC binds; its user name is `system:serviceaccount:<ns>:<this>`. */
export const operatorServiceAccount = "talos-upgrade-operator";

export async function installOperatorIdentity(
  adminKubeconfig: string,
  namespace = "default",
): Promise<string> {
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", ["--kubeconfig", adminKubeconfig, ...args], {
      encoding: "utf8",
      ...(input ? { input } : {}),
    });
  kubectl(["apply", "--server-side", "-f", join(deploy, "crds")]);
  kubectl(["wait", "--for=condition=Established", "crd/talosupgradeplans.upgrade.talos-operator.dev"]);
  const overlay = scratchDir("rbac");
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    `namespace: ${namespace}\nresources:\n  - ${join(deploy, "base", "serviceaccount.yaml")}\n  - ${join(deploy, "base", "rbac.yaml")}\n`,
  );
  kubectl(["apply", "-f", "-"], kubectl(["kustomize", "--load-restrictor=LoadRestrictionsNone", overlay]));
  const admin = new KubeConfig();
  admin.loadFromFile(adminKubeconfig);
  return serviceAccountKubeconfig(admin, overlay, namespace, operatorServiceAccount);
}
