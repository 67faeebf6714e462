// What an installer image does to a simulated machine, seen through the real talosctl: the Image
// Factory serves only schematics it knows; a boot into a new entry adopts the installer's schematic,
// extensions, factory and platform; the legacy API keeps machine.install.extraKernelArgs on GRUB
// where LifecycleService.Upgrade loses them; and a staged upgrade runs Talos' stageUpgrade sequence.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import type { FleetEvent } from "./events.ts";
import { Fleet, vanillaSchematic } from "./fleet.ts";
import type { SimNode } from "./node.ts";
import { ImageRegistry } from "./registry.ts";

const run = promisify(execFile);
const talosctl = tool("talosctl", "talosctl");
const gpu = "a1".repeat(32);
const storage = "b2".repeat(32);
const nvidia = "siderolabs/nvidia-container-toolkit-production";
const iscsi = { name: "iscsi-tools", version: "v0.2.0", image: "" };
const kernelArgs = ["console=ttyS0,115200", "net.ifnames=0"];
// Longer than talosctl's one-second retry interval, as a real reboot is: its upgrade tracker must
// find the node gone before it comes back (see talosctl-conformance.test.ts).
const rebootsLikeReal = { rebootMs: 2_000 };

function admin(fleet: Fleet, node: SimNode, args: string[]) {
  const endpoint = fleet.controlPlanes()[0]?.address ?? "";
  return run(
    talosctl,
    ["--talosconfig", fleet.talosconfig.admin, "-e", endpoint, "-n", node.address, ...args],
    {
      timeout: 30_000,
    },
  );
}

/** Waits until the node has booted `version` and is running again. */
async function booted(node: SimNode, version: string): Promise<void> {
  await waitUntil(`${node.hostname} runs ${version}`, async () => node.up && node.version === version, {
    timeoutMs: 15_000,
    describe: () => `${node.hostname}: ${node.version}, up ${node.up}, stage ${node.stage}`,
  });
}

const names = (node: SimNode) => node.identity.extensions.map((e) => e.name);

