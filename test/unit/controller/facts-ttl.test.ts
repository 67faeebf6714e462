// Talos facts of idle nodes expire spread over half the TTL to the TTL, by node name, so that a large
// fleet's refreshes do not fall into one reconcile pass.
import { factsTtlFor } from "../../../src/controller/observe.ts";

describe("factsTtlFor", () => {
  const names = Array.from({ length: 1000 }, (_, i) => `worker-${i + 1}`);

  it("stays between half the TTL and the TTL, the same for the same node", () => {
    for (const name of names) {
      const ttl = factsTtlFor(name, 60_000);
      expect(ttl).toBeGreaterThanOrEqual(30_000);
      expect(ttl).toBeLessThan(60_000);
      expect(factsTtlFor(name, 60_000)).toBe(ttl);
    }
  });

  it("spreads a fleet's expiries: no tenth of the window holds more than a fifth of the nodes", () => {
    const buckets = new Array<number>(10).fill(0);
    for (const name of names) {
      const bucket = Math.floor((factsTtlFor(name, 60_000) - 30_000) / 3_000);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    expect(Math.max(...buckets)).toBeLessThanOrEqual(200);
    expect(Math.min(...buckets)).toBeGreaterThan(0);
  });
});
