// The simulator's lag in a case, kept pure: how late its machines' reboot timers fired, and how
// much later than nominal they answered after an upgrade; and the rule that refuses a case whose
// simulator lagged too far behind its own timing to measure the tool.
import type { TimerLag, Timing } from "../testkit/fleet/node.ts";
import { nodeCriticalMs, percentile } from "./measures.ts";

/** How late the simulator ran against a nominal delay: percentiles of the lateness, in ms. */
export interface Lag {
  p50?: number;
  p99?: number;
  max?: number;
  samples: number;
  nominalMs: number;
  /** p99 as a share of the nominal delay. */
  p99Share?: number;
}

export interface SimulatorLag {
  /** Each reboot timer (the machine down until apid answers), against rebootMs. */
  reboot: Lag;
  /**
   * Each legacy upgrade (not staged), from the simulator taking it to apid answering again, less
   * its own drain (the cluster's time, not the simulator's), against nodeCriticalMs.
   */
  upgrade: Lag;
  /**
   * Of each upgrade's lag, the part its last timer fired late against the sequence's own clock
   * (node.ts: a late timer does not push back those after it); the rest is the simulator's own
   * work after it (the boot and what hears its events), slowed by a busy process.
   */
  upgradeTimers: Lag;
}

/** What the simulator recorded of one machine (SimNode's `lag` and `upgrades`), and when its apid came back. */
export interface MachineTimes {
  lag: readonly TimerLag[];
  upgrades: readonly { api: "legacy" | "lifecycle"; stage: boolean; at: number; drainMs?: number }[];
  backAt: readonly number[];
}

export function lagOf(lateMs: number[], nominalMs: number): Lag {
  const p99 = percentile(lateMs, 99);
  return {
    p50: percentile(lateMs, 50),
    p99,
    max: percentile(lateMs, 100),
    samples: lateMs.length,
    nominalMs,
    ...(p99 === undefined ? {} : { p99Share: p99 / nominalMs }),
  };
}

/** The lag of the machines' reboots and upgrades from `since` on (a case's rollout, not the fleet's start). */
export function simulatorLag(
  machines: MachineTimes[],
  since: number,
  timing: Pick<Timing, "sequenceDelayMs" | "rebootMs" | "installMs" | "stepMs">,
): SimulatorLag {
  const nominal = nodeCriticalMs(timing);
  const reboots = machines.flatMap((m) =>
    m.lag.filter((l) => l.timer === "reboot" && l.at >= since).map((l) => l.lateMs),
  );
  const upgrades = machines.flatMap((m) =>
    m.upgrades
      .filter((u) => u.api === "legacy" && !u.stage && u.at >= since)
      .flatMap((u) => {
        const back = m.backAt.find((t) => t > u.at);
        if (back === undefined) return [];
        const last = m.lag.filter((l) => l.at > u.at && l.at <= back).at(-1);
        return [{ late: Math.max(0, back - u.at - (u.drainMs ?? 0) - nominal), timers: last?.lateMs ?? 0 }];
      }),
  );
  return {
    reboot: lagOf(reboots, timing.rebootMs),
    upgrade: lagOf(
      upgrades.map((u) => u.late),
      nominal,
    ),
    upgradeTimers: lagOf(
      upgrades.map((u) => u.timers),
      nominal,
    ),
  };
}

/** How long each legacy upgrade's own drain phase (machined's cordon and drain) took, from `since` on. */
export function machineDrainsMs(machines: MachineTimes[], since: number): number[] {
  return machines.flatMap((m) =>
    m.upgrades.flatMap((u) =>
      u.api === "legacy" && u.at >= since && u.drainMs !== undefined ? [u.drainMs] : [],
    ),
  );
}

/** The share of its nominal timing the simulator may lag by (p99) before a case's figures are refused. */
export const lagLimit = 0.1;

/**
 * Why a case's figures are refused: a lag of the simulator's whose p99 is above `lagLimit` of its
 * nominal, so that the case measures the simulator as much as the tool. Undefined when none is.
 */
export function lagRefusal(lag: SimulatorLag): string | undefined {
  const measured: [string, Lag][] = [
    ["reboot", lag.reboot],
    ["upgrade", lag.upgrade],
  ];
  const over = measured.flatMap(([name, l]) =>
    l.p99 !== undefined && l.p99Share !== undefined && l.p99Share > lagLimit
      ? [`${name} p99 ${l.p99.toFixed(0)} ms, ${percent(l.p99Share)} of ${l.nominalMs} ms`]
      : [],
  );
  return over.length === 0
    ? undefined
    : `the simulator lagged more than ${lagLimit * 100}% of its nominal timing: ${over.join("; ")}`;
}

/** "p50/p99/max ms (p99 x%)", or "-" without samples. */
export function describeLag(l: Lag): string {
  const ms = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  return l.samples === 0
    ? "-"
    : `${ms(l.p50)}/${ms(l.p99)}/${ms(l.max)} (${l.p99Share === undefined ? "-" : percent(l.p99Share)})`;
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
