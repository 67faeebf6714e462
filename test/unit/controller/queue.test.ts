// The work queue: a delay past Node's timer limit waits (capped), instead of firing at once.
import { jest } from "@jest/globals";
import { maxTimerMs, WorkQueue } from "../../../src/controller/queue.ts";

afterEach(() => jest.useRealTimers());

it("a requeue a month away does not run again at once", async () => {
  jest.useFakeTimers();
  const month = 31 * 24 * 60 * 60 * 1000;
  let runs = 0;
  const queue = new WorkQueue(
    async () => {
      runs++;
      return month;
    },
    () => undefined,
  );
  queue.add("plan");
  await jest.advanceTimersByTimeAsync(60_000);
  expect(runs).toBe(1);
  await jest.advanceTimersByTimeAsync(maxTimerMs);
  expect(runs).toBe(2);
  queue.stop();
});