describe("installer images on the simulated fleet", () => {
  let fleet: Fleet | undefined;

  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it("the Image Factory knows the fleet's schematics and refuses an installer for any other, naming it", async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.12.4",
      versions: { "worker-2": "v1.13.0" },
      images: { "worker-1": { schematic: storage, extensions: [iscsi] } },
      timing: rebootsLikeReal,
    });
    const { registry } = fleet;
    expect(registry.schematicExtensions(storage)).toEqual(["siderolabs/iscsi-tools"]);
    expect(registry.schematicExtensions(vanillaSchematic)).toEqual([]);
    expect(registry.schematicExtensions(gpu)).toBeUndefined();
    // A schematic ID is the hash of its content: the same ID cannot name other extensions.
    expect(() => registry.addSchematic(storage, [nvidia])).toThrow(/already known/);

    const unknown = `factory.talos.dev/metal-installer/${gpu}:v1.13.0`;
    const [legacy, lifecycle] = [fleet.node("worker-1"), fleet.node("worker-2")];
    await expect(
      admin(fleet, legacy, ["upgrade", "--progress=plain", "--image", unknown]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(new RegExp(`not found: schematic ${gpu}`)),
    });
    // talosctl's v1.13+ flow: ImageService.Pull is refused before anything is installed.
    const newer = `factory.talos.dev/metal-installer/${gpu}:v1.13.1`;
    await expect(
      admin(fleet, lifecycle, ["upgrade", "--drain=false", "--progress=plain", "--image", newer]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining(`schematic ${gpu}`) });
    expect([legacy.upgrades, lifecycle.upgrades]).toEqual([[], []]);
    expect([legacy.version, lifecycle.version]).toEqual(["v1.12.4", "v1.13.0"]);

    // Once given the schematic, the factory builds its installers.
    registry.addSchematic(gpu, [nvidia]);
    expect(registry.resolveInstaller(unknown)).toEqual({ version: "v1.13.0" });
    await admin(fleet, legacy, ["upgrade", "--progress=plain", "--image", unknown]);
    await booted(legacy, "v1.13.0");
    expect(legacy.identity.schematic).toBe(gpu);
  });

  it("a boot into a new installer adopts its schematic, extensions, factory and platform", async () => {
    const selfHosted = "images.factory.corp.example:8443";
    const shared = new ImageRegistry();
    shared.addFactory(selfHosted);
    shared.addSchematic(gpu, [nvidia, "siderolabs/iscsi-tools"]);
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.14.0",
      registry: shared,
      images: { "worker-1": { schematic: storage, extensions: [iscsi] } },
      timing: rebootsLikeReal,
    });
    const worker = fleet.node("worker-1");
    expect(names(worker)).toEqual(["iscsi-tools", "schematic"]);
    const factoryVersion = async () =>
      Number(
        (
          await admin(fleet as Fleet, worker, [
            "get",
            "imagefactoryschematics",
            "-o",
            "jsonpath={.metadata.version}",
          ])
        ).stdout,
      );
    const before = await factoryVersion();

    // talosctl's v1.13+ flow: ImageService.Pull, LifecycleService.Upgrade, Reboot.
    const image = `${selfHosted}/aws-installer/${gpu}:v1.14.1`;
    await admin(fleet, worker, ["upgrade", "--drain=false", "--progress=plain", "--image", image]);
    await booted(worker, "v1.14.1");
    expect(worker.upgrades).toEqual([{ api: "lifecycle", image, stage: false, at: expect.any(Number) }]);
    expect(worker.identity).toMatchObject({
      schematic: gpu,
      platform: "aws",
      factoryUrl: `https://${selfHosted}`,
    });
    expect(worker.identity.extensions).toEqual([
      // iscsi-tools was there before and keeps its version; the new one reports the release's.
      { name: "iscsi-tools", version: "v0.2.0", image: "" },
      { name: "nvidia-container-toolkit-production", version: "v1.14.1", image: "" },
      { name: "schematic", version: gpu, image: "", author: `Image Factory (https://${selfHosted})` },
    ]);
    expect(worker.cmdline).toContain("talos.platform=aws");
    // What a client reads: the new identity, under a new resource version.
    const served = await admin(fleet, worker, ["get", "imagefactoryschematics", "-o", "yaml"]);
    expect(served.stdout).toContain(`schematicId: ${gpu}`);
    expect(served.stdout).toContain(`apiUrl: https://${selfHosted}`);
    expect(await factoryVersion()).toBe(before + 1);
    const version = await admin(fleet, worker, ["version"]);
    expect(version.stdout).toMatch(/Tag:\s+v1\.14\.1/);

    // An installer from no factory (a custom build) leaves the machine with no schematic at all.
    const custom = "registry.example.com/talos/installer:v1.14.0";
    shared.publish(custom);
    await admin(fleet, worker, ["upgrade", "--drain=false", "--progress=plain", "--image", custom]);
    await booted(worker, "v1.14.0");
    expect(worker.identity.schematic).toBe("");
    expect(worker.identity.extensions).toEqual([]);
    expect(worker.identity.platform).toBe("aws");
    const none = await admin(fleet, worker, ["get", "imagefactoryschematics"]);
    expect(none.stdout).not.toContain("image-factory-schematic");
    expect((await admin(fleet, worker, ["get", "extensions"])).stdout).not.toContain("ExtensionStatus");
  });

  it("an A/B rollback keeps the old schematic, and the plain installer leaves none (legacy API)", async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.12.4",
      images: {
        "worker-1": { schematic: storage, extensions: [iscsi] },
        "worker-2": { schematic: storage, extensions: [iscsi] },
      },
      timing: rebootsLikeReal,
    });
    const [failing, plain] = [fleet.node("worker-1"), fleet.node("worker-2")];
    fleet.registry.addSchematic(gpu, [nvidia]);
    fleet.inject("worker-1", { bootFailure: true });
    const bootId = failing.bootId;
    await admin(fleet, failing, [
      "upgrade",
      "--progress=plain",
      "--image",
      `factory.talos.dev/metal-installer/${gpu}:v1.13.0`,
    ]);
    await waitUntil("worker-1 boots again", async () => failing.up && failing.bootId !== bootId, {
      timeoutMs: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(failing.version).toBe("v1.12.4");
    expect(failing.identity.schematic).toBe(storage);
    expect(names(failing)).toEqual(["iscsi-tools", "schematic"]);

    await admin(fleet, plain, [
      "upgrade",
      "--progress=plain",
      "--image",
      "ghcr.io/siderolabs/installer:v1.13.0",
    ]);
    await booted(plain, "v1.13.0");
    expect(plain.identity.schematic).toBe("");
    expect(plain.identity.extensions).toEqual([]);
    expect(plain.upgrades).toEqual([
      {
        api: "legacy",
        image: "ghcr.io/siderolabs/installer:v1.13.0",
        stage: false,
        at: expect.any(Number),
      },
    ]);
  });

  it("a SecureBoot installer on a machine without SecureBoot boots, and the simulator records it", async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 2,
      talosVersion: "v1.12.4",
      timing: rebootsLikeReal,
    });
    const [wrong, right] = [fleet.node("worker-1"), fleet.node("worker-2")];
    const secureboot = `factory.talos.dev/metal-installer-secureboot/${vanillaSchematic}:v1.13.0`;
    await admin(fleet, wrong, ["upgrade", "--progress=plain", "--image", secureboot]);
    await admin(fleet, right, [
      "upgrade",
      "--progress=plain",
      "--image",
      `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.0`,
    ]);
    await booted(wrong, "v1.13.0");
    await booted(right, "v1.13.0");
    expect(wrong.bootProblems).toEqual([expect.stringContaining(`${secureboot}: a SecureBoot installer`)]);
    expect(right.bootProblems).toEqual([]);
  });

  it("kernel args: kept by the legacy API, lost by LifecycleService.Upgrade on GRUB; sd-boot never takes them", async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 4,
      talosVersion: "v1.13.0",
      images: {
        "worker-1": { kernelArgs },
        "worker-2": { kernelArgs },
        "worker-3": { bootloader: "sd-boot", kernelArgs },
        "worker-4": { grubUseUKICmdline: true },
      },
      timing: rebootsLikeReal,
    });
    const [legacy, lifecycle, sdBoot, uki] = ["worker-1", "worker-2", "worker-3", "worker-4"].map((h) =>
      (fleet as Fleet).node(h),
    ) as [SimNode, SimNode, SimNode, SimNode];
    // The machine config carries the switches, and GRUB booted with the arguments.
    const config = await admin(fleet, legacy, ["get", "machineconfig", "-o", "jsonpath={.spec}"]);
    expect(config.stdout).toContain("extraKernelArgs:");
    expect(config.stdout).toContain("net.ifnames=0");
    expect(fleet.machineConfig(uki)).toContain("grubUseUKICmdline: true");
    expect(fleet.machineConfig(legacy)).not.toContain("grubUseUKICmdline");
    expect(fleet.machineConfig(uki)).not.toContain("extraKernelArgs");
    for (const node of [legacy, lifecycle]) expect(node.cmdline).toEqual(expect.arrayContaining(kernelArgs));
    expect(sdBoot.cmdline).not.toContain("net.ifnames=0");
    const cmdline = await admin(fleet, legacy, ["get", "cmdline", "-o", "jsonpath={.spec.cmdline}"]);
    expect(cmdline.stdout.trim()).toBe(legacy.cmdline.join(" "));
    // bootedWithUKI follows the bootloader: sd-boot without SecureBoot still boots a UKI.
    const security = await admin(fleet, sdBoot, ["get", "securitystate", "-o", "yaml"]);
    expect(security.stdout).toMatch(/secureBoot: false/);
    expect(security.stdout).toMatch(/bootedWithUKI: true/);
    expect((await admin(fleet, legacy, ["get", "securitystate", "-o", "yaml"])).stdout).not.toContain(
      "bootedWithUKI",
    );

    const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.1`;
    await admin(fleet, legacy, ["upgrade", "--legacy", "--progress=plain", "--image", image]);
    await admin(fleet, lifecycle, ["upgrade", "--drain=false", "--progress=plain", "--image", image]);
    await admin(fleet, sdBoot, ["upgrade", "--drain=false", "--progress=plain", "--image", image]);
    for (const node of [legacy, lifecycle, sdBoot]) await booted(node, "v1.13.1");
    expect(legacy.upgrades.map((u) => u.api)).toEqual(["legacy"]);
    expect(lifecycle.upgrades.map((u) => u.api)).toEqual(["lifecycle"]);
    expect(legacy.cmdline).toEqual(expect.arrayContaining(kernelArgs));
    expect(lifecycle.cmdline).not.toContain("net.ifnames=0");
    expect(lifecycle.cmdline).not.toContain("console=ttyS0,115200");
    expect(lifecycle.cmdline).toContain("talos.platform=metal");
    expect(sdBoot.cmdline).toEqual(lifecycle.cmdline);
    const after = await admin(fleet, lifecycle, ["get", "cmdline", "-o", "jsonpath={.spec.cmdline}"]);
    expect(after.stdout).not.toContain("net.ifnames=0");

    // Talos refuses extraKernelArgs next to grubUseUKICmdline, in a patch as at the start.
    const patch = '[{"op":"add","path":"/machine/install/extraKernelArgs","value":["net.ifnames=0"]}]';
    await expect(
      admin(fleet, uki, ["patch", "machineconfig", "--mode", "no-reboot", "--patch", patch]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("can't be used together") });
    await expect(
      Fleet.start({
        controlPlanes: 1,
        workers: 0,
        talosVersion: "v1.13.0",
        images: { "cp-1": { kernelArgs, grubUseUKICmdline: true } },
      }),
    ).rejects.toThrow(/can't be used together/);
    await expect(
      Fleet.start({
        controlPlanes: 1,
        workers: 0,
        talosVersion: "v1.13.0",
        images: { "cp-1": { secureBoot: true, bootloader: "grub" } },
      }),
    ).rejects.toThrow(/sd-boot/);
  });

  it("a staged upgrade (legacy API) runs stageUpgrade, installs in the next boot and comes back on the new version", async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 1,
      talosVersion: "v1.12.4",
      images: { "worker-1": { kernelArgs } },
      timing: { ...rebootsLikeReal, installMs: 300 },
    });
    fleet.registry.addSchematic(gpu, [nvidia]);
    const worker = fleet.node("worker-1");
    const seen: FleetEvent[] = [];
    worker.events.subscribe((event) => seen.push(event));
    const downs: { at: number; pending?: string; staged?: string }[] = [];
    const ups: number[] = [];
    worker.listen({
      down: (n) =>
        downs.push({ at: Date.now(), pending: n.pendingVersion, staged: n.stagedInstall?.version }),
      up: () => ups.push(Date.now()),
    });
    const image = `factory.talos.dev/metal-installer/${gpu}:v1.13.0`;
    const { stdout, stderr } = await admin(fleet, worker, [
      "upgrade",
      "--stage",
      "--progress=plain",
      "--image",
      image,
    ]);
    expect(stdout + stderr).toContain("sequence: stageUpgrade action: START");
    await booted(worker, "v1.13.0");
    // Staged, not installed: nothing in the other boot entry until the next boot runs the installer.
    expect(downs).toEqual([{ at: expect.any(Number), staged: "v1.13.0" }]);
    // One reboot into the install, then one more into the new entry.
    expect((ups[0] ?? 0) - (downs[0]?.at ?? 0)).toBeGreaterThanOrEqual(
      2 * rebootsLikeReal.rebootMs + 300 - 50,
    );
    const sequences = seen
      .filter((e) => e.type === "machine.SequenceEvent" && e.payload.action === "START")
      .map((e) => e.payload.sequence);
    expect(sequences).toEqual(["stageUpgrade", "boot"]);
    const phases = seen.filter((e) => e.type === "machine.PhaseEvent").map((e) => e.payload.phase);
    expect(phases).not.toContain("upgrade");
    expect(worker.upgrades).toEqual([{ api: "legacy", image, stage: true, at: expect.any(Number) }]);
    expect(worker.identity.schematic).toBe(gpu);
    expect(names(worker)).toEqual(["nvidia-container-toolkit-production", "schematic"]);
    // The staged install is the legacy installer: the kernel args stay.
    expect(worker.cmdline).toEqual(expect.arrayContaining(kernelArgs));
  });
});
