// A status is written at once when anything but progress changed; progress alone (the nodes'
// messages, a node going from its call to its reboot, verification and soak) waits until ten seconds
// after the last write. The confirmation of an accepted upgrade call is written at once.
import { statusChanges, statusWriteDue } from "../../../src/controller/status-writes.ts";
import { anEntry, aStatus } from "../builders/plans.ts";

const draining = (message: string) => aStatus(anEntry("w-1", "Draining", { message }));

describe("statusWriteDue", () => {
  const lastWrite = 1_000_000;

  it("writes nothing when nothing changed", () => {
    const status = draining("draining, 3 pod(s) left");
    expect(statusWriteDue(status, draining("draining, 3 pod(s) left"), lastWrite, lastWrite + 60_000)).toBe(
      false,
    );
  });

  it("holds back a progress message for ten seconds after the last write", () => {
    const before = draining("draining, 3 pod(s) left");
    const after = draining("draining, 2 pod(s) left");
    expect(statusWriteDue(before, after, lastWrite, lastWrite + 9_999)).toBe(false);
    expect(statusWriteDue(before, after, lastWrite, lastWrite + 10_000)).toBe(true);
    // A process that has not written this plan yet writes it.
    expect(statusWriteDue(before, after, undefined, lastWrite)).toBe(true);
  });

  it("writes the confirmation of an upgrade call at once, with the reboot seen in the same pass", () => {
    // Nothing in the world says it again after a crash: the node's timeout, its installer write and
    // the guard against calling again a machine whose upgrade failed before its reboot rest on it.
    const intent = aStatus(anEntry("w-1", "Upgrading", { bootIdBefore: "boot-1" }));
    const called = { bootIdBefore: "boot-1", upgradeCalledAt: "2026-12-01T00:00:01Z" };
    expect(
      statusWriteDue(intent, aStatus(anEntry("w-1", "Upgrading", called)), lastWrite, lastWrite + 1),
    ).toBe(true);
    expect(
      statusWriteDue(intent, aStatus(anEntry("w-1", "Rebooting", called)), lastWrite, lastWrite + 1),
    ).toBe(true);
  });

  it("holds back a node's reboot, verification and soak after its call, and writes what follows at once", () => {
    const called = { bootIdBefore: "boot-1", upgradeCalledAt: "2026-12-01T00:00:01Z" };
    const intent = {
      ...aStatus(anEntry("w-1", "Upgrading", called)),
      activity: { current: "installing v1.12.4: w-1", next: "nothing new" },
    };
    const rebooting = {
      ...aStatus(anEntry("w-1", "Rebooting", called)),
      activity: { current: "rebooting into v1.12.4: w-1", next: "nothing new" },
    };
    const verifying = aStatus(anEntry("w-1", "Verifying", called));
    expect(statusWriteDue(intent, rebooting, lastWrite, lastWrite + 1)).toBe(false);
    expect(statusWriteDue(intent, rebooting, lastWrite, lastWrite + 10_000)).toBe(true);
    expect(statusWriteDue(rebooting, verifying, lastWrite, lastWrite + 1)).toBe(false);
    // Verified, it soaks: what the next process would verify again, so progress too; its end is not.
    const soaking = aStatus(anEntry("w-1", "Soaking", { ...called, finishedAt: "2026-12-01T00:01:00Z" }));
    expect(statusWriteDue(rebooting, soaking, lastWrite, lastWrite + 1)).toBe(false);
    expect(statusWriteDue(rebooting, soaking, lastWrite, lastWrite + 10_000)).toBe(true);
    const done = aStatus(anEntry("w-1", "Done", { ...called, finishedAt: "2026-12-01T00:01:00Z" }));
    expect(statusWriteDue(soaking, done, lastWrite, lastWrite + 1)).toBe(true);
    // Its installer written, it sheds the call's record with the next write: a crash has it written again.
    const settled = aStatus(anEntry("w-1", "Done", { finishedAt: "2026-12-01T00:01:00Z" }));
    expect(statusWriteDue(done, settled, lastWrite, lastWrite + 1)).toBe(false);
    expect(statusWriteDue(done, settled, lastWrite, lastWrite + 10_000)).toBe(true);
    const failed = aStatus(anEntry("w-1", "Failed", { ...called, reason: "RolledBack" }));
    expect(statusWriteDue(rebooting, failed, lastWrite, lastWrite + 1)).toBe(true);
    // The intent before the call is no progress: it is written at once.
    const draining = aStatus(anEntry("w-1", "Draining"));
    const beforeTheCall = aStatus(anEntry("w-1", "Upgrading", { bootIdBefore: "boot-1" }));
    expect(statusWriteDue(draining, beforeTheCall, lastWrite, lastWrite + 1)).toBe(true);
  });

  it("writes a change of state, or of anything besides progress, at once", () => {
    const before = draining("draining, 1 pod(s) left");
    const upgrading = aStatus(anEntry("w-1", "Upgrading", { message: "draining, 1 pod(s) left" }));
    expect(statusWriteDue(before, upgrading, lastWrite, lastWrite + 1)).toBe(true);
    const condition = {
      ...before,
      conditions: [
        {
          type: "Ready",
          status: "False" as const,
          reason: "Progressing",
          message: "0/1 nodes upgraded",
          lastTransitionTime: "2026-12-01T00:00:00Z",
        },
      ],
    };
    expect(statusWriteDue(before, condition, lastWrite, lastWrite + 1)).toBe(true);
    // The first status of a plan.
    expect(statusWriteDue(undefined, before, lastWrite, lastWrite + 1)).toBe(true);
  });

  it("names what a write changes for the debug log: status fields, and each entry's state and fields", () => {
    const before = aStatus(anEntry("w-1", "Draining"), anEntry("w-2", "Pending"));
    const after = {
      ...aStatus(anEntry("w-1", "Upgrading", { bootIdBefore: "boot-1" }), anEntry("w-2", "Pending")),
      progress: "0/2",
    };
    expect(statusChanges(before, after)).toEqual(["progress", "w-1: Draining→Upgrading bootIdBefore"]);
    expect(statusChanges(undefined, before)).toEqual([
      ...Object.keys(before).filter((k) => k !== "nodes"),
      "w-1: new",
      "w-2: new",
    ]);
  });
});
