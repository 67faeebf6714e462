// On Talos ≥ 1.13 a node installs its new boot entry (LifecycleService.Upgrade, no reboot) while it
// still serves: pull, install, then cordon, drain and the call, which only reboots it. Out of
// service for its drain and reboot only. The legacy API, and a node a crash left cordoned, keep the
// install inside the call.
import type { PlanStatus } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import type { NodeView } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, entryOf, kinds, minutes, t0 } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, planName, vanillaImage } from "../builders/plans.ts";

const image = vanillaImage("v1.14.0");
const plan = (status?: PlanStatus) =>
  aPlan({ talos: { version: "v1.14.0" }, rollout: { maxUnavailable: 1 } }, status);

/** A v1.13 worker booted from a UKI (nothing the lifecycle API would drop), its installer pulled. */
const onV113 = (name: string, extra: Partial<NodeView> = {}) =>
  aNode(name, {
    version: "v1.13.0",
    pulls: { [image]: {} },
    talos: {
      reachable: true,
      version: "v1.13.0",
      bootId: `${name}-boot-0`,
      stage: "RUNNING",
      ready: true,
      platform: "metal",
      image: {
        schematic: "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
        extensions: [],
      },
    },
    ...extra,
  });

/** worker-1 started (its entry Draining, not cordoned yet), worker-2 pending. */
const started = () =>
  aStatus(
    anEntry("worker-1", "Draining", {
      fromVersion: "v1.13.0",
      version: "v1.14.0",
      startedAt: t0.toISOString(),
      image,
      attempts: 0,
      message: `installing ${image} while the node serves`,
    }),
    anEntry("worker-2", "Pending", { fromVersion: "v1.13.0", version: "v1.14.0" }),
  );

