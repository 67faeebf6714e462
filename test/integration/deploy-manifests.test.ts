// The kustomize base as a user installs it: `kubectl apply -k deploy/` accepted by the real
// apiserver (server-side dry run), and RBAC without wildcards.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { sharedKubeconfigPath } from "../../testkit/control-plane/shared-control-plane.ts";

const run = promisify(execFile);
const deploy = join(import.meta.dirname, "..", "..", "deploy");

it("kubectl apply -k deploy/ is accepted by the apiserver (server-side dry run)", async () => {
  // A dry run creates nothing, so the namespace the namespaced objects go to must exist already.
  await run("kubectl", [
    "--kubeconfig",
    sharedKubeconfigPath(),
    "apply",
    "-f",
    join(deploy, "base", "namespace.yaml"),
  ]);
  const { stdout } = await run("kubectl", [
    "--kubeconfig",
    sharedKubeconfigPath(),
    "apply",
    "-k",
    deploy,
    "--server-side",
    "--dry-run=server",
  ]);
  for (const object of [
    "customresourcedefinition.apiextensions.k8s.io/talosupgradeplans.upgrade.talos-operator.dev",
    "namespace/talos-upgrade-system",
    "clusterrole.rbac.authorization.k8s.io/talos-upgrade-operator",
    "deployment.apps/talos-upgrade-operator",
  ]) {
    expect(stdout).toContain(object);
  }
});

it("grants no wildcard verb, resource or API group", async () => {
  const { stdout } = await run("kubectl", ["kustomize", deploy]);
  const rules = parseAllDocuments(stdout)
    .map(
      (d) =>
        d.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] },
    )
    .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
    .flatMap((o) => o.rules ?? []);
  expect(rules.length).toBeGreaterThan(0);
  for (const rule of rules) {
    expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain("*");
  }
});
