// The operator's own Talos client (src/talos/client.ts) for a talosconfig a simulated fleet wrote,
// for the tests of the operator's Talos side. It lives here, not in testkit/fleet/, so that the
// simulator never loads the operator's client: the fleet and the client under test stay apart.
import { readFileSync } from "node:fs";
import { TalosClient } from "../../src/talos/client.ts";
import { parseTalosconfig } from "../../src/talos/talosconfig.ts";

/** The operator's Talos client for the talosconfig at `path`, with a short deadline for tests. */
export function clientFor(path: string): TalosClient {
  const parsed = parseTalosconfig(readFileSync(path, "utf8"), path);
  if (!parsed.ok) throw new Error(parsed.message);
  return new TalosClient(parsed.config, { deadlineMs: 2_000 });
}
