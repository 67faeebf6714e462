// The etcd snapshot gate in the decision core: no control plane of a pass starts before a snapshot
// of that pass is verified in the bucket; a failure stalls the plan with a reason and is retried
// with backoff; a restarted operator asks again under the same key; plans without a destination
// behave as before.
import { type Decision, decide } from "../../../src/core/decide.ts";
import type { Action } from "../../../src/model/actions.ts";
import type { NodeView, Observation } from "../../../src/model/observation.ts";
import { aNode } from "../builders/nodes.ts";
import { anObservation, condition, minutes, next } from "../builders/observations.ts";
import { anEntry, anS3Destination, aPlan, aStatus } from "../builders/plans.ts";

const s3 = anS3Destination();
const cluster = (): NodeView[] => [aNode("cp-1"), aNode("cp-2"), aNode("cp-3"), aNode("worker-1")];

type Snapshot = Extract<Action, { kind: "etcdSnapshot" }>;
const snapshots = (d: Decision) => d.actions.filter((a): a is Snapshot => a.kind === "etcdSnapshot");
const cordons = (d: Decision) => d.actions.filter((a) => a.kind === "cordon").map((a) => a.node);
const reconciling = (d: Decision) => condition(d, "Reconciling");
const stalled = (d: Decision) => condition(d, "Stalled");

type Outcome = NonNullable<NonNullable<Observation["etcdSnapshot"]>["outcome"]>;
type Ended = Outcome extends infer O ? (O extends unknown ? Omit<O, "finishedAt"> : never) : never;

/**
 * A pass that asked for a snapshot, then one (at minute 2) where the shell reports `outcome` for it,
 * ended at `finishedAt` (default: then).
 */
function snapshotThen(
  outcome: Ended | undefined,
  spec: { s3: typeof s3; maxAge?: string } = { s3 },
  finishedAt = minutes(2),
) {
  const obs = anObservation(aPlan({ etcdBackup: spec }), cluster());
  const asked = decide(obs);
  const key = snapshots(asked)[0]?.key ?? "";
  const ended = outcome ? { outcome: { ...outcome, finishedAt: finishedAt.toISOString() } as Outcome } : {};
  const after = decide(
    next(asked, obs, { now: minutes(2), etcdSnapshot: { key, inFlight: false, ...ended } }),
  );
  return { obs, asked, key, after };
}

