// What each node's installer is made of: the plan's image rule, or the first of its pools' rules
// whose selector matches the node, over the node's own facts (platform, schematic, SecureBoot,
// factory). Which Talos upgrade API carries it, so that nothing the node boots with is lost.
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import type { ImageFacts, NodeView } from "../model/observation.ts";
import { schematicIdOf } from "../model/schematic.ts";
import { installerImage, installerUnknown } from "./image-refs.ts";
import { matchesSelector } from "./selection.ts";

type TalosSpec = NonNullable<PlanSpec["talos"]>;

interface ImageTarget {
  /** The spec.talos.overrides entry that matched the node. */
  override?: string;
  /** The schematic the node is taken to, when the rule names one. */
  schematic?: string;
  /** The extensions that schematic declares, as Talos names them once booted (iscsi-tools). */
  extensions: string[];
  /** An installer image taken as given. */
  image?: string;
  /** The Image Factory to take the installer from. */
  factory?: string;
}

// A schematic's ID is a hash over its rendered YAML: computed once per declared schematic (a spec's
// object), not for every node a pass looks at. The rest of a target is a selector match.
const schematicIds = new WeakMap<NonNullable<TalosSpec["schematic"]>, string>();

function schematicId(schematic: NonNullable<TalosSpec["schematic"]>): string {
  const known = schematicIds.get(schematic);
  if (known) return known;
  const id = schematicIdOf(schematic);
  schematicIds.set(schematic, id);
  return id;
}

export function imageTarget(labels: Record<string, string>, talosSpec: TalosSpec): ImageTarget {
  const pool = talosSpec.overrides.find((o) => matchesSelector(labels, o.nodeSelector));
  // A pool's rule replaces the plan's: what it does not say comes from the node's own facts.
  const rule = pool ?? talosSpec;
  const declared = rule.schematic?.customization?.systemExtensions?.officialExtensions ?? [];
  return {
    ...(pool ? { override: pool.name } : {}),
    ...(rule.schematic ? { schematic: schematicId(rule.schematic) } : {}),
    extensions: declared.map((name) => name.slice(name.lastIndexOf("/") + 1)),
    ...(rule.image ? { image: rule.image } : {}),
    ...(rule.factory ? { factory: rule.factory } : {}),
  };
}

/** The installer that takes the node to `version` under its rule. */
export function installerFor(node: NodeView, talosSpec: TalosSpec, version: string): string {
  const target = imageTarget(node.labels, talosSpec);
  const facts: ImageFacts = {
    ...(node.talos.image ?? { extensions: [] }),
    ...(target.schematic ? { schematic: target.schematic } : {}),
    ...(target.factory ? { factory: target.factory } : {}),
  };
  return installerImage(node.talos.platform ?? "metal", facts, version, target.image);
}

/**
 * The installer of the boot the node runs, at `version`: its own schematic, SecureBoot and
 * platform, from where its rule takes installers (an image or a factory), never the rule's
 * schematic. Undefined where the node's facts cannot name it (extensions without a schematic).
 */
export function runningInstallerFor(
  node: NodeView,
  talosSpec: TalosSpec,
  version: string,
): string | undefined {
  const image = node.talos.image;
  if (!image || installerUnknown(image)) return undefined;
  const target = imageTarget(node.labels, talosSpec);
  const facts: ImageFacts = { ...image, ...(target.factory ? { factory: target.factory } : {}) };
  return installerImage(node.talos.platform ?? "metal", facts, version, target.image);
}

/** The node runs another schematic than its rule names (known only once its image facts are read). */
export function schematicDiffers(node: NodeView, target: ImageTarget): boolean {
  const running = node.talos.image;
  return target.schematic !== undefined && running !== undefined && running.schematic !== target.schematic;
}

/**
 * machine.install.extraKernelArgs that Talos' lifecycle API would not carry to the new boot: on a
 * GRUB machine (not booted from a UKI) that does not take its command line from the UKI. Undefined
 * when they could not be read there (the configuration needs os:admin): any would be at risk.
 */
export function kernelArgsAtRisk(image: ImageFacts | undefined): string[] | undefined {
  if (image?.bootedWithUKI !== false || image.grubUseUKICmdline === true) return [];
  return image.kernelArgs;
}

/** The last Talos release that serves the legacy MachineService.Upgrade (removed in v1.18). */
const legacyRemovedIn = "v1.18.0-alpha.0";
const lifecycleSince = "v1.13.0";

export type UpgradeApi = { api: "legacy" | "lifecycle"; why?: string } | { api: "none"; why: string };

/**
 * The upgrade API for a node on `from`: the v1.13+ lifecycle API unless the plan asks for the
 * legacy one, a staged upgrade (legacy only), or kernel arguments the lifecycle API would drop.
 * A node whose Talos no longer serves the legacy API then has none that keeps what it needs.
 */
export function upgradeApi(from: string, image: ImageFacts | undefined, talosSpec: TalosSpec): UpgradeApi {
  if (compareVersions(from, lifecycleSince) < 0) return { api: "legacy" };
  const atRisk = kernelArgsAtRisk(image);
  const why =
    talosSpec.api === "Legacy"
      ? "api Legacy"
      : talosSpec.stage
        ? "a staged upgrade"
        : atRisk === undefined
          ? "a GRUB boot whose machine.install.extraKernelArgs could not be read (the lifecycle API drops them)"
          : atRisk.length > 0
            ? `machine.install.extraKernelArgs (${atRisk.join(" ")}) that the lifecycle API drops on GRUB`
            : undefined;
  if (why === undefined) return { api: "lifecycle" };
  if (compareVersions(from, legacyRemovedIn) >= 0)
    return { api: "none", why: `${why} needs the legacy upgrade API, which Talos ${from} no longer serves` };
  return { api: "legacy", why };
}
