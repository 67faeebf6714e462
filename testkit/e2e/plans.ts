// TalosUpgradePlan manifests for tests, and the CRD installed into the run's control plane.
import { join } from "node:path";
import { kubectl, waitEstablished } from "../control-plane/kubectl.ts";

export const crdPath = join(
  import.meta.dirname,
  "..",
  "..",
  "deploy",
  "crds",
  "upgrade.talos-operator.dev_talosupgradeplans.yaml",
);

/** Installs (or updates) the CRD and waits until the apiserver serves it. */
export async function installCrd(): Promise<void> {
  await kubectl(["apply", "--server-side", "-f", crdPath]);
  await waitEstablished("talosupgradeplans.upgrade.talos-operator.dev", { timeoutMs: 30_000 });
}

/** A plan as JSON, which kubectl reads as YAML. */
export function planManifest(
  name: string,
  spec: unknown,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): string {
  return JSON.stringify({
    apiVersion: "upgrade.talos-operator.dev/v1alpha1",
    kind: "TalosUpgradePlan",
    metadata: { name, ...metadata },
    spec,
  });
}
