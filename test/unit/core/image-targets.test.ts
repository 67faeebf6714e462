// Schematics as desired state: per-pool rules by node selector, a schematic change rolled out at
// the same Talos version and verified from what the new boot reports, and the upgrade API chosen
// so that nothing the node boots with (kernel arguments, a staged install) is lost without a word.
import { decide } from "../../../src/core/decide.ts";
import { imageTarget, installerFor, kernelArgsAtRisk, upgradeApi } from "../../../src/core/image-targets.ts";
import type { ImageFacts, NodeView } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, condition, kinds, states, t0 } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, vanillaImage, vanillaSchematic } from "../builders/plans.ts";

const nvidia = [
  "siderolabs/nvidia-container-toolkit-production",
  "siderolabs/nvidia-open-gpu-kernel-modules-production",
];
// The factory's ID for that schematic (rendered by its YAML library and hashed).
const gpuSchematic = "6698d6f136c5bb37ca8bb8482c9084305084da0a5ead1f4dcae760796f8ab3a2";
const oldGpu = "b".repeat(64);
const gpuPool = {
  name: "gpu",
  nodeSelector: { matchLabels: { pool: "gpu" } },
  schematic: { customization: { systemExtensions: { officialExtensions: nvidia } } },
};

const on = (
  name: string,
  version: string,
  image: ImageFacts,
  labels: Record<string, string> = {},
  bootId = "b0",
) =>
  aNode(name, {
    version,
    labels: { "kubernetes.io/hostname": name, ...labels },
    talos: { reachable: true, version, bootId, stage: "RUNNING", ready: true, platform: "metal", image },
  });
const vanilla: ImageFacts = { schematic: vanillaSchematic, extensions: [] };
const gpuNode = (
  image: ImageFacts = { schematic: oldGpu, extensions: ["nvidia-container-toolkit-production"] },
  bootId = "b0",
) => on("worker-1", "v1.14.1", image, { pool: "gpu" }, bootId);

describe("the image rule of a node", () => {
  const plan = aPlan({
    talos: {
      version: "v1.14.1",
      factory: "images.corp.example",
      overrides: [
        gpuPool,
        {
          name: "all-workers",
          nodeSelector: { matchLabels: { role: "worker" } },
          image: "mirror.example/installer:v1",
        },
      ],
    },
  });
  const talos = plan.spec.talos as NonNullable<typeof plan.spec.talos>;

  it("is the first pool whose selector matches, in place of the plan's own rule", () => {
    const gpu = on("w", "v1.14.0", vanilla, { pool: "gpu", role: "worker" });
    expect(imageTarget(gpu.labels, talos)).toEqual({
      override: "gpu",
      schematic: gpuSchematic,
      extensions: ["nvidia-container-toolkit-production", "nvidia-open-gpu-kernel-modules-production"],
    });
    // The pool names no factory: the node's own (here the public one), not the plan's.
    expect(installerFor(gpu, talos, "v1.14.1")).toBe(
      `factory.talos.dev/metal-installer/${gpuSchematic}:v1.14.1`,
    );
    const worker = on("w", "v1.14.0", vanilla, { role: "worker" });
    expect(installerFor(worker, talos, "v1.14.1")).toBe("mirror.example/installer:v1.14.1");
  });

  it("is the plan's own rule where no pool matches", () => {
    const cp = on("cp-1", "v1.14.0", { ...vanilla, secureBoot: true });
    expect(imageTarget(cp.labels, talos)).toEqual({ factory: "images.corp.example", extensions: [] });
    expect(installerFor(cp, talos, "v1.14.1")).toBe(
      `images.corp.example/metal-installer-secureboot/${vanillaSchematic}:v1.14.1`,
    );
  });
});

