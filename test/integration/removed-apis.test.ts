// The Kubernetes pre-flight's count of objects in API versions an upgrade removes, against the
// real apiserver: a version it does not serve counts nothing; a served one is listed. A CRD stands
// in for a served API version that a future release removes.
import { ApiextensionsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { removedApiUse } from "../../src/kube/removed-apis.ts";
import { kubectl, waitEstablished } from "../../testkit/control-plane/kubectl.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";

describe("objects in API versions an upgrade removes", () => {
  const kc = adminKubeConfig();
  const group = `${uniqueName("removed")}.example.com`;
  const plural = "gadgets";

  beforeAll(async () => {
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural, singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
          versions: [
            {
              name: "v1alpha1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    await waitEstablished(`${plural}.${group}`);
    const objects = kc.makeApiClient(CustomObjectsApi);
    for (const [namespace, name] of [
      ["default", "a"],
      ["kube-system", "b"],
    ] as const) {
      await objects.createNamespacedCustomObject({
        group,
        version: "v1alpha1",
        namespace,
        plural,
        body: { apiVersion: `${group}/v1alpha1`, kind: "Gadget", metadata: { name } },
      });
    }
  });

  afterAll(async () => {
    await kubectl(["delete", "crd", `${plural}.${group}`, "--ignore-not-found"]);
  });

  it("counts objects across namespaces in a served version, and nothing in one that is not served", async () => {
    const use = await removedApiUse(kc, [
      `${plural}.v1alpha1.${group}`,
      `${plural}.v1beta1.${group}`,
      "podschedulingcontexts.v1alpha3.resource.k8s.io",
    ]);
    expect(use).toEqual([
      { resource: `${plural}.v1alpha1.${group}`, count: 2 },
      { resource: `${plural}.v1beta1.${group}`, count: 0 },
      { resource: "podschedulingcontexts.v1alpha3.resource.k8s.io", count: 0 },
    ]);
  });

  it("asks nothing when there is nothing to look for", async () => {
    expect(await removedApiUse(kc, [])).toEqual([]);
  });
});
