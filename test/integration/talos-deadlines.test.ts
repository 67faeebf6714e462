// Every Talos call the operator awaits ends by its deadline, streams too: a machine that takes calls
// and answers none (machined hung, its connections up) must not hold up the pass that reads it. The
// watches are the exception: held open until the plan stops watching, not cut at the deadline.
import type { TalosClient } from "../../src/talos/client.ts";
import { facts } from "../../src/talos/machine.ts";
import { MachineWatches } from "../../src/talos/watch.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import type { SimNode } from "../../testkit/fleet/node.ts";
import { clientFor } from "../harness/talos-client.ts";

// The deadline clientFor gives the operator's client in tests.
const deadlineMs = 2_000;

describe("Talos call deadlines", () => {
  let fleet: Fleet;
  let worker: SimNode;
  let client: TalosClient;

  beforeEach(async () => {
    fleet = await Fleet.start({ controlPlanes: 1, workers: 1, talosVersion: "v1.12.4" });
    const [first] = fleet.workers();
    if (!first) throw new Error("no worker");
    worker = first;
    client = clientFor(await fleet.talosconfigFor("deadlines"));
  });
  afterEach(async () => {
    client.close();
    await fleet.stop();
  });

  it("a hung machine's facts read ends at the deadline as unreachable", async () => {
    worker.faults.hung = true;
    const started = performance.now();
    const read = await facts(client, worker.address);
    expect(read).toEqual({ reachable: false, error: expect.stringContaining("DEADLINE_EXCEEDED") });
    expect(performance.now() - started).toBeLessThan(3 * deadlineMs);
    // Once it answers again, so does the read.
    worker.faults.hung = false;
    expect(await facts(client, worker.address)).toMatchObject({ reachable: true, version: "v1.12.4" });
  });

  it("so does it with the machine's status from an open watch: the boot ID's stream alone is read", async () => {
    worker.faults.hung = true;
    const started = performance.now();
    const watched = () => ({ stream: 1, stage: "RUNNING" as const, ready: true });
    const read = await facts(client, worker.address, { watched });
    expect(read).toEqual({ reachable: false, error: expect.stringContaining("DEADLINE_EXCEEDED") });
    expect(performance.now() - started).toBeLessThan(3 * deadlineMs);
    expect(worker.calls.map((c) => c.method)).toEqual(["/machine.MachineService/Read"]);
  });

  it("a stream read of a hung machine ends at the deadline", async () => {
    worker.faults.hung = true;
    const started = performance.now();
    const bootId = { path: "/proc/sys/kernel/random/boot_id" };
    const read = client.stream("machine", "Read", bootId, worker.address, () => undefined);
    await expect(read).rejects.toThrow("DEADLINE_EXCEEDED");
    const tookMs = performance.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(deadlineMs - 50);
    expect(tookMs).toBeLessThan(3 * deadlineMs);
    expect(worker.calls.map((c) => c.method)).toContain("/machine.MachineService/Read");
  });

  it("a watch stays open past the deadline", async () => {
    const watches = new MachineWatches(() => undefined);
    const opened = () => worker.calls.filter((c) => c.method === "/cosi.resource.State/Watch").length;
    try {
      watches.set("plan", client, [worker.address]);
      const delivered = async () => watches.machine("plan", worker.address) !== undefined;
      await waitUntil("the watch delivers", delivered, { timeoutMs: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 2 * deadlineMs));
      expect(opened()).toBe(1);
      expect(await delivered()).toBe(true);
    } finally {
      watches.stop();
    }
  });
});
