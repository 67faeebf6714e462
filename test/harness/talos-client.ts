// The operator's own Talos client (src/talos/client.ts) for a talosconfig a simulated fleet wrote,
// for the tests of the operator's Talos side. It lives here, not in testkit/fleet/, so that the
// simulator never loads the operator's client: the fleet and the client under test stay apart.
import { readFileSync } from "node:fs";
import type { Action } from "../../src/model/actions.ts";
import { TalosClient } from "../../src/talos/client.ts";
import { facts } from "../../src/talos/machine.ts";
import { parseTalosconfig } from "../../src/talos/talosconfig.ts";
import { vanillaSchematic } from "../../testkit/fleet/fleet.ts";
import type { SimNode } from "../../testkit/fleet/node.ts";

/** The operator's Talos client for the talosconfig at `path`, with a short deadline for tests. */
export function clientFor(path: string): TalosClient {
  const parsed = parseTalosconfig(readFileSync(path, "utf8"), path);
  if (!parsed.ok) throw new Error(parsed.message);
  return new TalosClient(parsed.config, { deadlineMs: 2_000 });
}

/**
 * The legacy upgrade to v1.13.0 a pass would ask of a simulated machine, from the boot it reads on
 * it now.
 */
export async function legacyUpgradeOf(
  client: TalosClient,
  node: SimNode,
): Promise<Extract<Action, { kind: "upgrade" }>> {
  const machine = await facts(client, node.address);
  if (!machine.reachable || !machine.bootId) throw new Error(`${node.hostname} does not answer`);
  return {
    kind: "upgrade",
    node: node.hostname,
    address: node.address,
    image: `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.0`,
    version: "v1.13.0",
    api: "legacy",
    stage: false,
    rebootMode: "Default",
    bootIdBefore: machine.bootId,
  };
}
