// Faults a test can inject into the simulated fleet, each seen through the real talosctl the way
// an operator would see it on real machines.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet, vanillaSchematic } from "./fleet.ts";

const run = promisify(execFile);
const talosctl = tool("talosctl", "talosctl");
const image = (version: string) => `factory.talos.dev/metal-installer/${vanillaSchematic}:${version}`;

describe("injected faults", () => {
  let fleet: Fleet;
  const admin = (args: string[]) =>
    run(talosctl, ["--talosconfig", fleet.talosconfig.admin, "-e", fleet.node("cp-1").address, ...args], {
      timeout: 30_000,
    });

  beforeEach(async () => {
    fleet = await Fleet.start({
      controlPlanes: 3,
      workers: 2,
      talosVersion: "v1.12.4",
      timing: { rebootMs: 100 },
    });
  });

  afterEach(() => fleet.stop());

  it("image pull failure: the upgrade call fails and nothing starts", async () => {
    fleet.inject("worker-1", { pullFailure: true });
    await expect(
      admin(["-n", fleet.node("worker-1").address, "upgrade", "--wait=false", "--image", image("v1.13.0")]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("failed to pull image") });
    expect(fleet.node("worker-1").stage).toBe("RUNNING");
  });

  it("never comes back: the machine stays unreachable after its reboot", async () => {
    const worker = fleet.node("worker-1");
    fleet.inject("worker-1", { neverReturns: true });
    worker.startReboot("test");
    await waitUntil("worker-1 goes down", async () => !worker.up, { timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(admin(["-n", worker.address, "version"])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Unavailable|connection refused/),
    });
  });

  it("slow boot: the machine is away for the reboot time plus the delay", async () => {
    const worker = fleet.node("worker-2");
    fleet.inject("worker-2", { slowBootMs: 1_000 });
    const started = Date.now();
    worker.startReboot("test");
    await waitUntil("worker-2 goes down", async () => !worker.up, { timeoutMs: 5_000 });
    await waitUntil("worker-2 is back", async () => worker.up, { timeoutMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_100);
  });

  it("apid outage: calls through another endpoint fail, then succeed again", async () => {
    const worker = fleet.node("worker-1");
    worker.apidOutage(1_000);
    await expect(admin(["-n", worker.address, "version"])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Unavailable|connection refused/),
    });
    await waitUntil("worker-1 answers again", async () => worker.up, { timeoutMs: 5_000 });
    expect((await admin(["-n", worker.address, "version"])).stdout).toMatch(/Tag:\s+v1\.12\.4/);
  });

  it("machined's lock: a reboot asked during an upgrade is not started, one asked during a reboot stands with it", async () => {
    const sequenceEvents = (node: string) => {
      const seen: { actorId: string; payload: Record<string, unknown> }[] = [];
      fleet.node(node).events.subscribe((e) => {
        if (e.type === "machine.SequenceEvent") seen.push({ actorId: e.actorId, payload: e.payload });
      });
      return seen;
    };
    const downs = (node: string) => {
      let count = 0;
      fleet.node(node).listen({ down: () => count++ });
      return () => count;
    };
    const upgrading = fleet.node("worker-1");
    const upgradingEvents = sequenceEvents("worker-1");
    const upgradingDowns = downs("worker-1");
    fleet.inject("worker-1", { drainHoldMs: 1_000 });
    upgrading.startLegacyUpgrade("v1.12.5", "upgrader");
    await waitUntil("worker-1 upgrading", async () => upgrading.stage === "UPGRADING", { timeoutMs: 5_000 });
    upgrading.startReboot("rebooter");
    await waitUntil("worker-1 back on v1.12.5", async () => upgrading.up && upgrading.version === "v1.12.5", {
      timeoutMs: 10_000,
    });
    const locked = upgradingEvents.filter((e) => e.payload.action === "NOOP");
    expect(locked).toEqual([
      {
        actorId: "",
        payload: {
          sequence: "reboot",
          action: "NOOP",
          error: { code: "LOCKED", message: "sequence not started: locked" },
        },
      },
    ]);
    expect(upgradingEvents.filter((e) => e.actorId === "rebooter")).toEqual([]);
    expect(upgradingDowns()).toBe(1);

    const rebooting = fleet.node("worker-2");
    const rebootingEvents = sequenceEvents("worker-2");
    const rebootingDowns = downs("worker-2");
    const bootId = rebooting.bootId;
    rebooting.startReboot("first");
    rebooting.startReboot("second");
    await waitUntil("worker-2 rebooted", async () => rebooting.up && rebooting.bootId !== bootId, {
      timeoutMs: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rebootingDowns()).toBe(1);
    expect(rebootingEvents.filter((e) => e.payload.action === "NOOP")).toEqual([]);
    expect(rebootingEvents.filter((e) => e.payload.sequence === "reboot").map((e) => e.actorId)).toEqual([
      "first",
    ]);
  });

  it("etcd unhealthy and alarms show in etcd status and etcd alarm list", async () => {
    fleet.inject("cp-2", { etcdUnhealthy: true, etcdAlarm: "NOSPACE" });
    const status = (await admin(["-n", fleet.node("cp-2").address, "etcd", "status"])).stdout;
    expect(status).toContain("etcdserver: request timed out");
    // As etcd's own status does, every member's status lists the cluster's alarms among its errors.
    const healthy = (await admin(["-n", fleet.node("cp-1").address, "etcd", "status"])).stdout;
    expect(healthy).toContain(
      `memberID:${BigInt(`0x${fleet.memberId(fleet.node("cp-2"))}`).toString()} alarm:NOSPACE`,
    );
    expect(healthy).not.toContain("request timed out");
    const alarms = (await admin(["-n", fleet.node("cp-1").address, "etcd", "alarm", "list"])).stdout;
    expect(alarms).toContain(fleet.memberId(fleet.node("cp-2")));
    expect(alarms).toContain("NOSPACE");
  });

  it("kubelet not ready after boot: the machine runs but reports ready: false", async () => {
    const worker = fleet.node("worker-2");
    fleet.inject("worker-2", { kubeletNotReady: true });
    worker.startReboot("test");
    await waitUntil("worker-2 goes down", async () => !worker.up, { timeoutMs: 5_000 });
    await waitUntil("worker-2 is back", async () => worker.up, { timeoutMs: 5_000 });
    const status = (await admin(["-n", worker.address, "get", "machinestatus"])).stdout;
    expect(status).toMatch(/running\s+false/);
  });

  it("ApplyConfiguration error: talosctl patch fails with the injected message", async () => {
    fleet.inject("cp-1", { applyConfigurationError: "injected: disk is read-only" });
    const patch =
      '[{"op":"replace","path":"/machine/kubelet/image","value":"ghcr.io/siderolabs/kubelet:v1.35.3"}]';
    await expect(
      admin([
        "-n",
        fleet.node("cp-1").address,
        "patch",
        "machineconfig",
        "--mode",
        "no-reboot",
        "--patch",
        patch,
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("injected: disk is read-only") });
  });
});

// Real Talos runs a pull under its request's context: when the caller goes away, or the endpoint
// proxying the call reboots, containerd's pull is cancelled. The simulator must not let a pull
// outlive its call, or a caller that asks again would see two pulls at once that Talos never runs.
describe("a pull whose call ends early", () => {
  let fleet: Fleet;
  const pullMs = 5_000;
  const reference = "ghcr.io/siderolabs/kubelet:v1.35.3";

  beforeEach(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.12.4",
      versions: { "worker-2": "v1.13.0" },
      timing: { rebootMs: 500, pullMs },
    });
  });

  afterEach(() => fleet.stop());

  /** Starts `talosctl image pull` on `node` through cp-1; resolves once the node's pull has begun. */
  async function startPull(node: string) {
    const worker = fleet.node(node);
    const endpoint = fleet.node("cp-1").address;
    const args = ["--talosconfig", fleet.talosconfig.admin, "-e", endpoint, "-n", worker.address];
    const child = spawn(talosctl, [...args, "image", "pull", "--namespace", "system", reference]);
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitUntil(`${node} pulls`, async () => worker.pulls.length === 1, { timeoutMs: 10_000 });
    const span = worker.pulls[0] as { start: number; end?: number };
    return { worker, child, span, exited, stderr: () => stderr };
  }

  const pulledNothing = (node: string) =>
    [...fleet.node(node).pulled].filter((key) => key.endsWith(reference)).length === 0;

  it.each(["worker-1", "worker-2"])(
    "%s: the client cancels, and the pull stops at once and pulls nothing",
    async (node) => {
      const { worker, child, span, exited } = await startPull(node);
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill("SIGKILL");
      await exited;
      await waitUntil(`${node}'s pull ends`, async () => span.end !== undefined, { timeoutMs: pullMs });
      expect((span.end ?? 0) - span.start).toBeLessThan(pullMs / 2);
      expect(pulledNothing(node)).toBe(true);
      expect(worker.calls.map((c) => c.method)).toContainEqual(
        node === "worker-1" ? "/machine.MachineService/ImagePull" : "/machine.ImageService/Pull",
      );
    },
  );

  it.each(["worker-1", "worker-2"])(
    "%s: the endpoint reboots, and the call fails at once and the pull stops",
    async (node) => {
      const { span, exited, stderr } = await startPull(node);
      fleet.node("cp-1").startReboot("test");
      expect(await exited).not.toBe(0);
      expect(stderr()).toMatch(/Unavailable|rebooting/);
      expect(Date.now() - span.start).toBeLessThan(pullMs / 2);
      expect(span.end).toBeDefined();
      expect(pulledNothing(node)).toBe(true);
    },
  );
});
