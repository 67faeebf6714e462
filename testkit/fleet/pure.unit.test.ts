// The simulator's pure parts: which installer images exist (and which schematics the Image Factory
// knows), the event log's tail semantics, component images and install switches read from a
// machine config (v1alpha1 fields or v1.14 documents), and the command line a boot entry gets.
import { EventLog } from "./events.ts";
import { componentImages, imageTag, installOptions, kubeletVersion } from "./machine-config.ts";
import { bootCmdline } from "./node.ts";
import { factoryInstaller, ImageRegistry } from "./registry.ts";

const schematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

describe("the simulated image registry", () => {
  const registry = new ImageRegistry(["v1.12.4", "v1.13.0", "v1.14.0"]);

  it.each([
    [`factory.talos.dev/metal-installer/${schematic}:v1.13.0`, "v1.13.0"],
    [`factory.talos.dev/aws-installer-secureboot/${schematic}:v1.14.0`, "v1.14.0"],
    [`factory.talos.dev/installer/${schematic}:v1.12.4`, "v1.12.4"],
    ["ghcr.io/siderolabs/installer:v1.13.0", "v1.13.0"],
  ])("resolves %s to %s", (reference, version) => {
    expect(registry.resolveInstaller(reference)).toEqual({ version });
  });

  it.each([
    ["an unreleased version", `factory.talos.dev/metal-installer/${schematic}:v1.15.0`],
    ["a malformed schematic", "factory.talos.dev/metal-installer/abc:v1.13.0"],
    ["the plain installer after v1.13", "ghcr.io/siderolabs/installer:v1.14.0"],
    ["another registry", "example.invalid/installer:v1.13.0"],
    ["no tag", `factory.talos.dev/metal-installer/${schematic}`],
  ])("refuses %s", (_what, reference) => {
    expect(registry.resolveInstaller(reference)).toEqual({ error: expect.stringContaining("not found") });
    expect(registry.exists(reference)).toBe(false);
  });

  it("builds installers only for schematics the Image Factory knows, and names an unknown one", () => {
    const factory = new ImageRegistry(["v1.13.0"]);
    const gpu = "e5".repeat(32);
    const reference = `factory.talos.dev/metal-installer/${gpu}:v1.13.0`;
    expect(factory.pullError(reference)).toBe(
      `failed to pull image "${reference}": not found: schematic ${gpu} is unknown to factory.talos.dev`,
    );
    expect(factory.installerIdentity(reference)?.extensions).toEqual([]);
    factory.addSchematic(gpu, ["siderolabs/nvidia-container-toolkit-production", "siderolabs/iscsi-tools"]);
    expect(factory.resolveInstaller(reference)).toEqual({ version: "v1.13.0" });
    expect(factory.schematicExtensions(gpu)).toEqual([
      "siderolabs/iscsi-tools",
      "siderolabs/nvidia-container-toolkit-production",
    ]);
    expect(factory.installerIdentity(reference)).toMatchObject({ schematic: gpu, platform: "metal" });
    expect(() => factory.addSchematic(gpu, [])).toThrow(/already known/);
    expect(() => factory.addSchematic("abc", [])).toThrow(/64 hex digits/);
    // Another host is no factory at all: its installers carry no schematic.
    expect(factory.installerIdentity(`mirror.example/metal-installer/${gpu}:v1.13.0`)).toBeUndefined();
  });

  it.each([
    [`factory.talos.dev/aws-installer-secureboot/${schematic}:v1.14.0`, "aws", true],
    [`factory.talos.dev/installer/${schematic}:v1.12.4`, "metal", false],
    [`factory.example:5000/installer-secureboot/${schematic}:v1.12.4`, "metal", true],
  ])("takes %s apart", (reference, platform, secureBoot) => {
    expect(factoryInstaller(reference)).toMatchObject({ platform, secureBoot, schematic });
  });

  it("serves what a test publishes", () => {
    const custom = new ImageRegistry([]);
    custom.publish("registry.example/custom-installer:v1.13.0");
    expect(custom.resolveInstaller("registry.example/custom-installer:v1.13.0")).toEqual({
      version: "v1.13.0",
    });
  });
});

