// `npm run generate:crd`: writes the generated CRD where kustomize and Helm pick it up.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { planCrdYaml } from "./crd.ts";

export const crdFiles = [
  "deploy/crds/upgrade.talos-operator.dev_talosupgradeplans.yaml",
  "charts/talos-upgrade-operator/crds/upgrade.talos-operator.dev_talosupgradeplans.yaml",
];

const root = join(import.meta.dirname, "..", "..", "..");
if (process.argv[1] === import.meta.filename) {
  for (const file of crdFiles) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), planCrdYaml());
  }
}
