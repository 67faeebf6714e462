// Installer images from each node's own facts: platform, schematic, SecureBoot and the Image
// Factory that built its schematic; an override re-tagged per step; and the refusal, before
// anything is touched, of a node whose extensions a default installer would drop.

import { decide } from "../../../src/core/decide.ts";
import { installerImage, installerUnknown } from "../../../src/core/image-refs.ts";
import { settleEntries, upgradeAction } from "../../../src/core/node-steps.ts";
import type { ImageFacts } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation } from "../builders/observations.ts";
import { aPlan, vanillaSchematic } from "../builders/plans.ts";

const gpu = "a".repeat(64);
const facts = (extra: Partial<ImageFacts> = {}): ImageFacts => ({
  schematic: gpu,
  extensions: ["nvidia"],
  ...extra,
});

describe("installer images", () => {
  it.each([
    ["a node's own platform and schematic", "aws", facts(), `factory.talos.dev/aws-installer/${gpu}:v1.13.0`],
    [
      "SecureBoot",
      "metal",
      facts({ secureBoot: true }),
      `factory.talos.dev/metal-installer-secureboot/${gpu}:v1.13.0`,
    ],
    [
      "booted without SecureBoot",
      "metal",
      facts({ secureBoot: false }),
      `factory.talos.dev/metal-installer/${gpu}:v1.13.0`,
    ],
    [
      "a self-hosted factory, with its port",
      "metal",
      facts({ factory: "images.corp.example:8443" }),
      `images.corp.example:8443/metal-installer/${gpu}:v1.13.0`,
    ],
    [
      "a factory name that is not a host",
      "metal",
      facts({ factory: "bad/host" }),
      `factory.talos.dev/metal-installer/${gpu}:v1.13.0`,
    ],
    [
      "no image facts: vanilla",
      "metal",
      undefined,
      `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.0`,
    ],
    ["a platform name that is not one", "../x", facts(), `factory.talos.dev/metal-installer/${gpu}:v1.13.0`],
  ] as const)("%s", (_case, platform, image, expected) => {
    expect(installerImage(platform, image, "v1.13.0")).toBe(expected);
  });

  it("takes an override as given, re-tagged for the step", () => {
    expect(
      installerImage("aws", facts({ secureBoot: true }), "v1.13.0", "mirror.example/installer:v1.12.0"),
    ).toBe("mirror.example/installer:v1.13.0");
  });

  it("says when extensions would be dropped: extensions without a schematic", () => {
    expect(installerUnknown(undefined)).toBeUndefined();
    expect(installerUnknown({ extensions: [] })).toBeUndefined();
    expect(installerUnknown(facts())).toBeUndefined();
    expect(installerUnknown({ extensions: ["iscsi-tools", "zfs"] })).toBe(
      "runs extensions (iscsi-tools, zfs) but reports no Image Factory schematic: a default installer would drop them",
    );
  });
});

describe("a node whose installer cannot be derived", () => {
  const storage = (version = "v1.12.0") =>
    aNode("worker-1", {
      version,
      talos: {
        reachable: true,
        version,
        bootId: "b",
        stage: "RUNNING",
        ready: true,
        platform: "metal",
        image: { extensions: ["iscsi-tools"] },
      },
    });

  it("refuses the plan before anything is touched, saying what to set", () => {
    const d = decide(anObservation(aPlan({ talos: { version: "v1.12.4" } }), [aNode("cp-1"), storage()]));
    const stalled = d.status.conditions.find((c) => c.type === "Stalled");
    expect(stalled).toMatchObject({ status: "True", reason: "InstallerUnknown" });
    expect(stalled?.message).toContain(
      "worker-1 runs extensions (iscsi-tools) but reports no Image Factory schematic",
    );
    expect(stalled?.message).toContain("set spec.talos.schematic or spec.talos.image");
    expect(d.actions).toEqual([]);
  });

  it("goes on with the plan's own image, and leaves a node already at the target alone", () => {
    const withImage = aPlan({ talos: { version: "v1.12.4", image: "mirror.example/installer:v1.12.4" } });
    expect(
      decide(anObservation(withImage, [aNode("cp-1"), storage()])).status.conditions.find(
        (c) => c.type === "Stalled",
      )?.status,
    ).not.toBe("True");
    const atTarget = decide(
      anObservation(aPlan({ talos: { version: "v1.12.4" } }), [aNode("cp-1"), storage("v1.12.4")]),
    );
    expect(atTarget.status.conditions.find((c) => c.type === "Stalled")?.reason).not.toBe("InstallerUnknown");
  });
});

