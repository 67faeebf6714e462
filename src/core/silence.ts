// The plan's Alertmanager silence as one pass decides it: wanted while work is under way (and, with
// a node label, while a node is in flight: the silence then names exactly those nodes), renewed
// once half its length has passed or when what it covers changes, expired once it is not wanted.
// The shell reports what it did; status shows the silence's ID, end and matchers.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { Plan, PlanStatus } from "../api/v1alpha1/plan.ts";
import type { SilenceMatcher, SilenceStatus } from "../api/v1alpha1/silence.ts";
import type { Action } from "../model/actions.ts";
import type { SilenceOutcome } from "../model/observation.ts";
import { underWay } from "./fleet-hold.ts";
import { activeStates } from "./node-steps.ts";

/** A matcher as Alertmanager prints it: node=~"w-1|w-2". */
export const matcherText = (m: SilenceMatcher) => `${m.name}${m.matchType}${JSON.stringify(m.value)}`;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The matchers the silence should have now, or undefined when no silence is wanted. */
function wantedMatchers(plan: Plan, next: PlanStatus): SilenceMatcher[] | undefined {
  const spec = plan.spec.silence;
  if (!spec || !underWay(next) || next.phase === "Failed") return undefined;
  if (!spec.nodeLabel) return spec.matchers;
  const inFlight = next.nodes.filter((e) => activeStates.has(e.state)).map((e) => e.name);
  if (inFlight.length === 0) return undefined;
  const nodes = {
    name: spec.nodeLabel,
    value: inFlight.map(escapeRegex).join("|"),
    matchType: "=~" as const,
  };
  return [...spec.matchers, nodes];
}

export function silenceStep(input: {
  plan: Plan;
  next: PlanStatus;
  seen: SilenceOutcome | undefined;
  now: Date;
}): { status?: SilenceStatus; actions: Action[] } {
  const { plan, next, seen, now } = input;
  const spec = plan.spec.silence;
  const previous = plan.status?.silence;
  if (!spec) return { actions: [] };
  // What Alertmanager has, as far as this process knows (its last write), else as status says.
  const gone = seen?.expired === true;
  const id = gone ? undefined : (seen?.id ?? previous?.id);
  const endsAt = gone ? undefined : (seen?.endsAt ?? previous?.endsAt);
  const known: SilenceStatus = {
    matchers: gone ? [] : (seen?.matchers ?? previous?.matchers ?? []),
    ...(id ? { id } : {}),
    ...(endsAt ? { endsAt } : {}),
    ...(seen?.error ? { lastError: seen.error } : {}),
  };
  const matchers = wantedMatchers(plan, next);
  const name = plan.metadata.name;
  if (!matchers) {
    const exists = !gone && (known.id !== undefined || previous !== undefined);
    return exists
      ? {
          status: known,
          actions: [
            {
              kind: "expireSilence",
              plan: name,
              url: spec.alertmanagerUrl,
              ...(known.id ? { id: known.id } : {}),
            },
          ],
        }
      : { actions: [] };
  }
  const length = parseDuration(spec.duration);
  const texts = matchers.map(matcherText);
  const renew =
    known.id === undefined ||
    known.endsAt === undefined ||
    Date.parse(known.endsAt) - now.getTime() < length / 2 ||
    texts.join("\n") !== known.matchers.join("\n");
  if (!renew) return { status: known, actions: [] };
  return {
    status: known,
    actions: [
      {
        kind: "putSilence",
        plan: name,
        url: spec.alertmanagerUrl,
        ...(known.id ? { id: known.id } : {}),
        matchers,
        endsAt: new Date(now.getTime() + length).toISOString(),
        comment: "is upgrading these nodes on purpose",
      },
    ],
  };
}