describe("a schematic change at the same Talos version", () => {
  const plan = (status = aStatus()) => aPlan({ talos: { version: "v1.14.1", overrides: [gpuPool] } }, status);
  const fleet = (gpu: NodeView = gpuNode()) => [
    on("cp-1", "v1.14.1", vanilla),
    gpu,
    on("worker-2", "v1.14.1", vanilla),
  ];

  it("rolls exactly the nodes whose schematic differs, and says why in their status", () => {
    const d = decide(anObservation(plan(), fleet()));
    // Its installer is pulled before it is cordoned.
    expect(states(d)).toEqual({ "cp-1": "Done", "worker-1": "Pending", "worker-2": "Done" });
    expect(d.status.nodes.find((e) => e.name === "worker-1")).toMatchObject({
      version: "v1.14.1",
      fromVersion: "v1.14.1",
      schematic: gpuSchematic,
      override: "gpu",
    });
    expect(d.actions).toContainEqual({
      kind: "prepull",
      node: "worker-1",
      address: "10.0.0.8",
      image: `factory.talos.dev/metal-installer/${gpuSchematic}:v1.14.1`,
      api: "lifecycle",
      namespace: "NS_SYSTEM",
    });
    expect(kinds(d).filter((k) => !k.endsWith("worker-1"))).toEqual([]);
  });

  const upgrading = anEntry("worker-1", "Upgrading", {
    fromVersion: "v1.14.1",
    version: "v1.14.1",
    schematic: gpuSchematic,
    override: "gpu",
    image: `factory.talos.dev/metal-installer/${gpuSchematic}:v1.14.1`,
    bootIdBefore: "b0",
    upgradeCalledAt: t0.toISOString(),
    startedAt: t0.toISOString(),
  });
  const afterBoot = (image: ImageFacts) =>
    decide(anObservation(plan(aStatus(upgrading)), fleet(gpuNode(image, "b1"))));

  it("is verified by the schematic and extensions the new boot reports", () => {
    const booted = afterBoot({
      schematic: gpuSchematic,
      extensions: ["nvidia-container-toolkit-production", "nvidia-open-gpu-kernel-modules-production"],
    });
    expect(states(booted)["worker-1"]).not.toBe("Failed");
    expect(states(booted)["worker-1"]).toMatch(/Verifying|Soaking|Done/);
  });

  it("fails the node when it booted another schematic (the installer was not the one asked for)", () => {
    const wrong = afterBoot({ schematic: oldGpu, extensions: ["nvidia-container-toolkit-production"] });
    expect(wrong.status.nodes.find((e) => e.name === "worker-1")).toMatchObject({
      state: "Failed",
      reason: "SchematicNotBooted",
      message: `booted v1.14.1 with schematic ${oldGpu} instead of ${gpuSchematic}`,
    });
  });

  it("fails the node when an extension the schematic declares is not running", () => {
    const partial = afterBoot({
      schematic: gpuSchematic,
      extensions: ["nvidia-container-toolkit-production"],
    });
    expect(partial.status.nodes.find((e) => e.name === "worker-1")).toMatchObject({
      state: "Failed",
      reason: "SchematicNotBooted",
      message: `booted schematic ${gpuSchematic} without the extensions it declares: nvidia-open-gpu-kernel-modules-production`,
    });
  });

  it("waits for the new boot's image facts before it verifies", () => {
    const unread = gpuNode(undefined as unknown as ImageFacts, "b1");
    delete unread.talos.image;
    const d = decide(anObservation(plan(aStatus(upgrading)), fleet(unread)));
    expect(states(d)["worker-1"]).toBe("Rebooting");
  });

  it("is complete once every node runs its rule's schematic, and starts nothing again", () => {
    const done = gpuNode({ schematic: gpuSchematic, extensions: [] }, "b1");
    const d = decide(anObservation(plan(), fleet(done)));
    expect(d.status.phase).toBe("Completed");
    expect(d.actions.filter((a) => a.kind !== "patchInstallImage")).toEqual([]);
  });

  it("releases a draining node without a reboot when the plan stops asking for its schematic", () => {
    const draining = anEntry("worker-1", "Draining", {
      fromVersion: "v1.14.1",
      version: "v1.14.1",
      schematic: gpuSchematic,
      override: "gpu",
      startedAt: t0.toISOString(),
    });
    const edited = aPlan({ talos: { version: "v1.14.1" } }, aStatus(draining));
    const cordoned = { ...gpuNode(), unschedulable: true, cordonedBy: "production" };
    const d = decide(anObservation(edited, [on("cp-1", "v1.14.1", vanilla), cordoned]));
    expect(d.status.nodes.find((e) => e.name === "worker-1")).toMatchObject({
      state: expect.stringMatching(/Done|Soaking/),
    });
    expect(d.status.nodes.find((e) => e.name === "worker-1")?.schematic).toBeUndefined();
    expect(kinds(d)).toContain("uncordon:worker-1");
    expect(kinds(d)).not.toContain("upgrade:worker-1");
  });

  it("leaves a node ahead of the target alone, whatever its schematic", () => {
    const ahead = on("worker-1", "v1.14.2", { schematic: oldGpu, extensions: [] }, { pool: "gpu" });
    const d = decide(anObservation(plan(), [on("cp-1", "v1.14.1", vanilla), ahead]));
    expect(d.status.nodes.find((e) => e.name === "worker-1")).toMatchObject({
      state: "Skipped",
      reason: "AheadOfTarget",
    });
  });
});