describe("rebootMode Force", () => {
  const at = (name: string, version: string) =>
    aNode(name, {
      version,
      talos: { reachable: true, version, bootId: "b", stage: "RUNNING", ready: true, platform: "metal" },
    });

  it("is refused up front where a node would upgrade through the legacy API", () => {
    const plan = aPlan({ talos: { version: "v1.13.1", rebootMode: "Force" } });
    const d = decide(anObservation(plan, [at("cp-1", "v1.13.0"), at("worker-1", "v1.12.4")]));
    const stalled = d.status.conditions.find((c) => c.type === "Stalled");
    expect(stalled).toMatchObject({ status: "True", reason: "RebootModeUnsupported" });
    expect(stalled?.message).toContain("worker-1 (v1.12.4)");
    expect(d.actions).toEqual([]);
  });

  it("is asked of Talos on the v1.13+ path", () => {
    const plan = aPlan({ talos: { version: "v1.13.1", rebootMode: "Force" } });
    const d = decide(anObservation(plan, [at("cp-1", "v1.13.0")]));
    expect(d.status.conditions.find((c) => c.type === "Stalled")?.status).not.toBe("True");
    const entry = {
      name: "cp-1",
      role: "controlplane" as const,
      state: "Upgrading" as const,
      attempts: 0,
      version: "v1.13.1",
      message: "",
    };
    expect(upgradeAction(at("cp-1", "v1.13.0"), entry, plan.spec)).toMatchObject({
      api: "lifecycle",
      rebootMode: "Force",
    });
  });
});

