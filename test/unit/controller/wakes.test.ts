// A pod's change wakes only the plans it can matter to: those with work under way or still to
// start; a plan at rest (completed, failed with nothing in flight, paused) is not woken by every
// pod of the cluster.
import { wakesOnPods } from "../../../src/controller/wakes.ts";
import { anEntry, aStatus } from "../core/builders.ts";

const plan = (status?: object) => ({ metadata: { name: "p" }, ...(status ? { status } : {}) });

describe("which plans a pod's change wakes", () => {
  it.each([
    ["a plan never reconciled", undefined, true],
    ["a plan upgrading Talos", { ...aStatus(anEntry("w", "Pending")), phase: "UpgradingTalos" }, true],
    [
      "a plan waiting for its window",
      { ...aStatus(anEntry("w", "Pending")), phase: "WaitingForWindow" },
      true,
    ],
    ["a completed plan", { ...aStatus(anEntry("w", "Done")), phase: "Completed" }, false],
    ["a paused plan", { ...aStatus(anEntry("w", "Pending")), phase: "Paused" }, false],
    ["a failed plan with nothing in flight", { ...aStatus(anEntry("w", "Failed")), phase: "Failed" }, false],
    [
      "a failed plan still draining a node",
      { ...aStatus(anEntry("w", "Failed"), anEntry("x", "Draining")), phase: "Failed" },
      true,
    ],
  ] as const)("%s: %s", (_what, status, wakes) => {
    expect(wakesOnPods(plan(status))).toBe(wakes);
  });
});
