// Which machines' image facts a pass reads: each read of them is three or four Talos calls, and a
// node verified on a plan that names no schematic has nothing to compare them with.
import { imageFactsWanted } from "../../../src/core/node-steps.ts";
import { anEntry, aPlan } from "../builders/plans.ts";

const pool = {
  name: "gpu",
  nodeSelector: { matchLabels: { pool: "gpu" } },
  schematic: { id: "c".repeat(64) },
};
const plain = aPlan().spec.talos;
const pooled = aPlan({ talos: { version: "v1.12.4", overrides: [pool] } }).spec.talos;
const named = aPlan({ talos: { version: "v1.12.4", schematic: { id: "d".repeat(64) } } }).spec.talos;
const called = { upgradeCalledAt: "2026-12-01T02:00:00.000Z", bootIdBefore: "boot-0" };

describe("image facts are read", () => {
  it.each([
    ["a node not listed yet", undefined],
    ["a pending node", anEntry("worker-1", "Pending")],
    ["a node draining", anEntry("worker-1", "Draining")],
    ["a node whose upgrade is not called yet", anEntry("worker-1", "Upgrading", { bootIdBefore: "boot-0" })],
  ])("for %s, whatever the rule", (_, entry) => {
    expect(imageFactsWanted(entry, {}, plain)).toBe(true);
    expect(imageFactsWanted(entry, {}, named)).toBe(true);
  });

  it.each([
    ["rebooting", anEntry("worker-1", "Rebooting", called)],
    ["verifying", anEntry("worker-1", "Verifying", called)],
    ["soaking", anEntry("worker-1", "Soaking", called)],
    ["done", anEntry("worker-1", "Done")],
    ["skipped", anEntry("worker-1", "Skipped")],
    ["failed", anEntry("worker-1", "Failed", called)],
  ])("for a node %s only when its rule names a schematic to check its boot against", (_, entry) => {
    expect(imageFactsWanted(entry, {}, plain)).toBe(false);
    expect(imageFactsWanted(entry, {}, named)).toBe(true);
    expect(imageFactsWanted(entry, { pool: "gpu" }, pooled)).toBe(true);
    expect(imageFactsWanted(entry, { pool: "cpu" }, pooled)).toBe(false);
  });

  it("for every node of a plan without a Talos phase", () => {
    expect(imageFactsWanted(anEntry("worker-1", "Done"), {}, undefined)).toBe(true);
  });
});
