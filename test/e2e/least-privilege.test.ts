// Least privilege, end to end: the operator runs as a ServiceAccount bound to exactly
// deploy/base/rbac.yaml and goes through its paths (a Talos plan with a drain, a talosconfig Secret
// and a CEL gate; a Kubernetes-only plan) on a control plane of its own whose apiserver audits that
// identity. Every permission RBAC grants must be among what the audit log shows it asked for.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AppsV1Api,
  AuthorizationV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1ResourceRule,
} from "@kubernetes/client-node";
import type { ControlPlane } from "../harness/control-plane.ts";
import { type E2eCluster, startE2eControlPlane } from "../harness/e2e-cluster.ts";
import { auditedUse, expand, manifestRules, type Permission } from "../harness/permissions.ts";
import { scratchDir } from "../harness/shared-control-plane.ts";
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

const rbac = join(import.meta.dirname, "..", "..", "deploy", "base", "rbac.yaml");
/** deploy/base moved to the default namespace, as e2e clusters install it. */
const operatorUser = "system:serviceaccount:default:talos-upgrade-operator";
/** Every request of the operator's identity, and nothing else. */
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - {level: Metadata, users: ["${operatorUser}"]}
  - {level: None}
`;

/**
 * Grants a run here cannot show in use, each with the reason it stays. Keep this list short: a
 * grant that is neither used nor listed here is removed from the chart and deploy/base.
 */
const notExercised: Record<Permission, string> = {};

describe("least privilege, end to end", () => {
  let plane: ControlPlane;
  let cluster: E2eCluster;
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    ({ plane, cluster } = await startE2eControlPlane({ auditPolicy }));
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });
  checkAndStopAfterEach(() => scenario);

  it("a Talos plan with a talosconfig Secret, a CEL gate and a drain completes as the ServiceAccount", async () => {
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

    await run.apply({
      talos: { version: "v1.12.4" },
      talosConfig: { secretRef: { name: secret, namespace: "default" } },
      rollout: { nodeTimeout: "2m" },
      healthChecks: {
        cel: [
          {
            name: "control-plane-registered",
            resource: { apiVersion: "v1", kind: "Node", name: run.node("cp-1") },
            expression: "object.metadata.name != ''",
          },
        ],
      },
    });
    await run.waitFor("condition=Ready", 180);

    expect(Object.values(run.recorder.upgradeCalls())).toEqual([1, 1]);
    const after = await run.kubectl(["get", "pods", "-n", "default", "-l", `app=${app}`, "-o", "name"]);
    expect(after.stdout.trim()).not.toBe("");
    expect(after.stdout).not.toContain(before.stdout.trim());
    await apps.deleteNamespacedDeployment({ namespace: "default", name: app });
    await run.kubectl(["delete", "secret", secret, "-n", "default"]);
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

  // Runs after the two above (jest keeps a file's order).
  it("uses every permission its RBAC grants, none of them a wildcard, and nothing else is granted", async () => {
    scenario = undefined;
    const granted = expand(manifestRules(rbac));
    expect([...granted].filter((p) => p.includes("*"))).toEqual([]);

    const { used, forbidden } = auditedUse(readFileSync(plane.auditLogPath ?? "", "utf8"), operatorUser);
    console.log(`permissions the operator used:\n  ${[...used].sort().join("\n  ")}`);
    const unused = [...granted].filter((p) => !used.has(p) && !(p in notExercised));
    expect(unused).toEqual([]);
    expect(Object.keys(notExercised).filter((p) => !granted.has(p))).toEqual([]);
    // Anything the operator asked for and was refused is a grant missing from the chart.
    expect([...forbidden]).toEqual([]);

    // What the apiserver says the identity may do, in the namespace of its Role.
    const operator = new KubeConfig();
    operator.loadFromFile(cluster.operatorKubeconfig);
    const review = await operator.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
      body: { spec: { namespace: "default" } },
    });
    const effective = review.status?.resourceRules ?? [];
    console.log(
      `effective permissions of ${operatorUser} in default:\n  ${effective.map(describeRule).join("\n  ")}`,
    );
    expect(review.status?.incomplete).toBe(false);
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
