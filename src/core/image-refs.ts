// Installer image references. The default keeps each node's own Image Factory schematic and
// platform, so extensions survive the upgrade; an override is taken as given, re-tagged per step.
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import { schematicId } from "../api/v1alpha1/schematic.ts";
import type { ImageFacts } from "../model/observation.ts";

/** The schematic of a vanilla Talos image (no extensions, no customization). */
const vanillaSchematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const imageFactory = "factory.talos.dev";

/**
 * The installer image that takes a node to `version`: its platform, schematic and SecureBoot, from
 * the Image Factory that built its schematic (the public one unless Talos names another).
 */
export function installerImage(
  platformName: string,
  image: ImageFacts | undefined,
  version: string,
  override?: string,
): string {
  if (override) return retag(override, version);
  const schematic = schematicId.safeParse(image?.schematic).success
    ? (image?.schematic as string)
    : vanillaSchematic;
  const platform = /^[a-z0-9-]+$/.test(platformName) ? platformName : "metal";
  const host = image?.factory && /^[a-z0-9.-]+(:[0-9]+)?$/.test(image.factory) ? image.factory : imageFactory;
  return `${host}/${platform}-installer${image?.secureBoot ? "-secureboot" : ""}/${schematic}:${version}`;
}

/**
 * Why a node's installer cannot be derived from its facts: it runs extensions but reports no Image
 * Factory schematic, so a default installer would drop them. Undefined when it can.
 */
export function installerUnknown(image: ImageFacts | undefined): string | undefined {
  if (!image || image.schematic || image.extensions.length === 0) return undefined;
  return `runs extensions (${image.extensions.join(", ")}) but reports no Image Factory schematic: a default installer would drop them`;
}

/** An image reference split into repository and tag, without its digest. */
function splitReference(reference: string): { repository: string; tag?: string } {
  const withoutDigest = reference.replace(/@sha256:[0-9a-f]{64}$/, "");
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > slash
    ? { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) }
    : { repository: withoutDigest };
}

/** An image reference with its tag replaced (a digest pins content, so it is kept only without a tag change). */
function retag(reference: string, tag: string): string {
  const { repository, tag: current } = splitReference(reference);
  return current === tag && /@sha256:/.test(reference) ? reference : `${repository}:${tag}`;
}

/**
 * A Kubernetes component image at `version`: from `repository` when the plan names one, else the
 * repository in use is kept (a mirror stays a mirror); the kubelet's -fat or -slim flavour is kept.
 */
export function kubernetesImage(
  current: string | undefined,
  defaultRepository: string,
  version: string,
  repository?: string,
): string {
  const parts = current ? splitReference(current) : undefined;
  const flavour = /-(fat|slim)$/.exec(parts?.tag ?? "")?.[0] ?? "";
  return `${repository ?? (parts?.repository || defaultRepository)}:${version}${flavour}`;
}

/** The version an image's tag names ("…/kube-apiserver:v1.35.2" → "v1.35.2"), without a flavour suffix. */
export function imageVersion(reference: string | undefined): string | undefined {
  const tag = reference ? splitReference(reference).tag : undefined;
  return tag?.replace(/-(fat|slim)$/, "");
}

/** The default repositories, as Talos renders them when the config names no image. */
export const defaultRepositories: Record<KubeComponent, string> = {
  "kube-apiserver": "registry.k8s.io/kube-apiserver",
  "kube-controller-manager": "registry.k8s.io/kube-controller-manager",
  "kube-scheduler": "registry.k8s.io/kube-scheduler",
  "kube-proxy": "registry.k8s.io/kube-proxy",
  kubelet: "ghcr.io/siderolabs/kubelet",
};
