// Maintenance windows: a cron start, a duration and an IANA time zone. A run only starts work on a
// new node while a window is open. Invalid schedules and time zones are reported, not thrown.
import { Cron } from "croner";
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";

export type WindowState =
  | { ok: true; open: boolean; closesAt?: Date; nextOpen?: Date }
  | { ok: false; reason: typeof Reason.InvalidSchedule | typeof Reason.InvalidTimeZone; message: string };

/** How far back a window's start is looked for: a longer window is open for good once started. */
const lookbackMs = 10 * 366 * 24 * 3_600_000;

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function evaluateWindows(windows: PlanSpec["maintenanceWindows"], now: Date): WindowState {
  if (windows.length === 0) return { ok: true, open: true };
  let open = false;
  let closesAt: Date | undefined;
  let nextOpen: Date | undefined;
  for (const [index, window] of windows.entries()) {
    const field = `spec.maintenanceWindows[${index}]`;
    if (!validTimeZone(window.timeZone)) {
      return {
        ok: false,
        reason: Reason.InvalidTimeZone,
        message: `${field}.timeZone: unknown time zone "${window.timeZone}"`,
      };
    }
    let cron: Cron;
    try {
      cron = new Cron(window.schedule, { timezone: window.timeZone, paused: true });
    } catch (error) {
      return {
        ok: false,
        reason: Reason.InvalidSchedule,
        message: `${field}.schedule: ${(error as Error).message}`,
      };
    }
    const length = parseDuration(window.duration);
    if (length === 0)
      return {
        ok: false,
        reason: Reason.InvalidSchedule,
        message: `${field}.duration: a window of 0s never opens`,
      };
    let started: Date | null;
    let next: Date | null;
    try {
      // The first start after (now - duration), not the previous run: croner's previousRuns throws
      // on schedules that fire rarely or never (29 or 31 February).
      started = cron.nextRun(new Date(now.getTime() - Math.min(length, lookbackMs)));
      next = cron.nextRun(now);
    } catch (error) {
      return {
        ok: false,
        reason: Reason.InvalidSchedule,
        message: `${field}.schedule: ${(error as Error).message}`,
      };
    }
    if (!next && !(started && started <= now)) {
      return {
        ok: false,
        reason: Reason.InvalidSchedule,
        message: `${field}.schedule: "${window.schedule}" never starts a window`,
      };
    }
    if (started && started <= now && now.getTime() < started.getTime() + length) {
      open = true;
      const end = new Date(started.getTime() + length);
      if (!closesAt || end > closesAt) closesAt = end;
    }
    if (next && (!nextOpen || next < nextOpen)) nextOpen = next;
  }
  return { ok: true, open, ...(closesAt ? { closesAt } : {}), ...(nextOpen ? { nextOpen } : {}) };
}
