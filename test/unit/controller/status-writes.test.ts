// A status is written at once when anything but progress changed; progress alone (the nodes'
// messages, the confirmation of an accepted upgrade call) waits until ten seconds after the last write.
import { statusWriteDue } from "../../../src/controller/status-writes.ts";
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

  it("holds back the confirmation of an upgrade call, and writes it with the reboot's state change", () => {
    const intent = aStatus(anEntry("w-1", "Upgrading", { bootIdBefore: "boot-1" }));
    const confirmed = aStatus(
      anEntry("w-1", "Upgrading", { bootIdBefore: "boot-1", upgradeCalledAt: "2026-12-01T00:00:01Z" }),
    );
    expect(statusWriteDue(intent, confirmed, lastWrite, lastWrite + 1)).toBe(false);
    expect(statusWriteDue(intent, confirmed, lastWrite, lastWrite + 10_000)).toBe(true);
    const rebooting = aStatus(
      anEntry("w-1", "Rebooting", { bootIdBefore: "boot-1", upgradeCalledAt: "2026-12-01T00:00:01Z" }),
    );
    expect(statusWriteDue(intent, rebooting, lastWrite, lastWrite + 1)).toBe(true);
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
});
