// What an installer writes to the other boot entry, worked out when an upgrade call installs: the
// version, the image identity (an Image Factory installer's platform, schematic and extensions, or
// none for any other image) and the kernel command line, from the machine config of that moment.
import type { FleetView } from "./handlers.ts";
import { installOptions } from "./machine-config.ts";
import { bootCmdline, type Installation, type NodeIdentity, type SimNode } from "./node.ts";
import { vanillaSchematic } from "./registry.ts";

/** ExtensionStatuses of a factory image: its extensions, then the `schematic` entry (none for vanilla or none at all). */
export function factoryExtensions(
  schematic: string,
  extensions: string[],
  factoryUrl: string,
  versionOf: (name: string) => string,
): NodeIdentity["extensions"] {
  const reported = extensions.map((official) => {
    const name = official.slice(official.lastIndexOf("/") + 1);
    return { name, version: versionOf(name), image: "" };
  });
  const marker =
    schematic === vanillaSchematic || schematic === ""
      ? []
      : [{ name: "schematic", version: schematic, image: "", author: `Image Factory (${factoryUrl})` }];
  return [...reported, ...marker];
}

/**
 * What installing `image` (Talos `version`) on `node` through `api` writes: an Image Factory
 * installer brings its platform, schematic, extensions and factory; any other image none of them.
 */
export function installation(
  fleet: FleetView,
  node: SimNode,
  image: string,
  version: string,
  api: "legacy" | "lifecycle",
): Installation {
  const factory = fleet.registry.installerIdentity(image);
  const plain = image.startsWith("ghcr.io/siderolabs/installer:");
  const platform = factory?.platform ?? node.identity.platform;
  const cmdline = bootCmdline(platform, node.bootloader, installOptions(fleet.machineConfig(node)), api);
  if (!factory) {
    // A custom build or the plain installer: no schematic, no extensions.
    return {
      version,
      image,
      identity: { platform, schematic: "", extensions: [], factoryUrl: node.identity.factoryUrl },
      ...(plain ? { secureBoot: false } : {}),
      cmdline,
    };
  }
  const factoryUrl = `https://${factory.host}`;
  // An extension the machine already runs keeps its version string; a new one takes the release's.
  const running = new Map(node.identity.extensions.map((e) => [e.name, e.version]));
  return {
    version,
    image,
    identity: {
      platform,
      schematic: factory.schematic,
      extensions: factoryExtensions(
        factory.schematic,
        factory.extensions,
        factoryUrl,
        (name) => running.get(name) ?? version,
      ),
      factoryUrl,
    },
    secureBoot: factory.secureBoot,
    cmdline,
  };
}
