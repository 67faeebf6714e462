// The bootstrap manifests a control plane renders (COSI Manifests.kubernetes.talos.dev in the
// controlplane namespace), read as talosctl upgrade-k8s reads them: every resource, in ID order,
// each a list of already parsed Kubernetes objects.
import { type ManifestObject, manifestObjectSchema } from "../model/manifests.ts";
import type { TalosClient } from "./client.ts";
import type { ListResponse__Output } from "./generated/cosi/resource/ListResponse.ts";
import { decodeMessage, structToJson } from "./proto.ts";

export async function renderedManifests(client: TalosClient, node: string): Promise<ManifestObject[]> {
  const resources: { id: string; objects: ManifestObject[] }[] = [];
  await client.stream<ListResponse__Output>(
    "state",
    "List",
    { namespace: "controlplane", type: "Manifests.kubernetes.talos.dev" },
    node,
    (message) => {
      const resource = message.resource;
      const id = resource?.metadata?.id ?? "";
      const spec = decodeMessage(
        "talos.resource.definitions.k8s.ManifestSpec",
        resource?.spec?.protoSpec ?? Buffer.alloc(0),
      ) as { items?: { object?: Parameters<typeof structToJson>[0] }[] };
      const objects = (spec.items ?? []).map((item, index) => {
        const parsed = manifestObjectSchema.safeParse(structToJson(item.object));
        if (!parsed.success)
          throw new Error(
            `manifest ${id}, object ${index}: ${parsed.error.issues[0]?.message ?? "not an object"}`,
          );
        return parsed.data;
      });
      resources.push({ id, objects });
    },
  );
  return resources.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).flatMap((r) => r.objects);
}
