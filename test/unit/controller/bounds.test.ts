// A pass's actions run in turns: the drains of several nodes side by side, within a bound, and
// everything else one at a time in the order the decision gave.
import { eachAtMost, inTurns } from "../../../src/controller/act.ts";
import type { Action } from "../../../src/model/actions.ts";

const drain = (node: string): Action => ({ kind: "drain", node });
const cordon = (node: string): Action => ({ kind: "cordon", node });
const uncordon = (node: string): Action => ({ kind: "uncordon", node });

describe("a pass's actions in turns", () => {
  it("groups each run of drains, keeps every other action a turn of its own, and keeps the order", () => {
    const actions = [uncordon("a"), drain("b"), drain("c"), cordon("d"), drain("d"), drain("e"), cordon("f")];
    expect(inTurns(actions)).toEqual([
      [uncordon("a")],
      [drain("b"), drain("c")],
      [cordon("d")],
      [drain("d"), drain("e")],
      [cordon("f")],
    ]);
    expect(inTurns(actions).flat()).toEqual(actions);
  });

  it("never groups anything but drains, and has no turn for no action", () => {
    expect(inTurns([cordon("a"), cordon("b")])).toEqual([[cordon("a")], [cordon("b")]]);
    expect(inTurns([])).toEqual([]);
  });
});

describe("work side by side, within a bound", () => {
  it("runs at most `limit` at once and gives the results in the items' order", async () => {
    let running = 0;
    let most = 0;
    const results = await eachAtMost([30, 5, 20, 1, 10, 2, 8], 3, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 20, 4, 16]);
    expect(most).toBe(3);
  });

  it("starts nothing more once one throws, and throws when those under way have ended", async () => {
    const started: number[] = [];
    let ended = 0;
    const run = eachAtMost([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await new Promise((resolve) => setTimeout(resolve, i === 1 ? 5 : 30));
      ended++;
      if (i === 1) throw new Error("refused");
      return i;
    });
    await expect(run).rejects.toThrow("refused");
    // 0 and 1 start; 1 throws at 5 ms, so 2 never starts; 0 ends (at 30 ms) before the throw.
    expect(started).toEqual([0, 1]);
    expect(ended).toBe(2);
  });
});
