// Maintenance windows: open and closed around a schedule, and every bad window reported as a
// reason and a message naming the field, never thrown.
import { evaluateWindows } from "../../../src/core/windows.ts";
import { aWindow } from "../builders/plans.ts";

const saturday3am = new Date("2026-11-28T03:00:00Z");

it.each([
  ["inside a window", [aWindow("0 2 * * 6")], saturday3am, { ok: true, open: true }],
  ["after it closed", [aWindow("0 2 * * 6", "30m")], saturday3am, { ok: true, open: false }],
  ["before a monthly window", [aWindow("0 2 1 * *")], saturday3am, { ok: true, open: false }],
  [
    "inside a 29 February window",
    [aWindow("0 0 29 2 *", "24h")],
    new Date("2028-02-29T12:00:00Z"),
    { ok: true, open: true },
  ],
  [
    "inside a window of millennia",
    [aWindow("0 2 * * 6", "9999999h9999999h")],
    saturday3am,
    { ok: true, open: true },
  ],
])("%s", (_case, windows, now, expected) => {
  expect(evaluateWindows(windows, now)).toMatchObject(expected);
});

it("says when a window closes and when the next one opens", () => {
  const open = evaluateWindows([aWindow("0 2 * * 6")], saturday3am);
  expect(open).toMatchObject({ closesAt: new Date("2026-11-28T06:00:00Z") });
  const closed = evaluateWindows([aWindow("0 2 1 * *")], saturday3am);
  expect(closed).toMatchObject({ nextOpen: new Date("2026-12-01T02:00:00Z") });
});

it.each([
  [
    "an unknown time zone",
    aWindow("0 2 * * 6", "4h", "Mars/Olympus"),
    "InvalidTimeZone",
    /timeZone: unknown time zone "Mars\/Olympus"/,
  ],
  ["a minute out of range", aWindow("61 2 * * 6"), "InvalidSchedule", /schedule: .*minute/],
  [
    "a day that never comes",
    aWindow("0 2 31 2 *"),
    "InvalidSchedule",
    /schedule: "0 2 31 2 \*" never starts a window/,
  ],
  [
    "a window of no length",
    aWindow("0 2 * * 6", "0s"),
    "InvalidSchedule",
    /duration: a window of 0s never opens/,
  ],
])("%s is reported, not thrown", (_case, bad, reason, message) => {
  const state = evaluateWindows([aWindow("0 3 * * *"), bad], saturday3am);
  expect(state).toMatchObject({ ok: false, reason });
  expect(state.ok ? "" : state.message).toMatch(/^spec\.maintenanceWindows\[1\]\./);
  expect(state.ok ? "" : state.message).toMatch(message);
});
