// What the invariant checks of unit, e2e and chaos tests expect, computed from the API's own words
// and never by importing the code under test: a wrong budget in src must fail its own checks, not
// pass them.

/**
 * spec.rollout.maxUnavailable as a worker count, as the API defines it: a number as is, a
 * percentage of the selected workers rounded down; at least one either way.
 */
export function budgetOf(maxUnavailable: number | string, workers: number): number {
  if (typeof maxUnavailable === "number") return Math.max(1, maxUnavailable);
  return Math.max(1, Math.floor((workers * Number(maxUnavailable.replace("%", ""))) / 100));
}

/** The status.nodes states of a node the plan has started and not yet verified or failed. */
export const inFlightStates: ReadonlySet<string> = new Set([
  "Draining",
  "Upgrading",
  "Rebooting",
  "Verifying",
  "Soaking",
]);
