// Work side by side within a bound: a batch (eachAtMost: a drain's owners) and work that starts at
// different times (Slots: drain rounds, started by different passes and plans).
import { eachAtMost } from "../../../src/controller/act.ts";
import { Slots } from "../../../src/controller/slots.ts";

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

describe("slots for work that starts at different times", () => {
  it("runs at most `size` at once, the others in the order they asked", async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const work = (name: string, ms: number) =>
      slots.run(async () => {
        started.push(name);
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        running--;
        return name;
      });
    const first = [work("a", 30), work("b", 10)];
    await new Promise((resolve) => setTimeout(resolve, 1));
    const later = [work("c", 5), work("d", 5), work("e", 5)];
    expect(await Promise.all([...first, ...later])).toEqual(["a", "b", "c", "d", "e"]);
    expect(most).toBe(2);
    expect(started).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("frees the slot of work that throws", async () => {
    const slots = new Slots(1);
    await expect(slots.run(async () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(await slots.run(async () => "next")).toBe("next");
  });
});
