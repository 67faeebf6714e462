// Talos clients across a talosconfig rotation, against the simulated fleet: the client of the old
// config is closed once its calls under way end (a stream still open keeps it), new calls on it are
// refused with the reason, and the client of the new config answers.
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { TalosClient } from "../../src/talos/client.ts";
import { TalosCredentials } from "../../src/talos/credentials.ts";
import { version } from "../../src/talos/machine.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { aPlan } from "../unit/builders/plans.ts";

const watchMethod = "/cosi.resource.State/Watch";

describe("Talos clients across a talosconfig rotation", () => {
  let fleet: Fleet;
  let credentials: TalosCredentials;

  beforeEach(async () => {
    fleet = await Fleet.start({ controlPlanes: 1, workers: 1, talosVersion: "v1.12.4" });
  });

  afterEach(async () => {
    credentials.close();
    await fleet.stop();
  });

  it("closes the old client once its open stream ends, and the new one answers", async () => {
    const worker = fleet.workers()[0];
    if (!worker) throw new Error("no worker");
    const mounted = join(mkdtempSync(join(tmpdir(), "tuo-talosconfig-")), "config");
    copyFileSync(await fleet.talosconfigFor("before-rotation"), mounted);
    credentials = new TalosCredentials(adminKubeConfig(), { path: mounted, deadlineMs: 2_000 });
    const before = await credentials.clientFor(aPlan());
    if (!(before instanceof TalosClient)) throw new Error(before.error);
    expect(await credentials.clientFor(aPlan())).toBe(before);

    // A watch under way on the old client, as MachineWatches keeps one per node.
    const abort = new AbortController();
    const streamed = before.stream(
      "state",
      "Watch",
      {
        namespace: "runtime",
        type: "MachineStatuses.runtime.talos.dev",
        id: "machine",
        apiVersion: 1,
        options: { tailEvents: 0 },
      },
      worker.address,
      () => undefined,
      { signal: abort.signal },
    );
    const opened = () =>
      worker.calls.filter((c) => c.method === watchMethod && c.caller === "before-rotation");
    await waitUntil("the watch is open", async () => opened().length === 1, { timeoutMs: 5_000 });

    copyFileSync(await fleet.talosconfigFor("after-rotation"), mounted);
    const after = await credentials.clientFor(aPlan());
    if (!(after instanceof TalosClient)) throw new Error(after.error);
    expect(after).not.toBe(before);
    expect((await version(after, worker.address)).tag).toBe("v1.12.4");

    // Retired, but its stream is under way: still open, and a call a pass already began with it goes on.
    expect((await version(before, worker.address)).tag).toBe("v1.12.4");

    abort.abort();
    await streamed;
    await expect(version(before, worker.address)).rejects.toThrow(
      `Version on ${worker.address}: UNAVAILABLE: client closed: its talosconfig was rotated`,
    );
    expect((await version(after, worker.address)).tag).toBe("v1.12.4");
    // The fleet saw the old client's calls only before it closed.
    const oldCalls = worker.calls.filter((c) => c.caller === "before-rotation").length;
    expect(oldCalls).toBe(2);
  });

  it("closes an idle old client at once, but not one whose config another source still reads", async () => {
    const first = await fleet.talosconfigFor("first");
    const mounted = join(mkdtempSync(join(tmpdir(), "tuo-talosconfig-")), "config");
    copyFileSync(first, mounted);
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const name = uniqueName("talosconfig");
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name }, stringData: { config: readFileSync(first, "utf8") } },
    });
    credentials = new TalosCredentials(kc, { path: mounted, deadlineMs: 2_000 });
    const fromSecret = aPlan({ talosConfig: { secretRef: { name, namespace: "default", key: "config" } } });
    const node = fleet.workers()[0]?.address ?? "";

    // The mounted file and the Secret hold the same config: one client serves both.
    const shared = await credentials.clientFor(aPlan());
    if (!(shared instanceof TalosClient)) throw new Error(shared.error);
    expect(await credentials.clientFor(fromSecret)).toBe(shared);

    // The file rotates; the Secret still reads the old config, so its client stays open.
    copyFileSync(await fleet.talosconfigFor("second"), mounted);
    const rotated = await credentials.clientFor(aPlan());
    if (!(rotated instanceof TalosClient)) throw new Error(rotated.error);
    expect(rotated).not.toBe(shared);
    expect((await version(shared, node)).tag).toBe("v1.12.4");

    // The Secret rotates too: the old client, idle, closes at once.
    await core.replaceNamespacedSecret({
      name,
      namespace: "default",
      body: {
        metadata: { name },
        stringData: { config: readFileSync(await fleet.talosconfigFor("third"), "utf8") },
      },
    });
    const third = await credentials.clientFor(fromSecret);
    if (!(third instanceof TalosClient)) throw new Error(third.error);
    await expect(version(shared, node)).rejects.toThrow("client closed: its talosconfig was rotated");
    expect((await version(third, node)).tag).toBe("v1.12.4");
    expect((await version(rotated, node)).tag).toBe("v1.12.4");
    await core.deleteNamespacedSecret({ name, namespace: "default" });
  });
});