describe("the upgrade API", () => {
  const talos = (extra: Record<string, unknown> = {}) =>
    aPlan({ talos: { version: "v1.14.1", ...extra } }).spec.talos as NonNullable<
      ReturnType<typeof aPlan>["spec"]["talos"]
    >;
  const grub: ImageFacts = {
    extensions: [],
    bootedWithUKI: false,
    kernelArgs: ["console=ttyS1", "net.ifnames=0"],
  };

  it.each([
    ["before v1.13: legacy", "v1.12.4", undefined, {}, { api: "legacy" }],
    ["v1.13+: lifecycle", "v1.13.0", undefined, {}, { api: "lifecycle" }],
    ["api Legacy", "v1.14.0", undefined, { api: "Legacy" }, { api: "legacy", why: "api Legacy" }],
    ["a staged upgrade", "v1.14.0", undefined, { stage: true }, { api: "legacy", why: "a staged upgrade" }],
    [
      "GRUB with kernel arguments",
      "v1.14.0",
      grub,
      {},
      {
        api: "legacy",
        why: "machine.install.extraKernelArgs (console=ttyS1 net.ifnames=0) that the lifecycle API drops on GRUB",
      },
    ],
    [
      "GRUB taking the UKI's command line",
      "v1.14.0",
      { ...grub, grubUseUKICmdline: true },
      {},
      { api: "lifecycle" },
    ],
    ["a UKI boot", "v1.14.0", { ...grub, bootedWithUKI: true }, {}, { api: "lifecycle" }],
    ["GRUB without kernel arguments", "v1.14.0", { ...grub, kernelArgs: [] }, {}, { api: "lifecycle" }],
    [
      "GRUB whose configuration could not be read",
      "v1.14.0",
      { extensions: [], bootedWithUKI: false },
      {},
      { api: "legacy", why: expect.stringContaining("could not be read") },
    ],
    [
      "a Talos without the legacy API",
      "v1.18.0",
      grub,
      {},
      { api: "none", why: expect.stringContaining("which Talos v1.18.0 no longer serves") },
    ],
  ] as const)("%s", (_case, from, image, extra, expected) => {
    expect(upgradeApi(from, image as ImageFacts | undefined, talos(extra))).toEqual(expected);
  });

  it("names the kernel arguments at risk only where they are", () => {
    expect(kernelArgsAtRisk(undefined)).toEqual([]);
    expect(kernelArgsAtRisk({ extensions: [], bootedWithUKI: false })).toBeUndefined();
    expect(kernelArgsAtRisk({ extensions: [], bootedWithUKI: false, kernelArgs: [] })).toEqual([]);
    expect(kernelArgsAtRisk(grub)).toEqual(["console=ttyS1", "net.ifnames=0"]);
  });

  it("keeps kernel arguments on GRUB by taking the legacy path", () => {
    const node = on("cp-1", "v1.14.0", grub);
    const d = decide(
      anObservation(
        aPlan(
          { talos: { version: "v1.14.1" } },
          aStatus(
            anEntry("cp-1", "Draining", {
              fromVersion: "v1.14.0",
              version: "v1.14.1",
              startedAt: t0.toISOString(),
            }),
          ),
        ),
        [
          {
            ...node,
            unschedulable: true,
            cordonedBy: "production",
            pulls: { [vanillaImage("v1.14.1")]: {} },
          },
        ],
      ),
    );
    expect(d.actions).toContainEqual(
      expect.objectContaining({ kind: "upgrade", api: "legacy", stage: false }),
    );
  });

  it("asks Talos for a staged upgrade through the legacy API", () => {
    const node = on("cp-1", "v1.14.0", { extensions: [] });
    const draining = anEntry("cp-1", "Draining", {
      fromVersion: "v1.14.0",
      version: "v1.14.1",
      startedAt: t0.toISOString(),
    });
    const d = decide(
      anObservation(aPlan({ talos: { version: "v1.14.1", stage: true } }, aStatus(draining)), [
        { ...node, unschedulable: true, cordonedBy: "production", pulls: { [vanillaImage("v1.14.1")]: {} } },
      ]),
    );
    expect(d.actions).toContainEqual(
      expect.objectContaining({ kind: "upgrade", api: "legacy", stage: true }),
    );
  });

  it("refuses up front a node that would lose what it needs, and Force where the legacy path is taken", () => {
    const future = aPlan({ talos: { version: "v1.18.1" } });
    const refused = decide(anObservation(future, [on("cp-1", "v1.18.0", grub)]));
    expect(condition(refused, "Stalled")).toMatchObject({ status: "True", reason: "UpgradeApiUnavailable" });
    expect(condition(refused, "Stalled")?.message).toContain(
      "cp-1: machine.install.extraKernelArgs (console=ttyS1 net.ifnames=0)",
    );
    expect(refused.actions).toEqual([]);

    const force = aPlan({ talos: { version: "v1.14.1", rebootMode: "Force" } });
    const forced = decide(anObservation(force, [on("cp-1", "v1.14.0", grub)]));
    expect(condition(forced, "Stalled")).toMatchObject({ status: "True", reason: "RebootModeUnsupported" });
    expect(condition(forced, "Stalled")?.message).toContain("cp-1 (machine.install.extraKernelArgs");
    expect(forced.actions).toEqual([]);
  });
});
