// The simulated image registry: which installer and Kubernetes images exist, so that a wrong
// reference fails at pull time as it does against the real registries.
import { compareVersions } from "./versions.ts";

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
  /^([a-z0-9.-]+(?::[0-9]+)?)\/(?:([a-z0-9-]+)-)?installer(-secureboot)?\/([0-9a-f]{64}):(v[0-9][^@]*)$/;
const plainInstaller = /^ghcr\.io\/siderolabs\/installer:(v[0-9].*)$/;

/** The Image Factory schematic of a vanilla image (no extensions). */
export const vanillaSchematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/** An Image Factory installer reference, taken apart. */
export interface FactoryInstaller {
  /** The registry host (and port) of the factory, e.g. factory.talos.dev. */
  host: string;
  /** The platform it installs (`metal` for the legacy `installer/` form). */
  platform: string;
  /** A `-secureboot` flavour: UKIs signed for SecureBoot. */
  secureBoot: boolean;
  schematic: string;
  version: string;
}

/** The parts of an Image Factory installer reference, or undefined for any other reference. */
export function factoryInstaller(reference: string): FactoryInstaller | undefined {
  const match = factory.exec(reference);
  if (!match) return undefined;
  return {
    host: match[1] ?? "",
    platform: match[2] ?? "metal",
    secureBoot: match[3] !== undefined,
    schematic: match[4] ?? "",
    version: match[5] ?? "",
  };
}

/** `siderolabs/iscsi-tools` for an extension a node reports as `iscsi-tools`. */
export function officialExtensionName(name: string): string {
  return name.includes("/") ? name : `siderolabs/${name}`;
}

export class ImageRegistry {
  private readonly releases: Set<string>;
  private readonly extra = new Set<string>();

  private readonly kubernetes: Set<string>;
  /** Image Factory hosts that serve installers: the public one, and self-hosted ones fleets name. */
  private readonly factories = new Set(["factory.talos.dev"]);
  /**
   * Schematics the factories have been given, with their official extension names: a factory
   * builds installers only for a schematic it knows (content-addressed, so one ID, one content).
   */
  private readonly schematics = new Map<string, string[]>([[vanillaSchematic, []]]);

  constructor(releases: string[] = defaultTalosReleases, kubernetes: string[] = defaultKubernetesReleases) {
    this.releases = new Set(releases);
    this.kubernetes = new Set(kubernetes);
  }

  /** Serves installers from a self-hosted Image Factory at `host` too. */
  addFactory(host: string): void {
    this.factories.add(host);
  }

  /**
   * Makes a schematic known to the Image Factory, with its system extensions by their official
   * names (`siderolabs/nvidia-container-toolkit-production`). A schematic ID is the hash of its
   * content: registering the same ID with other extensions is a mistake in the test, and throws.
   */
  addSchematic(id: string, extensions: string[]): void {
    if (!/^[0-9a-f]{64}$/.test(id))
      throw new Error(`schematic ID ${JSON.stringify(id)} is not 64 hex digits`);
    const sorted = [...new Set(extensions)].sort();
    const known = this.schematics.get(id);
    if (known && known.join("\n") !== sorted.join("\n")) {
      throw new Error(
        `schematic ${id} is already known with extensions [${known.join(", ")}], not [${sorted.join(", ")}]`,
      );
    }
    this.schematics.set(id, sorted);
  }

  /** The official extension names of a schematic the factory knows, or undefined for an unknown one. */
  schematicExtensions(id: string): string[] | undefined {
    const known = this.schematics.get(id);
    return known ? [...known] : undefined;
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
    const parsed = factoryInstaller(reference);
    const fromFactory = parsed && this.factories.has(parsed.host) ? parsed : undefined;
    const fromGhcr = plainInstaller.exec(reference);
    const version = fromFactory?.version ?? fromGhcr?.[1];
    if (fromFactory && !this.schematics.has(fromFactory.schematic)) {
      // The factory builds nothing for a schematic nobody ever posted to it.
      return {
        error: `failed to pull image "${reference}": not found: schematic ${fromFactory.schematic} is unknown to ${fromFactory.host}`,
      };
    }
    if (!version || !this.releases.has(version)) {
      return { error: `failed to pull image "${reference}": not found` };
    }
    // The plain installer image is published only up to v1.13; later releases ship via Image Factory.
    if (fromGhcr && compareVersions(version, "v1.14.0-alpha.0") >= 0) {
      return { error: `failed to pull image "${reference}": not found` };
    }
    return { version };
  }

  /**
   * What an installer writes besides its version: the factory, platform and schematic (with its
   * extensions) for an Image Factory installer; undefined for any other image (a custom build, the
   * plain ghcr.io installer), which carries no schematic.
   */
  installerIdentity(reference: string): (FactoryInstaller & { extensions: string[] }) | undefined {
    const parsed = factoryInstaller(reference);
    if (!parsed || !this.factories.has(parsed.host)) return undefined;
    return { ...parsed, extensions: this.schematicExtensions(parsed.schematic) ?? [] };
  }

  /** Why a pull of `reference` fails, or undefined when the registry serves it. */
  pullError(reference: string): string | undefined {
    const k8s = kubernetesImage.exec(reference);
    if (k8s) {
      const served = this.kubernetes.has(k8s[1] ?? k8s[2] ?? "") || this.extra.has(reference);
      return served ? undefined : `failed to pull image "${reference}": not found`;
    }
    if (this.extra.has(reference)) return undefined;
    const resolved = this.resolveInstaller(reference);
    return "error" in resolved ? resolved.error : undefined;
  }

  exists(reference: string): boolean {
    return this.pullError(reference) === undefined;
  }
}