describe("etcd snapshot before the first control plane", () => {
  test("a plan with a bucket takes a snapshot from a control plane not upgraded first, and cordons nothing until it is verified", () => {
    const obs = anObservation(aPlan({ etcdBackup: { s3 } }), cluster());
    const d = decide(obs);
    expect(cordons(d)).toEqual([]);
    const [action] = snapshots(d);
    const first = d.status.nodes.find((e) => e.role === "controlplane")?.name;
    expect(action).toMatchObject({
      plan: "production",
      key: `talos-upgrade/production/20261128T020000Z-${action?.source}.db`,
      prefix: "talos-upgrade/production/",
      retention: 5,
      timeoutSeconds: 900,
      destination: { bucket: "etcd-backups", region: "us-east-1", forcePathStyle: true },
    });
    expect(action?.source).not.toBe(first);
    expect(d.status.etcdBackup).toMatchObject({
      pass: "talos v1.12.4",
      state: "Running",
      key: action?.key,
      location: `s3://etcd-backups/${action?.key}`,
      attempts: 1,
    });
    expect(reconciling(d)).toMatchObject({ status: "True", reason: "TakingEtcdSnapshot" });
    expect(reconciling(d)?.message).toContain(`s3://etcd-backups/${action?.key}`);

    // While the run is under way, it is not asked for again and nothing starts.
    const running = decide(
      next(d, obs, { now: minutes(1), etcdSnapshot: { key: action?.key ?? "", inFlight: true } }),
    );
    expect(snapshots(running)).toEqual([]);
    expect(cordons(running)).toEqual([]);
    expect(running.requeueAfterMs).toBeDefined();
  });

  test("once verified, the first control plane is cordoned in the same pass, and the snapshot is recorded", () => {
    const { key, after } = snapshotThen({ ok: true, size: 20_512, sha256: "ab".repeat(32), retained: 3 });
    expect(after.status.etcdBackup).toMatchObject({
      state: "Verified",
      key,
      size: 20_512,
      sha256: "ab".repeat(32),
      retained: 3,
      finishedAt: minutes(2).toISOString(),
    });
    expect(after.events).toContainEqual(
      expect.objectContaining({ type: "Normal", reason: "EtcdSnapshotTaken" }),
    );
    const [cordoned] = cordons(after);
    expect(after.status.nodes.find((e) => e.name === cordoned)?.role).toBe("controlplane");
    expect(snapshots(after)).toEqual([]);
  });

  test("a failed snapshot stalls the plan naming why, cordons nothing, and is tried again after a backoff under a new key", () => {
    const { obs, key, after } = snapshotThen({
      ok: false,
      message: "snapshot truncated: 1048576 bytes, no SHA-256 trailer",
    });
    expect(stalled(after)).toMatchObject({ status: "True", reason: "EtcdSnapshotFailed" });
    // Retried, so Reconciling is True too; Stalled is listed first, where kstatus reads it.
    expect(after.status.conditions.slice(0, 3).map((c) => [c.type, c.status])).toEqual([
      ["Stalled", "True"],
      ["Reconciling", "True"],
      ["Ready", "False"],
    ]);
    expect(stalled(after)?.message).toContain("snapshot truncated");
    expect(after.events).toContainEqual(
      expect.objectContaining({ type: "Warning", reason: "EtcdSnapshotFailed" }),
    );
    expect(after.status.etcdBackup).toMatchObject({
      state: "Failed",
      attempts: 1,
      reason: "EtcdSnapshotFailed",
    });
    expect(cordons(after)).toEqual([]);
    expect(after.requeueAfterMs).toBeLessThanOrEqual(30_000);

    const waiting = decide(next(after, obs, { now: new Date(minutes(2).getTime() + 10_000) }));
    expect(snapshots(waiting)).toEqual([]);
    expect(cordons(waiting)).toEqual([]);
    expect(stalled(waiting)?.message).toMatch(/next attempt in 20s/);

    const again = decide(next(waiting, obs, { now: minutes(3) }));
    const [retried] = snapshots(again);
    expect(retried?.key).toBeDefined();
    expect(retried?.key).not.toBe(key);
    expect(again.status.etcdBackup).toMatchObject({ state: "Running", attempts: 2 });
    expect(cordons(again)).toEqual([]);
  });

  test("the retry annotation tries a failed snapshot at once", () => {
    const { obs, after } = snapshotThen({ ok: false, message: "NoSuchBucket" });
    const plan = aPlan({ etcdBackup: { s3 } }, after.status, { "upgrade.talos-operator.dev/retry": "1" });
    const retried = decide({ ...obs, plan, now: new Date(minutes(2).getTime() + 1000) });
    expect(snapshots(retried)).toHaveLength(1);
    expect(retried.status.etcdBackup).toMatchObject({ state: "Running", attempts: 2 });
  });

  test("a restarted operator, its run lost, asks for the same object again", () => {
    const obs = anObservation(aPlan({ etcdBackup: { s3 } }), cluster());
    const first = decide(obs);
    const key = snapshots(first)[0]?.key;
    const restarted = decide(next(first, obs, { now: minutes(5) }));
    expect(snapshots(restarted).map((a) => a.key)).toEqual([key]);
    expect(restarted.status.etcdBackup).toMatchObject({ state: "Running", key, attempts: 1 });
  });

  test("a verified snapshot serves the control planes of its pass while fresh or while the pass goes on; a stale one is taken again before the first starts, after a hold, and at a retry", () => {
    const verified = {
      pass: "talos v1.12.4",
      state: "Verified" as const,
      key: "talos-upgrade/production/20261128T000000Z-cp-3.db",
      finishedAt: minutes(-120).toISOString(),
      attempts: 1,
    };
    // cp-1 started after the snapshot and was worked on within maxAge (a slow one, done 10 minutes
    // ago): the pass goes on, cp-2 starts without a new one though the snapshot is two hours old.
    const during = (finished: number) =>
      aStatus(
        anEntry("cp-1", "Done", {
          startedAt: minutes(-100).toISOString(),
          finishedAt: minutes(finished).toISOString(),
        }),
        anEntry("cp-2", "Pending"),
        anEntry("cp-3", "Pending"),
      );
    const upgraded = [aNode("cp-1", { version: "v1.12.4" }), aNode("cp-2"), aNode("cp-3")];
    const goOn = decide(
      anObservation(aPlan({ etcdBackup: { s3 } }, { ...during(-10), etcdBackup: verified }), upgraded),
    );
    expect(snapshots(goOn)).toEqual([]);
    expect(cordons(goOn)).toEqual(["cp-2"]);

    // The pass stood still since cp-1 was done 90 minutes ago (a window closed, a gate held it):
    // etcd has moved on, so a new one is taken before cp-2.
    const held = decide(
      anObservation(aPlan({ etcdBackup: { s3 } }, { ...during(-90), etcdBackup: verified }), upgraded),
    );
    expect(snapshots(held)).toHaveLength(1);
    expect(cordons(held)).toEqual([]);

    // A retry (cp-2 failed, retried hours later) takes it again before cp-2 starts again; one
    // within maxAge still serves.
    const failed = aStatus(
      anEntry("cp-1", "Done", {
        startedAt: minutes(-100).toISOString(),
        finishedAt: minutes(-90).toISOString(),
      }),
      anEntry("cp-2", "Failed", { startedAt: minutes(-80).toISOString(), reason: "NodeTimeout" }),
      anEntry("cp-3", "Pending"),
    );
    const retryAsked = { "upgrade.talos-operator.dev/retry": "1" };
    const retried = decide(
      anObservation(aPlan({ etcdBackup: { s3 } }, { ...failed, etcdBackup: verified }, retryAsked), upgraded),
    );
    expect(snapshots(retried)).toHaveLength(1);
    expect(cordons(retried)).toEqual([]);
    expect(retried.status.nodes.find((e) => e.name === "cp-2")?.state).toBe("Pending");
    const recent = { ...verified, finishedAt: minutes(-30).toISOString() };
    const retriedSoon = decide(
      anObservation(aPlan({ etcdBackup: { s3 } }, { ...failed, etcdBackup: recent }, retryAsked), upgraded),
    );
    expect(snapshots(retriedSoon)).toEqual([]);
    expect(cordons(retriedSoon)).toEqual(["cp-2"]);

    // No control plane started since: two hours is over maxAge (1h), so a new one first.
    const before = aStatus(
      anEntry("cp-1", "Pending"),
      anEntry("cp-2", "Pending"),
      anEntry("cp-3", "Pending"),
    );
    const stale = decide(
      anObservation(
        aPlan({ etcdBackup: { s3 } }, { ...before, etcdBackup: verified }),
        cluster().slice(0, 3),
      ),
    );
    expect(snapshots(stale)).toHaveLength(1);
    expect(cordons(stale)).toEqual([]);
  });

  test("a run first seen ended after it ended is as old as its end says", () => {
    const ok = { ok: true, size: 20_512, sha256: "ab".repeat(32), retained: 1 } as const;
    const halfMinute = new Date(minutes(0).getTime() + 30_000);
    // Seen at minute 2, ended at 0:30: recorded with its own end.
    const { after: kept } = snapshotThen(ok, { s3 }, halfMinute);
    expect(kept.status.etcdBackup).toMatchObject({ state: "Verified", finishedAt: halfMinute.toISOString() });
    expect(cordons(kept)).toHaveLength(1);

    // With maxAge 1m it is already too old to serve: taken again, nothing cordoned.
    const { key, after } = snapshotThen(ok, { s3, maxAge: "1m" }, halfMinute);
    expect(after.events).toContainEqual(expect.objectContaining({ reason: "EtcdSnapshotTaken" }));
    expect(cordons(after)).toEqual([]);
    const [again] = snapshots(after);
    expect(again?.key).not.toBe(key);
    expect(after.status.etcdBackup).toMatchObject({ state: "Running", key: again?.key, attempts: 1 });
  });

  test("a snapshot of another pass (an earlier version step) does not count", () => {
    const older = {
      pass: "talos v1.11.6",
      state: "Verified" as const,
      key: "talos-upgrade/production/20261128T015000Z-cp-3.db",
      finishedAt: minutes(-5).toISOString(),
      attempts: 1,
    };
    const d = decide(
      anObservation(aPlan({ etcdBackup: { s3 } }, { ...aStatus(), etcdBackup: older }), cluster()),
    );
    expect(snapshots(d)).toHaveLength(1);
    expect(d.status.etcdBackup?.pass).toBe("talos v1.12.4");
  });

  test("with the control planes done, workers start without a snapshot", () => {
    const status = aStatus(
      anEntry("cp-1", "Done", { version: "v1.12.4" }),
      anEntry("cp-2", "Done"),
      anEntry("cp-3", "Done"),
      anEntry("worker-1", "Pending"),
    );
    const nodes = cluster().map((n) =>
      n.role === "controlplane" ? aNode(n.name, { version: "v1.12.4" }) : n,
    );
    const d = decide(anObservation(aPlan({ etcdBackup: { s3 } }, status), nodes));
    expect(snapshots(d)).toEqual([]);
    expect(cordons(d)).toEqual(["worker-1"]);
  });

  test("nodes already in flight go on while the snapshot is taken", () => {
    const status = aStatus(
      anEntry("cp-1", "Pending"),
      anEntry("worker-1", "Verifying", {
        startedAt: minutes(-3).toISOString(),
        bootIdBefore: "worker-1-boot-0",
      }),
    );
    const nodes = [
      aNode("cp-1"),
      aNode("cp-2"),
      aNode("worker-1", {
        version: "v1.12.4",
        unschedulable: true,
        kubeletBootId: "worker-1-boot-1",
        talos: { reachable: true, bootId: "worker-1-boot-1" },
      }),
    ];
    const d = decide(anObservation(aPlan({ etcdBackup: { s3 } }, status), nodes));
    expect(snapshots(d)).toHaveLength(1);
    expect(d.status.nodes.find((e) => e.name === "worker-1")?.state).not.toBe("Verifying");
    expect(cordons(d)).toEqual([]);
  });

  test("the operator's default destination turns it on; enabled: false turns it off", () => {
    const withDefault = (spec: Record<string, unknown>) =>
      decide(
        anObservation(aPlan(spec), cluster(), {
          etcdBackupDefault: aPlan({ etcdBackup: { s3 } }).spec.etcdBackup?.s3,
        }),
      );
    expect(snapshots(withDefault({}))).toHaveLength(1);
    const off = withDefault({ etcdBackup: { enabled: false } });
    expect(snapshots(off)).toEqual([]);
    expect(cordons(off)).toHaveLength(1);
  });

  test("without a destination anywhere a plan behaves as before; asking for one without a bucket stalls, naming the fields", () => {
    const before = decide(anObservation(aPlan({}), cluster()));
    expect(snapshots(before)).toEqual([]);
    expect(cordons(before)).toHaveLength(1);
    expect(before.status.etcdBackup).toBeUndefined();

    const asked = decide(anObservation(aPlan({ etcdBackup: { enabled: true } }), cluster()));
    expect(cordons(asked)).toEqual([]);
    expect(stalled(asked)).toMatchObject({ status: "True", reason: "EtcdBackupNotConfigured" });
    expect(stalled(asked)?.message).toContain("spec.etcdBackup.s3");
  });

  test("no Ready control plane to read from: waits, naming what for", () => {
    const nodes = cluster().map((n) => (n.role === "controlplane" ? { ...n, ready: false } : n));
    const d = decide(anObservation(aPlan({ etcdBackup: { s3 } }), nodes));
    expect(snapshots(d)).toEqual([]);
    expect(cordons(d)).toEqual([]);
  });

  test("a dry run takes no snapshot", () => {
    const d = decide(anObservation(aPlan({ etcdBackup: { s3 }, dryRun: true }), cluster()));
    expect(snapshots(d)).toEqual([]);
  });
});
