// The COSI watches that wake a plan when a node it works on reboots, against the simulated fleet:
// a reboot wakes the plan, and after the talosconfig rotates the stream is reopened with the new
// client (the old certificate would otherwise expire under it).
import type { TalosClient } from "../../src/talos/client.ts";
import { MachineWatches } from "../../src/talos/watch.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor } from "../harness/talos-client.ts";

const watchMethod = "/cosi.resource.State/Watch";

describe("machine watches", () => {
  let fleet: Fleet;
  let watches: MachineWatches;
  const clients: TalosClient[] = [];
  const wakes: string[] = [];

  async function clientNamed(caller: string): Promise<TalosClient> {
    const client = clientFor(await fleet.talosconfigFor(caller));
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.12.4",
      timing: { rebootMs: 300 },
    });
    watches = new MachineWatches((plan) => wakes.push(plan));
  });

  afterEach(async () => {
    watches.stop();
    for (const client of clients.splice(0)) client.close();
    await fleet.stop();
  });

  it("wakes the plan when a watched node reboots, and reopens with a rotated client", async () => {
    const worker = fleet.workers()[0];
    if (!worker) throw new Error("no worker");
    const watchesBy = (caller: string) =>
      worker.calls.filter((c) => c.method === watchMethod && c.caller === caller).length;

    watches.set("plan", await clientNamed("before-rotation"), [worker.address]);
    await waitUntil("a watch is open", async () => watchesBy("before-rotation") === 1, { timeoutMs: 5_000 });

    worker.startReboot("test");
    await waitUntil("the reboot woke the plan", async () => wakes.includes("plan"), { timeoutMs: 5_000 });

    const rotated = await clientNamed("after-rotation");
    await waitUntil("the node is back", async () => worker.up, { timeoutMs: 5_000 });
    const before = watchesBy("before-rotation");
    watches.set("plan", rotated, [worker.address]);
    await waitUntil(
      "the watch is reopened with the new client",
      async () => watchesBy("after-rotation") === 1,
      {
        timeoutMs: 5_000,
      },
    );
    // Long enough for the old loop's back-off (at most 5 s after a reboot) to have reopened it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(watchesBy("before-rotation")).toBe(before);
  });
});
