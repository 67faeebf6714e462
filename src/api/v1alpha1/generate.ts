// `npm run generate:crd`: writes the generated CRD where kustomize and Helm pick it up, and the
// argocd-cm snippet that carries deploy/argocd/health.lua.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { planCrdYaml } from "./crd.ts";
import { group, kind } from "./plan.ts";
import { apiReference } from "./reference.ts";

export const crdFiles = [
  "deploy/crds/upgrade.talos-operator.dev_talosupgradeplans.yaml",
  "charts/talos-upgrade-operator/crds/upgrade.talos-operator.dev_talosupgradeplans.yaml",
];
export const argocdHealthScript = "deploy/argocd/health.lua";
export const argocdConfigMap = "deploy/argocd/argocd-cm.yaml";
export const apiReferenceFile = "deploy/api-reference.md";

const root = join(import.meta.dirname, "..", "..", "..");

/** The argocd-cm entries that register the health check (merge them into your argocd-cm). */
export function argocdConfigMapYaml(): string {
  const script = readFileSync(join(root, argocdHealthScript), "utf8");
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "argocd-cm", namespace: "argocd", labels: { "app.kubernetes.io/part-of": "argocd" } },
    data: { [`resource.customizations.health.${group}_${kind}`]: script },
  };
  return `# Generated from ${argocdHealthScript} by \`npm run generate\`; merge into your argocd-cm.\n${stringify(configMap, { lineWidth: 0 })}`;
}

if (process.argv[1] === import.meta.filename) {
  for (const file of crdFiles) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), planCrdYaml());
  }
  writeFileSync(join(root, argocdConfigMap), argocdConfigMapYaml());
  writeFileSync(join(root, apiReferenceFile), apiReference());
}