describe("install before the drain (Talos ≥ 1.13)", () => {
  it("starts a node with its install, not its cordon", () => {
    const d = decide(anObservation(plan(), [onV113("worker-1"), onV113("worker-2")], { now: minutes(1) }));
    expect(entryOf(d, "worker-1")).toMatchObject({
      state: "Draining",
      message: `installing ${image} while the node serves`,
    });
    expect(d.actions).toEqual([
      { kind: "install", node: "worker-1", address: "10.0.0.8", image, bootId: "worker-1-boot-0" },
    ]);
    // The installing node holds the plan's one place: the next does not start beside it.
    expect(entryOf(d, "worker-2")?.state).toBe("Pending");
  });

  it("asks nothing more while the install runs", () => {
    const nodes = [onV113("worker-1", { installing: image }), onV113("worker-2")];
    const d = decide(anObservation(plan(started()), nodes, { now: minutes(1) }));
    expect(kinds(d)).toEqual([]);
    expect(entryOf(d, "worker-1")?.message).toBe(`installing ${image} while the node serves`);
  });

  it("cordons once installed from this boot, then calls for the reboot after the drain", () => {
    const installed = { image, bootId: "worker-1-boot-0" };
    const first = decide(
      anObservation(plan(started()), [onV113("worker-1", { installed }), onV113("worker-2")], {
        now: minutes(1),
      }),
    );
    expect(kinds(first)).toEqual(["cordon:worker-1"]);
    const cordoned = onV113("worker-1", { installed, unschedulable: true });
    const second = decide(
      anObservation(plan(first.status), [cordoned, onV113("worker-2")], { now: minutes(2) }),
    );
    expect(entryOf(second, "worker-1")?.state).toBe("Upgrading");
    expect(second.actions).toEqual([
      expect.objectContaining({ kind: "upgrade", node: "worker-1", api: "lifecycle", image }),
    ]);
  });

  it("starts the drain's time once installed: a long install does not eat into drain.timeout", () => {
    const installed = { image, bootId: "worker-1-boot-0" };
    // Installed 9 minutes after its start (drain.timeout is 10m): the cordon, and the clock, now.
    const first = decide(
      anObservation(plan(started()), [onV113("worker-1", { installed }), onV113("worker-2")], {
        now: minutes(9),
      }),
    );
    expect(entryOf(first, "worker-1")?.installedAt).toBe(minutes(9).toISOString());
    expect(kinds(first)).toEqual(["cordon:worker-1"]);
    // Eight minutes into the drain, 17 after the start: still draining, not DrainTimeout.
    const busy = onV113("worker-1", { installed, unschedulable: true, evictablePods: 3 });
    const later = decide(anObservation(plan(first.status), [busy, onV113("worker-2")], { now: minutes(17) }));
    expect(entryOf(later, "worker-1")).toMatchObject({
      state: "Draining",
      message: "draining, 3 pod(s) left",
    });
    // Past ten minutes of drain, it is.
    const late = decide(anObservation(plan(first.status), [busy, onV113("worker-2")], { now: minutes(20) }));
    expect(entryOf(late, "worker-1")).toMatchObject({ state: "Failed", reason: "DrainTimeout" });
    // Its new boot entry is written: the failure says that a reboot, whoever's, starts it.
    expect(entryOf(late, "worker-1")?.message).toMatch(
      new RegExp(`; ${image.replace(/[.]/g, "\\.")} is installed for its next boot: a reboot starts it$`),
    );
    expect(late.events).toContainEqual({
      type: "Warning",
      reason: "DrainTimeout",
      message: expect.stringMatching(
        /^worker-1: drain did not finish.* is installed for its next boot: a reboot starts it$/,
      ),
    });
  });

  it("installs again when the machine rebooted since its install (the entry it wrote is another boot's)", () => {
    const nodes = [
      onV113("worker-1", { installed: { image, bootId: "worker-1-boot-earlier" } }),
      onV113("worker-2"),
    ];
    const d = decide(anObservation(plan(started()), nodes, { now: minutes(1) }));
    expect(kinds(d)).toEqual(["install:worker-1"]);
  });

  it("installs again after a restart: the process that installed is gone, nothing is cordoned yet", () => {
    const d = decide(
      anObservation(plan(started()), [onV113("worker-1"), onV113("worker-2")], { now: minutes(1) }),
    );
    expect(kinds(d)).toEqual(["install:worker-1"]);
  });

  it("fails the node, never cordoned, when Talos refuses the install", () => {
    const installed = { image, bootId: "worker-1-boot-0", error: "installer exited with 1: no space left" };
    const d = decide(
      anObservation(plan(started()), [onV113("worker-1", { installed }), onV113("worker-2")], {
        now: minutes(1),
      }),
    );
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Failed", reason: "UpgradeRefused" });
    expect(entryOf(d, "worker-1")?.message).toContain("no space left");
    // Nothing was installed: no boot entry to speak of.
    expect(entryOf(d, "worker-1")?.message).not.toContain("installed for its next boot");
    expect(kinds(d)).not.toContain("cordon:worker-1");
  });

  it("waits for a Talos API that does not answer, without cordoning", () => {
    const away = onV113("worker-1");
    const d = decide(
      anObservation(
        plan(started()),
        [{ ...away, talos: { reachable: false, error: "connection refused" } }, onV113("worker-2")],
        { now: minutes(1) },
      ),
    );
    expect(entryOf(d, "worker-1")?.message).toBe("waiting for the Talos API: connection refused");
    expect(kinds(d)).toEqual([]);
  });

  it("leaves the install to the call on a node already cordoned (a crash after its cordon)", () => {
    const cordoned = onV113("worker-1", { unschedulable: true });
    const d = decide(anObservation(plan(started()), [cordoned, onV113("worker-2")], { now: minutes(1) }));
    expect(entryOf(d, "worker-1")?.state).toBe("Upgrading");
    expect(kinds(d)).toEqual(["upgrade:worker-1"]);
  });

  it("pulls a retargeted installer before installing it", () => {
    const newer = vanillaImage("v1.14.1");
    const retargeted = aPlan({ talos: { version: "v1.14.1" }, rollout: { maxUnavailable: 1 } }, started());
    const status = retargeted.status as PlanStatus;
    const entry = { ...(status.nodes[0] as PlanStatus["nodes"][number]), version: "v1.14.1" };
    delete entry.image;
    const d = decide(
      anObservation(
        { ...retargeted, status: { ...status, nodes: [entry, ...status.nodes.slice(1)] } },
        [onV113("worker-1", { installed: { image, bootId: "worker-1-boot-0" } }), onV113("worker-2")],
        { now: minutes(1) },
      ),
    );
    expect(d.actions.filter((a) => a.node === "worker-1")).toEqual([
      expect.objectContaining({ kind: "prepull", node: "worker-1", image: newer }),
    ]);
  });

  it("cordons first on the legacy API (a node below v1.13), which installs and reboots in one call", () => {
    const legacy = aPlan({ rollout: { maxUnavailable: 1 } });
    const d = decide(anObservation(legacy, [aNode("worker-1"), aNode("worker-2")], { now: minutes(1) }));
    expect(kinds(d)).toEqual(["cordon:worker-1"]);
  });
});

