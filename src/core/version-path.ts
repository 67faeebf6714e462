// Upgrade paths: Talos and Kubernetes move one minor release at a time; a longer path needs the
// releases in between listed in intermediateVersions, each a full pass over the nodes.
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions, parseVersion } from "../api/v1alpha1/version.ts";

export type PathCheck = { ok: true; steps: string[] } | { ok: false; reason: string; message: string };

const minorDistance = (from: string, to: string) => {
  const a = parseVersion(from);
  const b = parseVersion(to);
  return (b.major - a.major) * 1000 + (b.minor - a.minor);
};

/**
 * The ordered steps that take every version in `current` to `target` through `intermediates`, or
 * why that path is refused: a downgrade, or a missing minor release (named in the message).
 */
export function upgradePath(
  what: string,
  current: string[],
  target: string,
  intermediates: string[],
): PathCheck {
  const steps = [...new Set([...intermediates, target])].sort(compareVersions);
  if (steps.at(-1) !== target) {
    return {
      ok: false,
      reason: Reason.InvalidIntermediateVersion,
      message: `${what} intermediate version ${steps.at(-1)} is newer than the target ${target}`,
    };
  }
  for (const from of current) {
    if (minorDistance(from, target) < 0) {
      return {
        ok: false,
        reason: Reason.DowngradeNotSupported,
        message: `${what} ${from} is newer than the target ${target}; downgrades across minor releases are not supported`,
      };
    }
    let at = from;
    for (const step of steps) {
      if (compareVersions(step, at) <= 0) continue;
      if (minorDistance(at, step) > 1) {
        const missing = parseVersion(at);
        return {
          ok: false,
          reason: Reason.UpgradePathTooLong,
          message:
            `${what} ${at} → ${step} skips a minor release: upgrade one minor at a time, ` +
            `add the latest v${missing.major}.${missing.minor + 1}.x to intermediateVersions`,
        };
      }
      at = step;
    }
  }
  return { ok: true, steps };
}

/**
 * Where a node at `version` goes next: the first step above it; undefined at or beyond the target.
 * Never a step below the node's version: a downgrade is never planned here.
 */
function nextStep(version: string, steps: string[]): string | undefined {
  return steps.find((step) => compareVersions(version, step) < 0);
}

/** The step the fleet is on: the lowest next step of any node; undefined when all are at the target. */
export function currentStep(current: string[], steps: string[]): string | undefined {
  const next = current.map((v) => nextStep(v, steps)).filter((s): s is string => s !== undefined);
  return next.sort(compareVersions)[0];
}
