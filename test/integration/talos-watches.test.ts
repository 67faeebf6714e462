// The COSI watches that wake a plan when a node it works on reboots, against the simulated fleet:
// a stream is "opening" until its first event, which wakes the plan; a reboot wakes the plan; and
// after the talosconfig rotates the stream is reopened with the new client (the old certificate
// would otherwise expire under it); a machine found back by a read has its stream reopened at once.
import { jest } from "@jest/globals";
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

    const original = await clientNamed("before-rotation");
    // Every stream the first client's loop opens, so that its end can be awaited after the rotation.
    const opened = jest.spyOn(original, "stream");
    watches.set("plan", original, [worker.address]);
    // Asked for, not delivered yet: a pass waits for it rather than read the machine.
    expect(watches.opening("plan", worker.address)).toBe(true);
    await waitUntil("a watch is open", async () => watchesBy("before-rotation") === 1, { timeoutMs: 5_000 });
    // Its first event gives the machine's status, and wakes the plan: a read waits for it.
    await waitUntil("the watch delivers", async () => watches.machine("plan", worker.address) !== undefined, {
      timeoutMs: 5_000,
    });
    expect(watches.opening("plan", worker.address)).toBe(false);
    expect(wakes).toContain("plan");
    const wakesBefore = wakes.length;

    worker.startReboot("test");
    await waitUntil("the reboot woke the plan", async () => wakes.length > wakesBefore, { timeoutMs: 5_000 });

    // Rotated once the old loop has reopened its watch after the reboot: the rotation then has a
    // stream to cancel, and the old loop's end is seen (that stream settles). Stopped in its
    // back-off instead, the loop would end without a sign, and only a sleep could tell it had.
    await waitUntil(
      "the node is back and watched again",
      async () => worker.up && watchesBy("before-rotation") >= 2,
      {
        timeoutMs: 10_000,
      },
    );
    const rotated = await clientNamed("after-rotation");
    const wakesAtRotation = wakes.length;
    const callsAtRotation = opened.mock.calls.length;
    const watchesAtRotation = watchesBy("before-rotation");
    watches.set("plan", rotated, [worker.address]);
    await waitUntil(
      "the watch is reopened with the new client",
      async () => watchesBy("after-rotation") === 1,
      {
        timeoutMs: 5_000,
      },
    );
    // The old loop's acknowledgement: every stream it opened has settled, the last one cancelled
    // by the rotation; then one turn of the event loop for what it does next.
    let closed = false;
    void Promise.allSettled(opened.mock.results.map((r) => r.value)).then(() => {
      closed = true;
    });
    await waitUntil("the old watch closed", async () => closed, { timeoutMs: 5_000 });
    await waitUntil(
      "the new watch delivers",
      async () => watches.machine("plan", worker.address) !== undefined,
      {
        timeoutMs: 5_000,
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    // One wake: the new stream's first event. A loop that went on would have woken the plan (a
    // stream that ended) before its back-off, and then reopened with the old client.
    expect(wakes.length).toBe(wakesAtRotation + 1);
    expect(opened.mock.calls.length).toBe(callsAtRotation);
    expect(watchesBy("before-rotation")).toBe(watchesAtRotation);
  });

  it("opens a stream again at once when asked to hasten, not at the end of its back-off", async () => {
    await fleet.stop();
    // A reboot long enough for the back-off to reach its 5 s cap while the machine is down.
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.12.4",
      timing: { rebootMs: 9_500 },
    });
    const worker = fleet.workers()[0];
    if (!worker) throw new Error("no worker");
    const opened = () => worker.calls.filter((c) => c.method === watchMethod).length;
    watches.set("plan", await clientNamed("hasten"), [worker.address]);
    await waitUntil("the watch delivers", async () => watches.machine("plan", worker.address) !== undefined, {
      timeoutMs: 5_000,
    });
    worker.startReboot("test");
    await waitUntil("the stream ended", async () => watches.machine("plan", worker.address) === undefined, {
      timeoutMs: 5_000,
    });
    await waitUntil("the machine is back", async () => worker.up, { timeoutMs: 20_000 });
    const before = opened();
    watches.hasten("plan", worker.address);
    // Its pause (5 s, from 7.75 s after the reboot began) has 3 s to run; hastened, it opens within moments.
    await waitUntil("the stream is opened again", async () => opened() > before, { timeoutMs: 1_500 });
    await waitUntil(
      "the watch delivers again",
      async () => watches.machine("plan", worker.address) !== undefined,
      {
        timeoutMs: 1_500,
      },
    );
  });
});
