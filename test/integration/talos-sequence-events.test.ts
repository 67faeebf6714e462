// Talos' verdict on an upgrade call's sequence, from the machine's events over the wire: the
// simulated machines answer Upgrade before its sequence runs, as machined does, and say only in
// their events that it never started (another sequence held machined's lock: NOOP LOCKED, with no
// actor) or that it failed (NOOP FATAL, of the call's actor). act() follows them around the call.
// A failed sequence leaves the machine up and REBOOTING: a call from that boot is made there, and
// machined's lock tells a failed sequence (the call runs) from one under way (LOCKED).
import type { ActPorts } from "../../src/controller/act.ts";
import { act } from "../../src/controller/act.ts";
import { newShellMemory } from "../../src/controller/observe.ts";
import type { TalosClient } from "../../src/talos/client.ts";
import { facts } from "../../src/talos/machine.ts";
import { SequenceEvents } from "../../src/talos/sequence-events.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor, legacyUpgradeOf } from "../harness/talos-client.ts";

describe("an upgrade call's sequence, as the machine's events tell it", () => {
  let fleet: Fleet;
  let client: TalosClient;
  let sequences: SequenceEvents;
  const wakes: string[] = [];

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 3,
      talosVersion: "v1.12.3",
      timing: { sequenceDelayMs: 200, installMs: 500, rebootMs: 1_500 },
    });
    client = clientFor(fleet.talosconfig.admin);
    sequences = new SequenceEvents((plan) => wakes.push(plan));
  });

  afterAll(async () => {
    sequences.stop();
    client.close();
    await fleet.stop();
  });

  /** What an upgrade action touches, with the machine's events followed as the reconciler does. */
  const ports = (memory = newShellMemory()) =>
    ({
      talosClient: client,
      memory,
      followed: (address, bootId, sequence, call) =>
        sequences.around("plan", client, address, bootId, sequence, call),
      sequenceVerdict: (address) => sequences.verdict("plan", address),
    }) as Partial<ActPorts> as ActPorts;

  const upgradeOf = (short: string) => legacyUpgradeOf(client, fleet.node(short));

  /** Waits until the machine has rebooted from `bootId` and runs again. */
  async function rebootedFrom(short: string, bootId: string) {
    const node = fleet.node(short);
    await waitUntil(
      `${short} back from its reboot`,
      async () => {
        const machine = await facts(client, node.address).catch(() => undefined);
        return machine?.reachable === true && machine.bootId !== bootId && machine.stage === "RUNNING";
      },
      { timeoutMs: 15_000 },
    );
  }

  it("a sequence that runs gives no verdict; the stream is opened before the call", async () => {
    const action = await upgradeOf("worker-1");
    const node = fleet.node("worker-1");
    const before = node.calls.length;
    expect(await act(action, ports())).toBe("called");
    const calls = node.calls.slice(before);
    const methods = calls.map((c) => c.method.split("/").at(-1));
    expect(methods.indexOf("Events")).toBeGreaterThanOrEqual(0);
    expect(methods.indexOf("Events")).toBeLessThan(methods.indexOf("Upgrade"));
    // The call waits for the stream's hello, not for the 2 s the opening is given.
    const at = (method: string) => calls[methods.indexOf(method)]?.at ?? Number.NaN;
    expect(at("Upgrade") - at("Events")).toBeLessThan(1_000);
    await rebootedFrom("worker-1", action.bootIdBefore);
    expect(node.version).toBe("v1.13.0");
    expect(sequences.verdict("plan", action.address)).toBeUndefined();
  });

  it("an upgrade acked while someone's reboot holds machined's lock is judged not started, and is called again", async () => {
    fleet.inject("worker-2", { rebootedBeforeUpgrade: true });
    const node = fleet.node("worker-2");
    const action = await upgradeOf("worker-2");
    const memory = newShellMemory();
    expect(await act(action, ports(memory))).toBe("called");
    await waitUntil(
      "the locked verdict",
      async () => sequences.verdict("plan", action.address)?.outcome === "locked",
      { timeoutMs: 5_000 },
    );
    expect(sequences.verdict("plan", action.address)).toEqual({
      bootId: action.bootIdBefore,
      outcome: "locked",
    });
    expect(wakes).toContain("plan");
    // The reboot that held the lock ran; the upgrade did not.
    await rebootedFrom("worker-2", action.bootIdBefore);
    expect(node.version).toBe("v1.12.3");
    // From the new boot the call is made again, and runs.
    const again = await upgradeOf("worker-2");
    expect(await act(again, ports(memory))).toBe("called");
    await rebootedFrom("worker-2", again.bootIdBefore);
    expect(node.version).toBe("v1.13.0");
    expect(sequences.verdict("plan", action.address)).toBeUndefined();
  });

  it("without a locked verdict, a call remembered from the same boot is not made again", async () => {
    const node = fleet.node("worker-3");
    const action = await upgradeOf("worker-3");
    const memory = newShellMemory();
    // Remembered as made from this boot: without a verdict, act() does not call again.
    memory.upgradeCalls.set(action.node, action.bootIdBefore);
    const before = node.upgrades.length;
    expect(await act(action, ports(memory))).toBe("called");
    expect(node.upgrades.length).toBe(before);
  });

  it("a sequence that fails is judged failed, with Talos' error", async () => {
    fleet.inject("worker-3", { machinedKubeRefused: true });
    const action = await upgradeOf("worker-3");
    expect(await act(action, ports())).toBe("called");
    await waitUntil(
      "the failed verdict",
      async () => sequences.verdict("plan", action.address)?.outcome === "failed",
      { timeoutMs: 5_000 },
    );
    const verdict = sequences.verdict("plan", action.address);
    expect(verdict).toMatchObject({ bootId: action.bootIdBefore, outcome: "failed" });
    expect(verdict?.outcome === "failed" ? verdict.message : "").toContain(
      "sequence failed: error running phase 1 in upgrade sequence",
    );
    expect(verdict?.outcome === "failed" ? verdict.message : "").toContain("Unauthorized");
    // Talos leaves the machine up on its boot.
    const machine = await facts(client, action.address);
    expect(machine).toMatchObject({ reachable: true, bootId: action.bootIdBefore });
  });

  it("a plan that lets go of a machine forgets its verdict", async () => {
    const address = fleet.node("worker-3").address;
    expect(sequences.verdict("plan", address)).toBeDefined();
    sequences.keep("plan", []);
    expect(sequences.verdict("plan", address)).toBeUndefined();
  });

  it("after a failed sequence (REBOOTING on the same boot), a call from that boot is made and runs", async () => {
    // What a retry of the node failed two cases above does: its memory cleared, the machine still
    // on the boot it failed on, its stage REBOOTING since the FATAL error.
    fleet.inject("worker-3", { machinedKubeRefused: false });
    const node = fleet.node("worker-3");
    const action = await upgradeOf("worker-3");
    expect(node.stage).toBe("REBOOTING");
    const before = node.upgrades.length;
    expect(await act(action, ports())).toBe("called");
    expect(node.upgrades.length).toBe(before + 1);
    await rebootedFrom("worker-3", action.bootIdBefore);
    expect(node.version).toBe("v1.13.0");
  });

  it("a call from a boot whose machine reboots (REBOOTING, machined's lock held) runs nothing and is judged locked", async () => {
    // Steps slow enough that someone's reboot stays REBOOTING on its boot for seconds.
    const slow = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.12.3",
      timing: { sequenceDelayMs: 50, stepMs: 400, rebootMs: 1_500 },
    });
    const slowClient = clientFor(slow.talosconfig.admin);
    try {
      const node = slow.node("worker-1");
      const action = await legacyUpgradeOf(slowClient, node);
      await slowClient.unary("machine", "Reboot", {}, node.address);
      await waitUntil("the reboot under way", async () => node.stage === "REBOOTING", { timeoutMs: 5_000 });
      const before = node.upgrades.length;
      const slowPorts = {
        talosClient: slowClient,
        memory: newShellMemory(),
        followed: (address, bootId, sequence, call) =>
          sequences.around("slow", slowClient, address, bootId, sequence, call),
        sequenceVerdict: (address) => sequences.verdict("slow", address),
      } as Partial<ActPorts> as ActPorts;
      expect(await act(action, slowPorts)).toBe("called");
      expect(node.bootId).toBe(action.bootIdBefore);
      await waitUntil(
        "the locked verdict",
        async () => sequences.verdict("slow", action.address)?.outcome === "locked",
        { timeoutMs: 5_000 },
      );
      // The call reached machined; the reboot that held the lock ran, and booted the version the
      // machine had: the upgrade never ran.
      expect(node.upgrades.length).toBe(before + 1);
      await waitUntil("the machine back", async () => node.up && node.bootId !== action.bootIdBefore, {
        timeoutMs: 15_000,
      });
      expect(node.version).toBe("v1.12.3");
    } finally {
      sequences.keep("slow", []);
      slowClient.close();
      await slow.stop();
    }
  });
});
