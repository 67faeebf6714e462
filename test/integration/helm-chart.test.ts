// The Helm chart as users install it: `helm lint`, `helm template` with default values and with
// every option, each rendering accepted by the real apiserver (server-side dry run); the values
// schema refuses bad values; the chart's RBAC is the kustomize base's.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { loadSettings } from "../../src/settings.ts";
import { helm } from "../../testkit/control-plane/helm.ts";
import { kubectl, waitEstablished } from "../../testkit/control-plane/kubectl.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const chart = join(root, "charts", "talos-upgrade-operator");
const allOptions = join(import.meta.dirname, "values-all-options.yaml");
const namespace = "tuo-chart";

/** Minimal CRDs for the third-party kinds the chart can render, as they exist on real clusters. */
function thirdPartyCrd(group: string, kind: string, plural: string, version: string) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase() },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

beforeAll(async () => {
  const crds = [
    thirdPartyCrd("talos.dev", "ServiceAccount", "serviceaccounts", "v1alpha1"),
    thirdPartyCrd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors", "v1"),
    thirdPartyCrd("monitoring.coreos.com", "PrometheusRule", "prometheusrules", "v1"),
  ];
  await kubectl(["apply", "--server-side", "-f", "-"], crds.map((c) => JSON.stringify(c)).join("\n"));
  await kubectl(["apply", "--server-side", "-f", join(root, "deploy", "crds")]);
  for (const c of crds) await waitEstablished(c.metadata.name);
  await kubectl(["create", "namespace", namespace]).catch(() => undefined);
});

it.each([
  ["default values", [] as string[]],
  ["every option", ["-f", allOptions]],
])("lints, renders and is accepted by the apiserver with %s", async (_case, values) => {
  await helm(["lint", chart, ...values]);
  const { stdout } = await helm([
    "template",
    "talos-upgrade-operator",
    chart,
    "--namespace",
    namespace,
    ...values,
  ]);
  const kinds = parseAllDocuments(stdout)
    .map((d) => (d.toJS() as { kind?: string } | null)?.kind)
    .filter(Boolean);
  expect(kinds).toEqual(
    expect.arrayContaining([
      "Deployment",
      "ServiceAccount",
      "ClusterRole",
      "Role",
      "Service",
      "PodDisruptionBudget",
      "FlowSchema",
    ]),
  );
  const applied = await kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], stdout);
  expect(applied.stdout).toContain(
    "deployment.apps/talos-upgrade-operator serverside-applied (server dry run)",
  );
  if (values.length > 0) {
    for (const kind of ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "ConfigMap"])
      expect(kinds).toContain(kind);
  }
});

it("passes the default etcd snapshot bucket to the operator as its settings read it, and opens its port", async () => {
  const { stdout } = await helm(["template", "x", chart, "-f", allOptions]);
  const docs = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, unknown> | null);
  type Container = { env?: { name: string; value?: string }[] };
  const deployment = docs.find((d) => d?.kind === "Deployment") as
    | { spec: { template: { spec: { containers: Container[] } } } }
    | undefined;
  const env = Object.fromEntries(
    (deployment?.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? ""]),
  );
  const loaded = loadSettings(env);
  expect(loaded).toMatchObject({
    ok: true,
    settings: {
      etcdBackupS3: {
        endpoint: "https://s3.eu-central-1.amazonaws.com",
        bucket: "etcd-backups",
        prefix: "clusters/prod/",
        forcePathStyle: false,
        credentialsSecretRef: { name: "etcd-backup-s3", sessionTokenKey: "token" },
      },
    },
  });
  const policy = docs.find((d) => d?.kind === "NetworkPolicy") as
    | { spec: { egress: { ports: { port: number }[] }[] } }
    | undefined;
  expect(policy?.spec.egress[0]?.ports.map((p) => p.port)).toEqual(expect.arrayContaining([9000, 9093]));
  // Unset, no default bucket: plans without spec.etcdBackup.s3 take no snapshot.
  const plain = (await helm(["template", "x", chart])).stdout;
  expect(plain).not.toContain("ETCD_BACKUP_S3");
});

it("fits its PodDisruptionBudget to the replicas: none for one replica, always one that may move", async () => {
  const budgets = async (...set: string[]) => {
    const { stdout } = await helm(["template", "x", chart, ...set.flatMap((s) => ["--set", s])]);
    return parseAllDocuments(stdout)
      .map((d) => d.toJSON() as { kind?: string; spec?: { minAvailable?: number } } | null)
      .filter((d) => d?.kind === "PodDisruptionBudget")
      .map((d) => d?.spec?.minAvailable);
  };
  expect(await budgets("replicaCount=1")).toEqual([]);
  expect(await budgets("replicaCount=2")).toEqual([1]);
  expect(await budgets("replicaCount=2", "podDisruptionBudget.minAvailable=2")).toEqual([1]);
  expect(await budgets("replicaCount=3", "podDisruptionBudget.minAvailable=2")).toEqual([2]);
});

it("the values schema refuses a bad value, naming it", async () => {
  await expect(helm(["template", "x", chart, "--set", "replicaCount=0"])).rejects.toMatchObject({
    stderr: expect.stringContaining("replicaCount"),
  });
  await expect(helm(["template", "x", chart, "--set", "logLevel=loud"])).rejects.toMatchObject({
    stderr: expect.stringContaining("logLevel"),
  });
});

it("grants exactly the RBAC of the kustomize base", async () => {
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const rules = (yaml: string) =>
    parseAllDocuments(yaml)
      .map((d) => d.toJS() as { kind?: string; rules?: Rule[] } | null)
      .filter((o) => o?.kind === "ClusterRole" || o?.kind === "Role")
      .map((o) => JSON.stringify({ kind: o?.kind, rules: o?.rules }))
      .sort();
  const fromChart = rules(
    (await helm(["template", "talos-upgrade-operator", chart, "--namespace", namespace])).stdout,
  );
  const fromKustomize = rules((await run("kubectl", ["kustomize", join(root, "deploy")])).stdout);
  expect(fromChart).toEqual(fromKustomize);
  // The operator's own, and the manifest sync's (which a chart value leaves out).
  expect(fromChart).toHaveLength(4);
  const withoutSync = rules(
    (
      await helm([
        "template",
        "talos-upgrade-operator",
        chart,
        "--namespace",
        namespace,
        "--set",
        "manifestSync.rbac=false",
      ])
    ).stdout,
  );
  expect(withoutSync).toHaveLength(2);
});
