// What a pass tells the plan's receivers: the rollout's start, each node that failed, the plan
// stalling, its completion. Each notification is written to status with the transition it tells
// of (an outbox), and leaves it once the shell has delivered it: at least once, across restarts.
import type { NotificationEvent, PlanSpec, PlanStatus } from "../api/v1alpha1/plan.ts";
import { boundMessage } from "../model/messages.ts";

type Outbox = NonNullable<PlanStatus["notifications"]>;
type Pending = Outbox["pending"][number];

/** At most this many wait: a receiver down for days must not grow the status without bound. */
const pendingLimit = 64;
const upgrading = new Set<PlanStatus["phase"]>(["UpgradingTalos", "UpgradingKubernetes"]);

interface Told {
  event: NotificationEvent;
  node?: string;
  message: string;
}

/** The transitions between the status before this pass and after it worth telling. */
function transitions(previous: PlanStatus, next: PlanStatus, generation: number): Told[] {
  const told: Told[] = [];
  if (upgrading.has(next.phase) && previous.notifications?.startedGeneration !== generation)
    told.push({ event: "Started", message: `rollout started (generation ${generation})` });
  const before = new Map(previous.nodes.map((e) => [e.name, e.state]));
  for (const e of next.nodes)
    if (e.state === "Failed" && before.get(e.name) !== "Failed")
      told.push({
        event: "NodeFailed",
        node: e.name,
        message: `${e.name}: ${e.reason ?? "Failed"}: ${e.message}`,
      });
  const tasksBefore = new Map(
    (previous.kubernetes?.tasks ?? []).map((t) => [`${t.node}/${t.component}`, t.state]),
  );
  for (const t of next.kubernetes?.tasks ?? [])
    if (t.state === "Failed" && tasksBefore.get(`${t.node}/${t.component}`) !== "Failed")
      told.push({
        event: "NodeFailed",
        node: t.node,
        message: `${t.node} ${t.component}: ${t.reason ?? "Failed"}: ${t.message}`,
      });
  const stalled = (s: PlanStatus) => s.conditions.find((c) => c.type === "Stalled" && c.status === "True");
  const now = stalled(next);
  if (now && stalled(previous)?.reason !== now.reason)
    told.push({ event: "Stalled", message: `${now.reason}: ${now.message}` });
  if (next.phase === "Completed" && previous.phase !== "Completed") {
    const ready = next.conditions.find((c) => c.type === "Ready");
    told.push({ event: "Completed", message: ready?.message ?? "completed" });
  }
  return told;
}

interface OutboxInput {
  spec: PlanSpec;
  previous: PlanStatus;
  next: PlanStatus;
  generation: number;
  now: Date;
  /** Delivered by the shell since the status last listed them. */
  delivered: string[];
  error?: string | undefined;
}

/** The status' outbox after this pass: what is still to deliver, and what this pass adds. */
export function outbox(input: OutboxInput): Outbox | undefined {
  const { spec, previous, next, generation, now } = input;
  const before = previous.notifications;
  if (spec.notifications.length === 0 && !before) return undefined;
  const delivered = new Set(input.delivered);
  const kept = (before?.pending ?? []).filter((p) => !delivered.has(p.id));
  const told = spec.notifications.length > 0 ? transitions(previous, next, generation) : [];
  const time = now.toISOString();
  const added: Pending[] = told.flatMap((t, i) =>
    spec.notifications
      .filter((r) => r.events.includes(t.event))
      .map((r) => ({
        id: `${generation}-${now.getTime()}-${i}-${r.name}`,
        receiver: r.name,
        event: t.event,
        ...(t.node ? { node: t.node } : {}),
        message: boundMessage(t.message),
        time,
      })),
  );
  const all = [...kept, ...added];
  const dropped = Math.max(0, all.length - pendingLimit);
  const started = told.some((t) => t.event === "Started") ? generation : before?.startedGeneration;
  return {
    pending: all.slice(dropped),
    delivered: (before?.delivered ?? 0) + ((before?.pending.length ?? 0) - kept.length),
    dropped: (before?.dropped ?? 0) + dropped,
    ...(started !== undefined ? { startedGeneration: started } : {}),
    // The shell's last failure, cleared by its next delivery.
    ...(input.error ? { lastError: input.error } : {}),
  };
}
