// A status is written at once when anything but the nodes' progress messages changed; a change of
// messages alone waits until ten seconds after the last write.
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

  it("writes a change of state, or of anything besides the messages, at once", () => {
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
