// Which pending nodes a start may take next: the machines whose facts a plan under way keeps
// fresh while the others rest.
import { nextToStart } from "../../../src/core/start-nodes.ts";
import { anEntry, aPlan } from "../builders/plans.ts";

const none = () => false;

describe("nextToStart", () => {
  it("takes the next control plane alone while any control plane is left to settle", () => {
    const entries = [
      anEntry("cp-1", "Done"),
      anEntry("cp-2", "Pending"),
      anEntry("cp-3", "Pending"),
      anEntry("w-1", "Pending"),
    ];
    expect([...nextToStart(entries, aPlan().spec, none)]).toEqual(["cp-2"]);
  });

  it("takes nothing while a control plane is in flight and none is pending", () => {
    const entries = [anEntry("cp-1", "Done"), anEntry("cp-2", "Rebooting"), anEntry("w-1", "Pending")];
    expect([...nextToStart(entries, aPlan().spec, none)]).toEqual([]);
  });

  it("takes the first pending workers within maxUnavailable, as a count or a share", () => {
    const workers = Array.from({ length: 10 }, (_, i) => `w-${i + 1}`);
    const entries = [
      anEntry("cp-1", "Done"),
      anEntry("w-1", "Done"),
      anEntry("w-2", "Draining"),
      ...workers.slice(2).map((w) => anEntry(w, "Pending")),
    ];
    const spec = (maxUnavailable: number | string) => aPlan({ rollout: { maxUnavailable } }).spec;
    expect([...nextToStart(entries, spec(2), none)]).toEqual(["w-3", "w-4"]);
    // 30% of ten workers is three.
    expect([...nextToStart(entries, spec("30%"), none)]).toEqual(["w-3", "w-4", "w-5"]);
    // Below one worker, still one.
    expect([...nextToStart(entries, spec("5%"), none)]).toEqual(["w-3"]);
  });

  it("passes over a node a start would skip, and a failed control plane keeps the workers waiting", () => {
    const entries = [
      anEntry("cp-1", "Done"),
      anEntry("w-1", "Pending"),
      anEntry("w-2", "Pending"),
      anEntry("w-3", "Pending"),
    ];
    expect([...nextToStart(entries, aPlan().spec, (name) => name === "w-1")]).toEqual(["w-2"]);
    const failed = [anEntry("cp-1", "Failed"), anEntry("w-1", "Pending")];
    expect([...nextToStart(failed, aPlan().spec, none)]).toEqual([]);
  });
});
