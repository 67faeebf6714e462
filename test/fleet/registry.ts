// The simulated image registry: which installer and Kubernetes images exist, so that a wrong
// reference fails at pull time as it does against the real registries.
import { compareVersions } from "../../src/api/v1alpha1/version.ts";

export const defaultTalosReleases = [
  "v1.11.0",
  "v1.11.5",
  "v1.11.6",
  "v1.12.0",
  "v1.12.3",
  "v1.12.4",
  "v1.13.0",
  "v1.13.1",
  "v1.14.0",
  "v1.14.1",
];

/** Kubernetes releases whose component and kubelet images the registry serves. */
export const defaultKubernetesReleases = [
  "v1.31.4",
  "v1.32.3",
  "v1.33.5",
  "v1.34.0",
  "v1.34.2",
  "v1.35.0",
  "v1.35.2",
  "v1.36.0",
  "v1.36.1",
  "v1.37.0",
];

const kubernetesImage =
  /^(?:registry\.k8s\.io\/kube-(?:apiserver|controller-manager|scheduler|proxy):(v[0-9.]+)|ghcr\.io\/siderolabs\/kubelet:(v[0-9.]+)(?:-fat|-slim)?)$/;

/** An Image Factory installer: host, then platform, SecureBoot, schematic and version. */
const factory =
  /^([a-z0-9.-]+(?::[0-9]+)?)\/(?:([a-z0-9-]+)-)?installer(?:-secureboot)?\/([0-9a-f]{64}):(v[0-9][^@]*)$/;
const plainInstaller = /^ghcr\.io\/siderolabs\/installer:(v[0-9].*)$/;

export class ImageRegistry {
  private readonly releases: Set<string>;
  private readonly extra = new Set<string>();

  private readonly kubernetes: Set<string>;
  /** Image Factory hosts that serve installers: the public one, and self-hosted ones fleets name. */
  private readonly factories = new Set(["factory.talos.dev"]);

  constructor(releases: string[] = defaultTalosReleases, kubernetes: string[] = defaultKubernetesReleases) {
    this.releases = new Set(releases);
    this.kubernetes = new Set(kubernetes);
  }

  /** Serves installers from a self-hosted Image Factory at `host` too. */
  addFactory(host: string): void {
    this.factories.add(host);
  }

  /** Makes an arbitrary reference pullable (custom installers, Kubernetes images). */
  publish(reference: string): void {
    this.extra.add(reference);
  }

  /** The Talos version an installer image installs, or a reason the pull fails. */
  resolveInstaller(reference: string): { version: string } | { error: string } {
    if (this.extra.has(reference)) {
      const tag = reference.split(":").at(-1) ?? "";
      return { version: tag };
    }
    const match = factory.exec(reference);
    const fromFactory = match && this.factories.has(match[1] ?? "") ? match : null;
    const fromGhcr = plainInstaller.exec(reference);
    const version = fromFactory?.[4] ?? fromGhcr?.[1];
    if (!version || !this.releases.has(version)) {
      return { error: `failed to pull image "${reference}": not found` };
    }
    // The plain installer image is published only up to v1.13; later releases ship via Image Factory.
    if (fromGhcr && compareVersions(version, "v1.14.0-alpha.0") >= 0) {
      return { error: `failed to pull image "${reference}": not found` };
    }
    return { version };
  }

  exists(reference: string): boolean {
    const k8s = kubernetesImage.exec(reference);
    if (k8s) return this.kubernetes.has(k8s[1] ?? k8s[2] ?? "") || this.extra.has(reference);
    return this.extra.has(reference) || !("error" in this.resolveInstaller(reference));
  }
}