describe("a plan edited after a node's install (Talos ≥ 1.13)", () => {
  const running = vanillaImage("v1.13.0");
  const backToRunning = (status: PlanStatus, annotations?: Record<string, string>) =>
    aPlan({ talos: { version: "v1.13.0" }, rollout: { maxUnavailable: 1 } }, status, annotations);
  /** worker-1 installed for v1.14.0 from its boot and cordoned, its drain under way. */
  const installedAndCordoned = () =>
    aStatus(
      anEntry("worker-1", "Draining", {
        fromVersion: "v1.13.0",
        version: "v1.14.0",
        startedAt: t0.toISOString(),
        installedAt: minutes(1).toISOString(),
        image,
        message: "draining, 3 pod(s) left",
      }),
      anEntry("worker-2", "Pending", { fromVersion: "v1.13.0", version: "v1.14.0" }),
    );
  const cordoned = (extra: Partial<NodeView> = {}) =>
    onV113("worker-1", {
      installed: { image, bootId: "worker-1-boot-0" },
      unschedulable: true,
      cordonedBy: planName,
      evictablePods: 3,
      ...extra,
    });

  it("installs the installer of the version it runs again before releasing it; nothing else is done to it", () => {
    const d = decide(
      anObservation(backToRunning(installedAndCordoned()), [cordoned(), onV113("worker-2")], {
        now: minutes(2),
      }),
    );
    expect(entryOf(d, "worker-1")).toMatchObject({
      state: "Draining",
      version: "v1.13.0",
      image,
      restoreImage: running,
      message: `the target changed: already at v1.13.0; installing ${running} again, so that no reboot starts ${image}`,
    });
    // No eviction, no upgrade call, no uncordon yet: the install alone.
    expect(d.actions).toEqual([
      { kind: "install", node: "worker-1", address: "10.0.0.8", image: running, bootId: "worker-1-boot-0" },
    ]);
    expect(entryOf(d, "worker-2")).toMatchObject({ state: "Done", message: "already at v1.13.0" });
  });

  it("asks nothing more while that install runs, and releases the node, its cordon with it, once it is done", () => {
    const first = decide(
      anObservation(backToRunning(installedAndCordoned()), [cordoned(), onV113("worker-2")], {
        now: minutes(2),
      }),
    );
    const busy = decide(
      anObservation(backToRunning(first.status), [cordoned({ installing: running }), onV113("worker-2")], {
        now: minutes(3),
      }),
    );
    expect(kinds(busy)).toEqual([]);
    const restored = cordoned({ installed: { image: running, bootId: "worker-1-boot-0" } });
    const done = decide(
      anObservation(backToRunning(busy.status), [restored, onV113("worker-2")], { now: minutes(4) }),
    );
    expect(entryOf(done, "worker-1")).toMatchObject({
      state: "Done",
      version: "v1.13.0",
      message: `the target changed: already at v1.13.0; ${image} no longer installed for its next boot`,
    });
    expect(entryOf(done, "worker-1")?.restoreImage).toBeUndefined();
    expect(entryOf(done, "worker-1")?.installedAt).toBeUndefined();
    expect(kinds(done)).toEqual(["uncordon:worker-1"]);
  });

  it("an install of its own installer from an earlier boot does not count: it is asked again", () => {
    const first = decide(
      anObservation(backToRunning(installedAndCordoned()), [cordoned(), onV113("worker-2")], {
        now: minutes(2),
      }),
    );
    const stale = cordoned({ installed: { image: running, bootId: "worker-1-boot-earlier" } });
    const d = decide(
      anObservation(backToRunning(first.status), [stale, onV113("worker-2")], { now: minutes(3) }),
    );
    expect(kinds(d)).toEqual(["install:worker-1"]);
  });

  it("fails the node, keeping its cordon, when Talos refuses that install: the old entry is still there", () => {
    const first = decide(
      anObservation(backToRunning(installedAndCordoned()), [cordoned(), onV113("worker-2")], {
        now: minutes(2),
      }),
    );
    const refused = cordoned({
      installed: {
        image: running,
        bootId: "worker-1-boot-0",
        error: "installer exited with 1: no space left",
      },
    });
    const d = decide(
      anObservation(backToRunning(first.status), [refused, onV113("worker-2")], { now: minutes(3) }),
    );
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Failed", reason: "BootEntryNotRestored" });
    expect(entryOf(d, "worker-1")?.message).toBe(
      `the plan no longer upgrades it, and Talos refused to install ${running} again: installer exited with 1: no space left; ${image} is installed for its next boot: a reboot starts it`,
    );
    expect(kinds(d)).not.toContain("uncordon:worker-1");
  });

  it("a node that rebooted into the installed version before its restore is released, ahead of the target", () => {
    const first = decide(
      anObservation(backToRunning(installedAndCordoned()), [cordoned(), onV113("worker-2")], {
        now: minutes(2),
      }),
    );
    const booted = cordoned();
    const rebooted = {
      ...booted,
      talos: { ...booted.talos, version: "v1.14.0", bootId: "worker-1-boot-1" },
    };
    const d = decide(
      anObservation(backToRunning(first.status), [rebooted, onV113("worker-2")], { now: minutes(3) }),
    );
    // Released, then taken as the plan takes a node ahead of its target, in the same pass.
    expect(entryOf(d, "worker-1")).toMatchObject({
      state: "Skipped",
      reason: "AheadOfTarget",
      message: "runs v1.14.0, ahead of the target v1.13.0: left alone",
    });
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });

  it("a node with no install recorded is restored too while it serves: a crash may have lost that record", () => {
    const notRecorded = aStatus(
      anEntry("worker-1", "Draining", {
        fromVersion: "v1.13.0",
        version: "v1.14.0",
        startedAt: t0.toISOString(),
        image,
        message: `installing ${image} while the node serves`,
      }),
    );
    const d = decide(anObservation(backToRunning(notRecorded), [onV113("worker-1")], { now: minutes(2) }));
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Draining", restoreImage: running });
    expect(kinds(d)).toEqual(["install:worker-1"]);
  });

  it("a cordoned node with no install recorded is released at once: its install would have come with its call", () => {
    const cordonedFirst = aStatus(
      anEntry("worker-1", "Draining", {
        fromVersion: "v1.13.0",
        version: "v1.14.0",
        startedAt: t0.toISOString(),
        image,
        message: "draining, 3 pod(s) left",
      }),
    );
    const node = onV113("worker-1", { unschedulable: true, cordonedBy: planName, evictablePods: 3 });
    const d = decide(anObservation(backToRunning(cordonedFirst), [node], { now: minutes(2) }));
    expect(entryOf(d, "worker-1")).toMatchObject({
      state: "Done",
      version: "v1.13.0",
      message: "the target changed: already at v1.13.0",
    });
    expect(kinds(d)).toEqual(["uncordon:worker-1"]);
  });

  it("a node that failed after its install, retried with the plan edited back, restores its boot entry first", () => {
    const failed = aStatus(
      anEntry("worker-1", "Failed", {
        fromVersion: "v1.13.0",
        version: "v1.14.0",
        startedAt: t0.toISOString(),
        installedAt: minutes(1).toISOString(),
        image,
        reason: "DrainTimeout",
        message: `drain did not finish; ${image} is installed for its next boot: a reboot starts it`,
      }),
    );
    const retried = backToRunning(failed, { "upgrade.talos-operator.dev/retry": "1" });
    const d = decide(anObservation(retried, [cordoned()], { now: minutes(30) }));
    expect(entryOf(d, "worker-1")).toMatchObject({
      state: "Draining",
      version: "v1.13.0",
      restoreImage: running,
    });
    expect(kinds(d)).toEqual(["install:worker-1"]);
  });

  it("one whose own installer cannot be derived (extensions, no schematic) is released saying what its next boot starts", () => {
    const unknown = cordoned();
    const node = {
      ...unknown,
      talos: { ...unknown.talos, image: { extensions: ["iscsi-tools"] } },
    };
    const d = decide(anObservation(backToRunning(installedAndCordoned()), [node], { now: minutes(2) }));
    expect(entryOf(d, "worker-1")).toMatchObject({ state: "Done", version: "v1.13.0" });
    expect(entryOf(d, "worker-1")?.message).toBe(
      `the target changed: already at v1.13.0; ${image} stays installed for its next boot (its own installer cannot be derived from its image facts)`,
    );
  });
});
