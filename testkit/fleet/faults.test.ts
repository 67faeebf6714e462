// Faults a test can inject into the simulated fleet, each seen through the real talosctl the way
// an operator would see it on real machines.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet, vanillaSchematic } from "./fleet.ts";

const run = promisify(execFile);
const image = (version: string) => `factory.talos.dev/metal-installer/${vanillaSchematic}:${version}`;

describe("injected faults", () => {
  let fleet: Fleet;
  const talosctl = tool("talosctl", "talosctl");
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

  it("etcd unhealthy and alarms show in etcd status and etcd alarm list", async () => {
    fleet.inject("cp-2", { etcdUnhealthy: true, etcdAlarm: "NOSPACE" });
    const status = (await admin(["-n", fleet.node("cp-2").address, "etcd", "status"])).stdout;
    expect(status).toContain("etcdserver: request timed out");
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
