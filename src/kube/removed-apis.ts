// Objects still stored in API versions a Kubernetes upgrade removes: discovery says whether the
// version is served at all, and only a served one is listed.
import { ApisApi, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { apiMessage } from "./client.ts";

interface RemovedApiUse {
  /** resource.version.group, e.g. podschedulingcontexts.v1alpha3.resource.k8s.io */
  resource: string;
  count: number;
  /** The objects could not be counted. */
  error?: string;
}

export async function removedApiUse(kc: KubeConfig, resources: string[]): Promise<RemovedApiUse[]> {
  if (resources.length === 0) return [];
  const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
  const served = new Set(groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion)));
  const objects = kc.makeApiClient(CustomObjectsApi);
  return Promise.all(
    resources.map(async (resource): Promise<RemovedApiUse> => {
      const [plural = "", version = "", ...group] = resource.split(".");
      if (!served.has(`${group.join(".")}/${version}`)) return { resource, count: 0 };
      try {
        const list = (await objects.listClusterCustomObject({
          group: group.join("."),
          version,
          plural,
          limit: 500,
        })) as { items?: unknown[] };
        return { resource, count: list.items?.length ?? 0 };
      } catch (error) {
        return { resource, count: 0, error: apiMessage(error) };
      }
    }),
  );
}
