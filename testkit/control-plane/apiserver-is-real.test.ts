// Proves the harness is a real Kubernetes control plane: schema and CEL validation, watch order,
// optimistic concurrency, the status subresource, RBAC for ServiceAccount tokens, and kubectl.
import { execFileSync } from "node:child_process";
import {
  ApiextensionsV1Api,
  KubeConfig as Config,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { writeKubeconfig } from "./control-plane.ts";
import { serviceAccountKubeconfig } from "./service-accounts.ts";
import { adminKubeConfig, scratchDir, sharedKubeconfigPath, uniqueName } from "./shared-control-plane.ts";

const group = "harness.talos-operator.dev";

function statusCode(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

async function expectStatus(promise: Promise<unknown>, code: number): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(statusCode(error)).toBe(code);
    return String((error as { body?: unknown }).body ?? error);
  }
  throw new Error(`expected HTTP ${code}, but the request succeeded`);
}

async function createWidgetCrd(kc: KubeConfig, plural: string): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const name = `${plural}.${group}`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural, singular: plural.slice(0, -1), kind: `W${plural.slice(1, -1)}` },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: { replicas: { type: "integer", minimum: 0 }, max: { type: "integer" } },
                    x_kubernetes_validations: [
                      { rule: "self.replicas <= self.max", message: "replicas must not exceed max" },
                    ],
                  },
                  status: { type: "object", properties: { phase: { type: "string" } } },
                },
              },
            },
          },
        ],
      },
    },
  });
  for (let i = 0; i < 100; i++) {
    const crd = await ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} never became Established`);
}

describe("the test control plane", () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = uniqueName("real");

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it("is a real kube-apiserver of the pinned release", async () => {
    const info = await kc.makeApiClient(VersionApi).getCode();
    console.log(`kube-apiserver reports ${info.gitVersion} (${info.goVersion}, ${info.platform})`);
    expect(info.gitVersion).toMatch(/^v1\.(3[4-9]|[4-9]\d)\.\d+$/);
    expect(info.platform).toBe("linux/amd64");
  });

  it("rejects an object that breaks a CRD's CEL rule, with the rule's message", async () => {
    const plural = `widgets${process.pid}`;
    await createWidgetCrd(kc, plural);
    const objects = kc.makeApiClient(CustomObjectsApi);
    const kind = `W${plural.slice(1, -1)}`;
    const bad = { apiVersion: `${group}/v1`, kind, metadata: { name: "bad" }, spec: { replicas: 5, max: 3 } };
    const body = await expectStatus(
      objects.createNamespacedCustomObject({ group, version: "v1", namespace, plural, body: bad }),
      422,
    );
    expect(body).toContain("replicas must not exceed max");
    const wrongType = { ...bad, metadata: { name: "typed" }, spec: { replicas: "five", max: 3 } };
    expect(
      await expectStatus(
        objects.createNamespacedCustomObject({ group, version: "v1", namespace, plural, body: wrongType }),
        422,
      ),
    ).toContain("spec.replicas");
    const good = { ...bad, metadata: { name: "good" }, spec: { replicas: 2, max: 3 } };
    await objects.createNamespacedCustomObject({ group, version: "v1", namespace, plural, body: good });

    // The status subresource: status is written only through /status, and /status ignores spec.
    const base = { group, version: "v1", namespace, plural, name: "good" };
    const current = (await objects.getNamespacedCustomObject(base)) as Record<string, unknown>;
    await objects.replaceNamespacedCustomObjectStatus({
      ...base,
      body: { ...current, spec: { replicas: 0, max: 3 }, status: { phase: "Ready" } },
    });
    const afterStatus = (await objects.getNamespacedCustomObject(base)) as {
      spec: { replicas: number };
      status?: { phase?: string };
      metadata: { generation: number };
    };
    expect(afterStatus.status?.phase).toBe("Ready");
    expect(afterStatus.spec.replicas).toBe(2);
    await objects.replaceNamespacedCustomObject({
      ...base,
      body: { ...afterStatus, spec: { replicas: 1, max: 3 }, status: { phase: "Overwritten" } },
    });
    const afterSpec = (await objects.getNamespacedCustomObject(base)) as typeof afterStatus;
    expect(afterSpec.status?.phase).toBe("Ready");
    expect(afterSpec.spec.replicas).toBe(1);
    expect(afterSpec.metadata.generation).toBe(afterStatus.metadata.generation + 1);
  });

  it("delivers watch events in order", async () => {
    const name = "watched";
    const seen: string[] = [];
    const versions: number[] = [];
    let stop: (() => void) | undefined;
    const deleted = new Promise<void>((resolve, reject) => {
      new Watch(kc)
        .watch(
          `/api/v1/namespaces/${namespace}/configmaps`,
          {},
          (
            type,
            obj: { metadata?: { name?: string; resourceVersion?: string }; data?: { step?: string } },
          ) => {
            if (obj.metadata?.name !== name) return;
            seen.push(`${type}:${obj.data?.step ?? ""}`);
            versions.push(Number(obj.metadata.resourceVersion));
            if (type === "DELETED") resolve();
          },
          (error) => (error ? reject(error) : undefined),
        )
        .then((req) => {
          stop = () => req.abort();
        }, reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { step: "1" } } });
    for (const step of ["2", "3"]) {
      await core.patchNamespacedConfigMap({
        namespace,
        name,
        body: [{ op: "replace", path: "/data/step", value: step }],
      });
    }
    await core.deleteNamespacedConfigMap({ namespace, name });
    await deleted;
    stop?.();
    expect(seen).toEqual(["ADDED:1", "MODIFIED:2", "MODIFIED:3", "DELETED:3"]);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it("refuses an update with a stale resourceVersion (409)", async () => {
    const name = "contended";
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name }, data: { owner: "first" } },
    });
    await core.replaceNamespacedConfigMap({
      namespace,
      name,
      body: { ...created, data: { owner: "second" } },
    });
    const body = await expectStatus(
      core.replaceNamespacedConfigMap({ namespace, name, body: { ...created, data: { owner: "stale" } } }),
      409,
    );
    expect(body).toContain("the object has been modified");
    expect((await core.readNamespacedConfigMap({ namespace, name })).data?.owner).toBe("second");
  });

  it("authenticates ServiceAccount tokens and enforces RBAC on them", async () => {
    const account = "no-role";
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: account } } });
    const path = await serviceAccountKubeconfig(kc, scratchDir("sa"), namespace, account);
    const asAccount = new Config();
    asAccount.loadFromFile(path);
    const accountCore = asAccount.makeApiClient(CoreV1Api);
    const denied = await expectStatus(accountCore.listNamespacedConfigMap({ namespace }), 403);
    expect(denied).toContain(`system:serviceaccount:${namespace}:${account}`);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: "read-configmaps" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "read-configmaps" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-configmaps" },
        subjects: [{ kind: "ServiceAccount", name: account, namespace }],
      },
    });
    await expect(accountCore.listNamespacedConfigMap({ namespace })).resolves.toHaveProperty("items");
    await expectStatus(accountCore.deleteNamespacedConfigMap({ namespace, name: "contended" }), 403);

    const forgedPath = `${path}.forged`;
    const cluster = kc.getCurrentCluster();
    writeKubeconfig(
      forgedPath,
      cluster?.server ?? "",
      Buffer.from(cluster?.caData ?? "", "base64").toString(),
      {
        name: "forged",
        token: "not-a-token",
      },
    );
    const forged = new Config();
    forged.loadFromFile(forgedPath);
    await expectStatus(forged.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace }), 401);
  });

  it("serves kubectl the way a user would use it", () => {
    const kubectl = (args: string[], input?: string) =>
      execFileSync("kubectl", ["--kubeconfig", sharedKubeconfigPath(), ...args], { encoding: "utf8", input });
    const manifest = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "from-kubectl", namespace },
      data: { applied: "yes" },
    });
    expect(kubectl(["apply", "-f", "-"], manifest)).toContain("configmap/from-kubectl created");
    expect(
      kubectl(["get", "configmap", "from-kubectl", "-n", namespace, "-o", "jsonpath={.data.applied}"]),
    ).toBe("yes");
  });
});