describe("the event log", () => {
  const log = new EventLog();
  const ids = ["a", "b", "c"].map((step) => log.emit("machine.TaskEvent", { task: step }, "actor").id);

  it.each([
    [{ tailEvents: -1, tailId: "", tailSeconds: 0 }, ["a", "b", "c"]],
    [{ tailEvents: 0, tailId: "", tailSeconds: 0 }, []],
    [{ tailEvents: 2, tailId: "", tailSeconds: 0 }, ["b", "c"]],
    [{ tailEvents: 0, tailId: ids[0] ?? "", tailSeconds: 0 }, ["b", "c"]],
    [{ tailEvents: 0, tailId: "unknown", tailSeconds: 0 }, []],
    [{ tailEvents: 0, tailId: "", tailSeconds: 60 }, ["a", "b", "c"]],
  ])("returns the backlog for %j", (request, expected) => {
    expect(log.backlog(request).map((e) => e.payload.task)).toEqual(expected);
  });

  it("gives event IDs that sort in emission order", () => {
    expect([...ids].sort()).toEqual(ids);
  });

  it("streams new events to subscribers until they unsubscribe, and loses the buffer on clear", () => {
    const seen: unknown[] = [];
    const unsubscribe = log.subscribe((e) => seen.push(e.payload.task));
    log.emit("machine.TaskEvent", { task: "d" });
    unsubscribe();
    log.emit("machine.TaskEvent", { task: "e" });
    expect(seen).toEqual(["d"]);
    log.clear();
    expect(log.backlog({ tailEvents: -1, tailId: "", tailSeconds: 0 })).toEqual([]);
  });

  it("keeps at most 1000 events", () => {
    const big = new EventLog();
    for (let i = 0; i < 1005; i++) big.emit("machine.TaskEvent", { task: String(i) });
    const all = big.backlog({ tailEvents: -1, tailId: "", tailSeconds: 0 });
    expect(all).toHaveLength(1000);
    expect(all[0]?.payload.task).toBe("5");
  });
});

describe("machine config component images", () => {
  const v1alpha1 = [
    "version: v1alpha1",
    "machine:",
    "  kubelet:",
    "    image: ghcr.io/siderolabs/kubelet:v1.35.2-fat",
    "cluster:",
    "  apiServer:",
    "    image: registry.k8s.io/kube-apiserver:v1.35.2",
    "  scheduler:",
    "    image: registry.k8s.io/kube-scheduler:v1.35.1",
  ].join("\n");

  it("reads the v1alpha1 fields", () => {
    expect(componentImages(v1alpha1)).toEqual({
      kubelet: "ghcr.io/siderolabs/kubelet:v1.35.2-fat",
      apiServer: "registry.k8s.io/kube-apiserver:v1.35.2",
      controllerManager: undefined,
      scheduler: "registry.k8s.io/kube-scheduler:v1.35.1",
      proxy: undefined,
    });
  });

  it("prefers the v1.14 documents", () => {
    const multi = `${v1alpha1}\n---\napiVersion: v1alpha1\nkind: KubeAPIServerConfig\nimage: registry.k8s.io/kube-apiserver:v1.36.0\n`;
    expect(componentImages(multi).apiServer).toBe("registry.k8s.io/kube-apiserver:v1.36.0");
    expect(componentImages(multi).scheduler).toBe("registry.k8s.io/kube-scheduler:v1.35.1");
  });

  it.each([
    ["registry.k8s.io/kube-apiserver:v1.35.2", "v1.35.2"],
    ["localhost:5000/kube-apiserver:v1.35.2", "v1.35.2"],
    ["registry.k8s.io/kube-apiserver:v1.35.2@sha256:0123abcd", "v1.35.2"],
    ["registry.k8s.io/kube-apiserver", undefined],
  ])("takes the tag of %s", (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it("drops the -fat/-slim suffix from kubelet versions", () => {
    expect(kubeletVersion("ghcr.io/siderolabs/kubelet:v1.35.2-fat")).toBe("v1.35.2");
    expect(kubeletVersion("ghcr.io/siderolabs/kubelet:v1.35.2-slim")).toBe("v1.35.2");
    expect(kubeletVersion("ghcr.io/siderolabs/kubelet:v1.35.2")).toBe("v1.35.2");
  });
});

describe("a boot entry's kernel command line", () => {
  const config = [
    "version: v1alpha1",
    "machine:",
    "  install:",
    "    extraKernelArgs:",
    "      - net.ifnames=0",
    "",
  ].join("\n");

  it("reads machine.install's switches, unset meaning none", () => {
    expect(installOptions(config)).toEqual({ extraKernelArgs: ["net.ifnames=0"], grubUseUKICmdline: false });
    expect(installOptions("version: v1alpha1\n")).toEqual({ extraKernelArgs: [], grubUseUKICmdline: false });
  });

  it.each([
    ["grub", false, "legacy", true],
    ["grub", false, "lifecycle", false],
    ["grub", true, "legacy", false],
    ["sd-boot", false, "legacy", false],
  ] as const)(
    "%s, grubUseUKICmdline %s, %s API: extraKernelArgs applied %s",
    (bootloader, uki, api, applied) => {
      const options = { extraKernelArgs: ["net.ifnames=0"], grubUseUKICmdline: uki };
      const cmdline = bootCmdline("aws", bootloader, options, api);
      expect(cmdline[0]).toBe("talos.platform=aws");
      expect(cmdline.includes("net.ifnames=0")).toBe(applied);
    },
  );
});
