// The upgrade call is made once per boot, whatever happens to the status write that confirms it:
// act()'s guard over the wire against a simulated machine that, as Talos does, answers the call
// before its sequence starts. A second pass of the same process (its confirmation lost to a 409)
// and a new process reading the machine once its sequence runs both count the call as made. A
// machine watch open since the boot's facts were read, or one opened later that shows the
// MachineStatus those facts were read with (Talos creates it anew each boot), stands in for reading
// them again before the call, and tells a sequence under way as well as a read.
import type { ActPorts } from "../../src/controller/act.ts";
import { act } from "../../src/controller/act.ts";
import { newShellMemory } from "../../src/controller/observe.ts";
import type { TalosClient } from "../../src/talos/client.ts";
import { facts } from "../../src/talos/machine.ts";
import { MachineWatches } from "../../src/talos/watch.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor, legacyUpgradeOf } from "../harness/talos-client.ts";

const sequenceDelayMs = 1_500;

describe("the upgrade call, once per boot", () => {
  let fleet: Fleet;
  let client: TalosClient;

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 6,
      talosVersion: "v1.12.3",
      // An install long enough for the watch to show the sequence before the machine goes down.
      timing: { sequenceDelayMs, installMs: 2_000, rebootMs: 5_000 },
    });
    client = clientFor(fleet.talosconfig.admin);
  });

  afterAll(async () => {
    client.close();
    await fleet.stop();
  });

  /** Only what an upgrade action touches: the Talos client and the process's memory. */
  const ports = (memory = newShellMemory()) => ({ talosClient: client, memory }) as unknown as ActPorts;

  const upgradeOf = (short: string) => legacyUpgradeOf(client, fleet.node(short));

  it("a pass that asks again before the sequence starts (its confirmation lost) does not call again", async () => {
    const action = await upgradeOf("worker-1");
    const shared = ports();
    const first = await act(action, shared);
    expect({ first, errors: [...shared.memory.upgradeErrors] }).toEqual({ first: "called", errors: [] });
    // The machine has answered and still says RUNNING on the same boot: only memory knows.
    const machine = await facts(client, action.address);
    expect(machine).toMatchObject({ reachable: true, bootId: action.bootIdBefore, stage: "RUNNING" });
    expect(await act(action, shared)).toBe("called");
    expect(fleet.node("worker-1").upgrades).toHaveLength(1);
  });

  it("a new process, once the sequence runs, reads the call as made and does not call again", async () => {
    const action = await upgradeOf("worker-2");
    expect(await act(action, ports())).toBe("called");
    await waitUntil(
      "worker-2's upgrade sequence to start",
      async () => {
        const machine = await facts(client, action.address);
        return !machine.reachable || machine.stage !== "RUNNING" || machine.bootId !== action.bootIdBefore;
      },
      { timeoutMs: 10_000 },
    );
    expect(await act(action, ports())).toBe("called");
    expect(fleet.node("worker-2").upgrades).toHaveLength(1);
  });

  it("without the remembered call, a second call in the window reaches the machine: the guard is what stops it", async () => {
    const action = await upgradeOf("cp-1");
    expect(await act(action, ports())).toBe("called");
    expect(await act(action, ports())).toBe("called");
    expect(fleet.node("cp-1").upgrades).toHaveLength(2);
  });

  describe("with the machine watched", () => {
    const watches = new MachineWatches(() => undefined);
    afterAll(() => watches.stop());

    /** Watches the node (a plan of its own) until its stream delivers. */
    async function watch(short: string) {
      const node = fleet.node(short);
      const watched = (address: string) => watches.machine(short, address);
      watches.set(short, client, [node.address]);
      await waitUntil(`${short}'s watch delivers`, async () => watched(node.address) !== undefined, {
        timeoutMs: 5_000,
      });
      return watched;
    }

    /** The node's facts read while no stream is open, kept as observe() keeps them. */
    async function readUnwatched(short: string) {
      const action = await upgradeOf(short);
      const node = fleet.node(short);
      const memory = newShellMemory();
      const read = await facts(client, node.address);
      memory.facts.set(node.hostname, { at: Date.now(), facts: read });
      return { action, node, memory, read };
    }

    /** Watches the node, then reads its facts through the open stream, as observe() does. */
    async function watchedUpgradeOf(short: string) {
      const action = await upgradeOf(short);
      const node = fleet.node(short);
      const watched = await watch(short);
      const memory = newShellMemory();
      const stream = watched(node.address)?.stream;
      const before = node.calls.length;
      const read = await facts(client, node.address, { watched: () => watched(node.address) });
      memory.facts.set(node.hostname, { at: Date.now(), facts: read, ...(stream ? { stream } : {}) });
      return { action, node, memory, read, watched, reads: node.calls.slice(before).map((c) => c.method) };
    }

    it("facts take the status from the open stream, and the boot from a stream open since the last read", async () => {
      const { node, read, reads, watched } = await watchedUpgradeOf("worker-3");
      expect(read).toMatchObject({ reachable: true, stage: "RUNNING", ready: true });
      expect(reads).toContain("/machine.MachineService/Read");
      expect(reads).not.toContain("/cosi.resource.State/Get");
      // Read again on the same stream, for the health gate: only the diagnostics are asked.
      const before = node.calls.length;
      const again = await facts(client, node.address, {
        known: read,
        watched: () => watched(node.address),
        sameBoot: true,
        diagnostics: true,
      });
      expect(again).toEqual(read);
      expect(node.calls.slice(before).map((c) => c.method)).toEqual(["/cosi.resource.State/List"]);
    });

    it("a stream opened after the facts were read proves the boot by its MachineStatus' creation time", async () => {
      const { action, node, memory, read } = await readUnwatched("worker-5");
      const watched = await watch("worker-5");
      expect(read.statusCreatedAt).toMatch(/^\d+\.\d{9}$/);
      expect(watched(node.address)?.createdAt).toBe(read.statusCreatedAt);
      const before = node.calls.length;
      expect(await act(action, { ...ports(memory), watched } as ActPorts)).toBe("called");
      expect(node.calls.slice(before).map((c) => c.method)).toEqual(["/machine.MachineService/Upgrade"]);
      expect(node.upgrades).toHaveLength(1);
    });

    it("a machine rebooted since its facts were read shows a new MachineStatus: it is read, and not called on the old boot", async () => {
      const { action, node, memory, read } = await readUnwatched("worker-6");
      await client.unary("machine", "Reboot", { mode: "DEFAULT" }, node.address);
      await waitUntil(
        "worker-6 back on a new boot",
        async () => {
          const now = await facts(client, node.address);
          return now.reachable && now.stage === "RUNNING" && now.bootId !== action.bootIdBefore;
        },
        { timeoutMs: 20_000 },
      );
      const watched = await watch("worker-6");
      expect(watched(node.address)?.createdAt).toBeDefined();
      expect(watched(node.address)?.createdAt).not.toBe(read.statusCreatedAt);
      const before = node.calls.length;
      expect(await act(action, { ...ports(memory), watched } as ActPorts)).toBe("called");
      expect(node.calls.slice(before).map((c) => c.method)).toContain("/machine.MachineService/Read");
      expect(node.upgrades).toHaveLength(0);
    });

    it("the call is made on the watch's word, without reading the machine again, and once", async () => {
      const { action, node, memory, watched } = await watchedUpgradeOf("worker-4");
      const before = node.calls.length;
      expect(await act(action, { ...ports(memory), watched } as ActPorts)).toBe("called");
      expect(node.calls.slice(before).map((c) => c.method)).toEqual(["/machine.MachineService/Upgrade"]);
      // A new process with facts read on the same stream: once the sequence runs the watch says
      // so, the machine is read, and the call is counted as made.
      await waitUntil(
        "the watch shows the sequence",
        async () => watched(node.address)?.stage === "UPGRADING",
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      const restarted = newShellMemory();
      for (const [name, known] of memory.facts) restarted.facts.set(name, known);
      expect(await act(action, { ...ports(restarted), watched } as ActPorts)).toBe("called");
      expect(node.upgrades).toHaveLength(1);
    });
  });
});