describe("the installer a verified node runs, in machine.install.image", () => {
  const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.1`;
  const done = {
    name: "cp-1",
    role: "controlplane" as const,
    state: "Done" as const,
    attempts: 1,
    fromVersion: "v1.12.4",
    version: "v1.13.1",
    image,
    bootIdBefore: "cp-1-boot-0",
    startedAt: "2026-11-30T01:58:00Z",
    upgradeCalledAt: "2026-11-30T02:00:00Z",
    finishedAt: "2026-11-30T02:04:00Z",
    message: "",
  };
  const { bootIdBefore: _boot, ...waiting } = done;
  const { image: _image, upgradeCalledAt: _called, ...settled } = waiting;
  const node = (extra = {}) => new Map([["cp-1", aNode("cp-1", { version: "v1.13.1", ...extra })]]);

  it("is patched until this process wrote it, and never while the plan goes away", () => {
    expect(settleEntries([done], node(), false).actions).toEqual([
      { kind: "patchInstallImage", node: "cp-1", address: "10.0.0.4", image },
    ]);
    expect(settleEntries([done], node(), true).actions).toEqual([]);
    const written = settleEntries([done], node({ installImagePatched: image }), false);
    expect(written.actions).toEqual([]);
    expect(settleEntries(written.entries, node(), false).actions).toEqual([]);
  });

  it("leaves a Done entry its installer and call time until then, and no more after", () => {
    expect(settleEntries([done], node(), false).entries).toEqual([waiting]);
    expect(settleEntries([done], node({ installImagePatched: image }), false).entries).toEqual([settled]);
  });

  it("is still written when the node's pool gets a rule of its own before that", () => {
    // The pool's new rule names the schematic the node already runs: nothing to upgrade again.
    const spec = {
      talos: {
        version: "v1.13.1",
        overrides: [
          {
            name: "gpu",
            nodeSelector: { matchLabels: { pool: "gpu" } },
            schematic: { id: vanillaSchematic },
          },
        ],
      },
    };
    const pooled = aNode("cp-1", { version: "v1.13.1", labels: { pool: "gpu" } });
    const d = decide(anObservation(aPlan(spec, { conditions: [], history: [], nodes: [waiting] }), [pooled]));
    expect(d.status.nodes[0]).toMatchObject({ state: "Done", override: "gpu", image });
    expect(d.actions).toEqual([{ kind: "patchInstallImage", node: "cp-1", address: "10.0.0.4", image }]);
  });

  it("is written for a node excluded once it was started: its entry stays until then", () => {
    const excludedNode = (extra = {}) =>
      aNode("cp-1", {
        version: "v1.13.1",
        labels: { "upgrade.talos-operator.dev/exclude": "true" },
        ...extra,
      });
    const other = aNode("cp-2", { version: "v1.13.1" });
    const status = { conditions: [], history: [], nodes: [waiting] };
    const spec = { talos: { version: "v1.13.1" } };
    const pending = decide(anObservation(aPlan(spec, status), [excludedNode(), other]));
    expect(pending.status.nodes.map((e) => [e.name, e.state, e.image])).toEqual([
      ["cp-1", "Done", image],
      ["cp-2", "Done", undefined],
    ]);
    expect(pending.actions).toEqual([
      { kind: "patchInstallImage", node: "cp-1", address: "10.0.0.4", image },
    ]);
    const written = decide(
      anObservation(aPlan(spec, status), [excludedNode({ installImagePatched: image }), other]),
    );
    expect(written.status.nodes.map((e) => e.name)).toEqual(["cp-2"]);
    expect(written.actions).toEqual([]);
    // A Node deleted meanwhile has no configuration to write: its entry goes.
    expect(decide(anObservation(aPlan(spec, status), [other])).status.nodes.map((e) => e.name)).toEqual([
      "cp-2",
    ]);
  });

  it("is written for a node verified on a step before the target, before it is pending for the next", () => {
    const step = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.12.4`;
    const onStep = { ...waiting, fromVersion: "v1.11.6", version: "v1.12.4", image: step };
    const spec = { talos: { version: "v1.13.1" } };
    const at = (extra = {}) => [aNode("cp-1", { version: "v1.12.4", ...extra })];
    const status = { conditions: [], history: [], nodes: [onStep] };
    const first = decide(anObservation(aPlan(spec, status), at()));
    expect(first.status.nodes[0]).toMatchObject({ state: "Done", version: "v1.12.4", image: step });
    expect(first.actions).toEqual([
      { kind: "patchInstallImage", node: "cp-1", address: "10.0.0.4", image: step },
    ]);
    const next = decide(anObservation(aPlan(spec, status), at({ installImagePatched: step })));
    expect(next.status.nodes[0]).toMatchObject({
      state: "Pending",
      fromVersion: "v1.12.4",
      version: "v1.13.1",
    });
    expect(next.status.nodes[0]?.image).toBeUndefined();
  });

  it("refused by Talos, is said once in a Warning Event and held no longer, on the target or before the next step", () => {
    const refused = { installImageRefused: { image, message: "permission denied" } };
    const settledNow = settleEntries([done], node(refused), false);
    const saying = {
      ...settled,
      reason: "ConfigPatchRefused",
      message: "Talos refused to write its installer into machine.install.image",
    };
    expect(settledNow.entries).toEqual([saying]);
    // Said once: the entry, so written, asks for nothing and says nothing more.
    expect(settleEntries([saying], node(refused), false)).toEqual({
      entries: [saying],
      actions: [],
      events: [],
    });
    expect(settledNow.actions).toEqual([]);
    expect(settledNow.events).toEqual([
      {
        type: "Warning",
        reason: "ConfigPatchRefused",
        message: `cp-1: Talos refused to name ${image} in machine.install.image (permission denied); a reinstall or reset boots the installer its configuration names`,
      },
    ]);
    // Another installer than the one refused is still asked for.
    const other = { installImageRefused: { image: "elsewhere/installer:v1", message: "no" } };
    expect(settleEntries([done], node(other), false).actions).toHaveLength(1);
    // A node verified on a step before the target goes on to the next.
    const step = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.12.4`;
    const onStep = { ...waiting, fromVersion: "v1.11.6", version: "v1.12.4", image: step };
    const status = { conditions: [], history: [], nodes: [onStep] };
    const nodes = [
      aNode("cp-1", { version: "v1.12.4", installImageRefused: { image: step, message: "no" } }),
    ];
    const d = decide(anObservation(aPlan({ talos: { version: "v1.13.1" } }, status), nodes));
    expect(d.status.nodes[0]).toMatchObject({ state: "Pending", version: "v1.13.1" });
  });

  it("leaves alone nodes not upgraded by the plan, nodes in flight, and unreachable ones", () => {
    const { upgradeCalledAt: _c, ...uncalled } = done;
    expect(settleEntries([uncalled], node(), false)).toEqual({ entries: [settled], actions: [], events: [] });
    const verifying = { ...done, state: "Verifying" as const };
    expect(settleEntries([verifying], node(), false)).toEqual({
      entries: [verifying],
      actions: [],
      events: [],
    });
    const away = node({ talos: { reachable: false, error: "connection refused" } });
    expect(settleEntries([done], away, false)).toEqual({ entries: [waiting], actions: [], events: [] });
  });
});
