// Least privilege, end to end: the operator runs as a ServiceAccount bound to exactly
// deploy/base/rbac.yaml and goes through its paths (a Talos plan with a drain, a talosconfig Secret,
// an etcd snapshot with its bucket keys in a Secret, a CEL gate and a hook; a Kubernetes-only plan) on a control plane of its own whose apiserver audits that
// identity. Every permission RBAC grants must be among what the audit log shows it asked for.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AppsV1Api,
  AuthorizationV1Api,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type V1ResourceRule,
} from "@kubernetes/client-node";
import { stepManifests } from "../../src/core/manifests.ts";
import { ManifestSync } from "../../src/kube/manifest-sync.ts";
import { inventory, type ManifestObject } from "../../src/model/manifests.ts";
import type { ManifestsView } from "../../src/model/observation.ts";
import { auditedPodReads, operatorAuditPolicy, operatorUser } from "../../testkit/control-plane/audit.ts";
import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { type E2eCluster, startE2eControlPlane } from "../../testkit/control-plane/e2e-cluster.ts";
import { startS3 } from "../../testkit/control-plane/s3.ts";
import { scratchDir, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { fleetLabel } from "../../testkit/fleet/kubelet.ts";
import { auditedUse, expand, manifestRules, type Permission } from "../harness/permissions.ts";

const rbac = join(import.meta.dirname, "..", "..", "deploy", "base", "rbac.yaml");
const rbacManifests = join(import.meta.dirname, "..", "..", "deploy", "base", "rbac-manifests.yaml");

/**
 * Grants a run here cannot show in use, each with the reason it stays. Keep this list short: a
 * grant that is neither used nor listed here is removed from the chart and deploy/base.
 */
const notExercised: Record<Permission, string> = {
  "rbac.authorization.k8s.io/clusterroles:bind":
    "checked when a ClusterRoleBinding Talos renders names a role the operator does not hold; never a request of its own",
  "rbac.authorization.k8s.io/clusterroles:escalate":
    "checked when a ClusterRole Talos renders grants more than the operator holds; never a request of its own",
  "rbac.authorization.k8s.io/clusterrolebindings:bind": "as clusterroles:bind",
  "rbac.authorization.k8s.io/clusterrolebindings:escalate": "as clusterroles:escalate",
};

describe("least privilege, end to end", () => {
  let plane: ControlPlane;
  let cluster: E2eCluster;
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    ({ plane, cluster } = await startE2eControlPlane({ auditPolicy: operatorAuditPolicy }));
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });
  checkAndStopAfterEach(() => scenario);

  it("a Talos plan with a talosconfig Secret, an etcd snapshot, a CEL gate, a drain and a hook completes as the ServiceAccount", async () => {
    const run = await new Scenario(cluster).start({ controlPlanes: 1, workers: 1 });
    scenario = run;
    const secret = `${run.name}-talosconfig`;
    const file = join(scratchDir("talosconfig"), "config");
    writeFileSync(file, readFileSync(run.fleet.talosconfig.admin), { mode: 0o600 });
    await run.kubectl(["create", "secret", "generic", secret, "-n", "default", `--from-file=config=${file}`]);
    // A workload on the worker, so that its drain goes through the eviction API.
    const app = `${run.name}-web`;
    const apps = run.kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: app },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": run.node("worker-1") },
              containers: [{ name: "web", image: "registry.invalid/web:1" }],
            },
          },
        },
      },
    });
    await run.kubectl(["rollout", "status", `deployment/${app}`, "-n", "default", "--timeout=60s"]);
    const before = await run.kubectl(["get", "pods", "-n", "default", "-l", `app=${app}`, "-o", "name"]);
    // An etcd snapshot to a bucket whose keys are in a Secret of the operator's namespace.
    const s3 = await startS3();
    const keys = `${run.name}-s3`;
    await run.kubectl([
      "create",
      "secret",
      "generic",
      keys,
      "-n",
      "default",
      `--from-literal=accessKeyId=${s3.accessKeyId}`,
      `--from-literal=secretAccessKey=${s3.secretAccessKey}`,
    ]);

    await run.apply({
      talos: { version: "v1.12.4" },
      talosConfig: { secretRef: { name: secret, namespace: "default" } },
      rollout: { nodeTimeout: "2m" },
      etcdBackup: {
        s3: {
          endpoint: s3.endpoint,
          bucket: s3.bucket,
          credentialsSecretRef: { name: keys, namespace: "default" },
        },
      },
      healthChecks: {
        cel: [
          {
            name: "control-plane-registered",
            resource: { apiVersion: "v1", kind: "Node", name: run.node("cp-1") },
            expression: "object.metadata.name != ''",
          },
        ],
      },
      // A hook: its Job created in the operator's namespace and watched to its end.
      hooks: {
        afterPlan: [
          {
            name: "smoke",
            job: {
              template: {
                spec: {
                  nodeSelector: { [fleetLabel]: run.name },
                  containers: [{ name: "smoke", image: "registry.invalid/smoke:1" }],
                },
              },
            },
          },
        ],
      },
    });
    await run.waitFor("condition=Ready", 180).finally(() => s3.stop());

    expect(Object.values(run.recorder.upgradeCalls())).toEqual([1, 1]);
    const status = (await run.status()) as { etcdBackup?: { state?: string } };
    expect(status.etcdBackup?.state).toBe("Verified");
    const after = await run.kubectl(["get", "pods", "-n", "default", "-l", `app=${app}`, "-o", "name"]);
    expect(after.stdout.trim()).not.toBe("");
    expect(after.stdout).not.toContain(before.stdout.trim());
    await apps.deleteNamespacedDeployment({ namespace: "default", name: app });
    await run.kubectl(["delete", "secret", secret, keys, "-n", "default"]);
  }, 300_000);

  it("a Kubernetes-only plan completes as the ServiceAccount", async () => {
    const run = await new Scenario(cluster).start({
      controlPlanes: 1,
      workers: 0,
      talosVersion: "v1.12.4",
      kubernetesVersion: "v1.34.2",
    });
    scenario = run;
    await run.apply({ kubernetes: { version: "v1.35.0" }, rollout: { nodeTimeout: "2m" } });
    await run.waitFor("condition=Ready", 180);
    expect((await run.status()).phase).toBe("Completed");
  }, 300_000);

  it("the manifest sync creates, updates, applies and prunes every kind Talos renders as the ServiceAccount", async () => {
    scenario = undefined;
    const operator = new KubeConfig();
    operator.loadFromFile(cluster.operatorKubeconfig);
    const sync = new ManifestSync(operator);
    const suffix = uniqueName("lp");
    const ns = "kube-system";
    const labels = { app: suffix };
    const pod = {
      metadata: { labels },
      spec: { containers: [{ name: "c", image: "registry.invalid/c:1" }] },
    };
    const rendered = (value: string): ManifestObject[] => [
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${suffix}s.example.com` },
        spec: {
          group: "example.com",
          names: { kind: "Lp", plural: `${suffix}s`, singular: suffix },
          scope: "Namespaced",
          versions: [
            { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
          ],
        },
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `${suffix}:role` },
        rules: [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${suffix}:binding` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${suffix}:role` },
        subjects: [{ kind: "ServiceAccount", name: suffix, namespace: ns }],
      },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: suffix, namespace: ns }, data: { v: value } },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: suffix, namespace: ns },
        stringData: { v: value },
      },
      {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: suffix, namespace: ns, labels: { v: value } },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: suffix, namespace: ns, labels: { v: value } },
        spec: { selector: labels, ports: [{ port: 53 }] },
      },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: suffix, namespace: ns, labels: { v: value } },
        spec: { replicas: 0, selector: { matchLabels: labels }, template: pod },
      },
      {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: suffix, namespace: ns, labels: { v: value } },
        spec: {
          selector: { matchLabels: labels },
          template: { ...pod, spec: { ...pod.spec, nodeSelector: { none: "none" } } },
        },
      },
    ];
    const pass = async (objects: ManifestObject[], method: ManifestsView["method"]) => {
      const view: ManifestsView = { source: "cp-1", method, ...(await sync.inspect(objects, method)) };
      const step = stepManifests({
        view,
        spec: { mode: "Apply", prune: true, recreate: false, timeout: "5m" },
        previous: undefined,
        now: new Date(),
        dryRun: false,
      });
      for (const action of step.actions) if (action.kind === "syncManifests") await sync.sync(action);
      return step;
    };
    // Before Talos v1.13: create what is missing, then update (PUT) what changed.
    await pass(rendered("1"), "Legacy");
    await pass(rendered("2"), "Legacy");
    // From v1.13: server-side apply and the inventory, then a prune of all but one object.
    expect((await pass(rendered("3"), "ServerSideApply")).status?.counts?.update).toBe(9);
    const kept = () => rendered("3").filter((o) => o.kind === "ServiceAccount");
    const pruned = await pass(kept(), "ServerSideApply");
    expect(pruned.status?.counts?.prune).toBe(8);
    // The last one goes when Talos renders something else instead.
    const other = rendered("3")
      .filter((o) => o.kind === "ConfigMap")
      .map((o) => ({ ...o, metadata: { ...o.metadata, name: `${suffix}-other` } }));
    expect((await pass(other, "ServerSideApply")).status?.counts).toMatchObject({ create: 1, prune: 1 });
    expect((await pass(other, "ServerSideApply")).actions).toEqual([]);
    const adminConfig = new KubeConfig();
    adminConfig.loadFromFile(cluster.kubeconfig);
    const admin = KubernetesObjectApi.makeApiClient(adminConfig);
    for (const object of [...rendered("3"), ...other]) await admin.delete(object).catch(() => undefined);
    await admin.delete({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: inventory.name, namespace: ns },
    });
  }, 120_000);

  // Runs after the three above (jest keeps a file's order).
  it("uses every permission its RBAC grants, none of them a wildcard, and nothing else is granted", async () => {
    scenario = undefined;
    const granted = expand([...manifestRules(rbac), ...manifestRules(rbacManifests)]);
    expect([...granted].filter((p) => p.includes("*"))).toEqual([]);

    const { used, forbidden } = auditedUse(readFileSync(plane.auditLogPath ?? "", "utf8"), operatorUser);
    console.log(`permissions the operator used:\n  ${[...used].sort().join("\n  ")}`);
    const unused = [...granted].filter((p) => !used.has(p) && !(p in notExercised));
    expect(unused).toEqual([]);
    expect(Object.keys(notExercised).filter((p) => !granted.has(p))).toEqual([]);
    // Anything the operator asked for and was refused is a grant missing from the chart.
    expect([...forbidden]).toEqual([]);

    // What the apiserver says the identity may do, in the namespaces of its Roles (its own, and
    // kube-system for the manifest sync).
    const operator = new KubeConfig();
    operator.loadFromFile(cluster.operatorKubeconfig);
    const effective: V1ResourceRule[] = [];
    for (const namespace of ["default", "kube-system"]) {
      const review = await operator.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
        body: { spec: { namespace } },
      });
      expect(review.status?.incomplete).toBe(false);
      effective.push(...(review.status?.resourceRules ?? []));
    }
    console.log(
      `effective permissions of ${operatorUser} in default and kube-system:\n  ${effective.map(describeRule).join("\n  ")}`,
    );
    expect(
      effective.filter((r) => [...r.verbs, ...(r.apiGroups ?? []), ...(r.resources ?? [])].includes("*")),
    ).toEqual([]);
    // Beyond the chart, only what the cluster gives every authenticated identity (self reviews).
    const admin = new KubeConfig();
    admin.loadFromFile(cluster.kubeconfig);
    const everyone = await grantedToEveryone(admin);
    const extra = [...expand(effective)].filter((p) => !granted.has(p) && !everyone.has(p));
    expect(extra).toEqual([]);
    expect([...granted].filter((p) => !expand(effective).has(p))).toEqual([]);
  });

  it("reads pods only per drained node, and in kube-system only its component pods: no list of the cluster's pods", () => {
    const reads = auditedPodReads(readFileSync(plane.auditLogPath ?? "", "utf8"), operatorUser).map(
      (uri) => new URL(uri, "https://apiserver"),
    );
    const scope = (url: URL) => {
      const field = url.searchParams.get("fieldSelector") ?? "";
      if (url.pathname === "/api/v1/pods" && /^spec\.nodeName=[^,]+$/.test(field)) return "node";
      if (
        url.pathname === "/api/v1/namespaces/kube-system/pods" &&
        url.searchParams.get("labelSelector") === "k8s-app"
      )
        return "system";
      return `unscoped: ${url.pathname}${url.search}`;
    };
    const scopes = reads.map(scope);
    expect(scopes.filter((s) => s.startsWith("unscoped"))).toEqual([]);
    // The plan above drained a worker, so node-scoped reads were made: the check is not vacuous.
    expect(scopes).toContain("node");
    expect(scopes).toContain("system");
  });
});

function describeRule(rule: V1ResourceRule): string {
  const groups = (rule.apiGroups ?? []).map((g) => (g === "" ? "core" : g)).join(",");
  const names = rule.resourceNames?.length ? ` names ${rule.resourceNames.join(",")}` : "";
  return `${groups}: ${(rule.resources ?? []).join(",")} [${rule.verbs.join(",")}]${names}`;
}

/** The resource permissions that ClusterRoleBindings give every authenticated user or ServiceAccount. */
async function grantedToEveryone(admin: KubeConfig): Promise<Set<Permission>> {
  const api = admin.makeApiClient(RbacAuthorizationV1Api);
  const groups = new Set([
    "system:authenticated",
    "system:serviceaccounts",
    "system:serviceaccounts:default",
  ]);
  const bindings = await api.listClusterRoleBinding();
  const roles = bindings.items
    .filter((b) => b.subjects?.some((s) => s.kind === "Group" && groups.has(s.name)))
    .map((b) => b.roleRef.name);
  const out = new Set<Permission>();
  for (const name of roles) {
    const role = await api.readClusterRole({ name });
    for (const p of expand(role.rules ?? [])) out.add(p);
  }
  return out;
}
