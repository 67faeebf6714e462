// Delivers the notifications a plan's status lists, off the pass: one at a time per receiver, in
// order, retried with a growing pause; a delivery done or failed wakes the plan, whose next pass
// takes it off the status. Nothing here holds the rollout.
import type { Plan } from "../api/v1alpha1/plan.ts";
import type { SecretKey } from "../kube/secrets.ts";
import { webhookBody } from "../notify/webhook.ts";
import type { Logger } from "../observability/logger.ts";
import type { ShellMemory } from "./observe.ts";

interface NotifierPorts {
  readSecret(ref: SecretKey): Promise<string | { error: string }>;
  post(url: string, body: unknown): Promise<void>;
  /** Wakes the plan (the work queue's add). */
  requeue(plan: string): void;
  logger: Logger;
  now?: () => number;
}

/** The pause before attempt n+1: 1 s, 2 s, 4 s … at most 5 minutes. */
const backoffMs = (attempts: number) => Math.min(1_000 * 2 ** (attempts - 1), 5 * 60_000);

export class Notifier {
  private readonly ports: NotifierPorts;
  /** Receivers with a delivery under way, by plan/receiver. */
  private readonly busy = new Set<string>();
  private readonly attempts = new Map<string, { count: number; at: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(ports: NotifierPorts) {
    this.ports = ports;
  }

  /** Starts the deliveries due for the plan's status as written; never waits on them. */
  pump(plan: Plan, memory: ShellMemory): void {
    const name = plan.metadata.name;
    const pending = plan.status?.notifications?.pending ?? [];
    const listed = new Set(pending.map((p) => p.id));
    // What status no longer lists needs no more remembering.
    for (const id of memory.delivered) if (!listed.has(id)) memory.delivered.delete(id);
    const now = this.ports.now?.() ?? Date.now();
    const waiting = new Set<string>();
    for (const n of pending) {
      const lane = `${name}/${n.receiver}`;
      if (memory.delivered.has(n.id) || this.busy.has(lane) || waiting.has(lane)) continue;
      const tried = this.attempts.get(n.id);
      if (tried && tried.at > now) {
        // Later ones to this receiver wait behind it, so that they arrive in order.
        waiting.add(lane);
        continue;
      }
      const receiver = plan.spec.notifications.find((r) => r.name === n.receiver);
      if (!receiver) {
        // The receiver was taken out of the plan: there is no one left to tell.
        memory.delivered.add(n.id);
        continue;
      }
      this.busy.add(lane);
      void this.deliver(name, receiver, n, memory).finally(() => {
        this.busy.delete(lane);
        this.ports.requeue(name);
      });
    }
  }

  private async deliver(
    plan: string,
    receiver: Plan["spec"]["notifications"][number],
    n: NonNullable<NonNullable<Plan["status"]>["notifications"]>["pending"][number],
    memory: ShellMemory,
  ): Promise<void> {
    const url = await this.ports.readSecret(receiver.urlSecretRef);
    try {
      if (typeof url !== "string") throw new Error(url.error);
      await this.ports.post(url, webhookBody(receiver.format, plan, n));
      memory.delivered.add(n.id);
      this.attempts.delete(n.id);
      memory.notifyErrors.delete(receiver.name);
      this.ports.logger.info({ plan, receiver: receiver.name, event: n.event }, "notification delivered");
    } catch (error) {
      const count = (this.attempts.get(n.id)?.count ?? 0) + 1;
      const pause = backoffMs(count);
      this.attempts.set(n.id, { count, at: (this.ports.now?.() ?? Date.now()) + pause });
      const reason = error instanceof Error ? error.message : String(error);
      memory.notifyErrors.set(
        receiver.name,
        `${receiver.name}: ${reason} (attempt ${count}, next in ${Math.round(pause / 1000)}s)`,
      );
      this.ports.logger.warn(
        { plan, receiver: receiver.name, event: n.event, reason, attempt: count },
        "notification not delivered",
      );
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        // Due now, whatever the clocks say: a timer may fire a millisecond before Date.now() agrees,
        // and a retry skipped then would have no timer left to wake it.
        this.attempts.set(n.id, { count, at: 0 });
        this.ports.requeue(plan);
      }, pause);
      timer.unref();
      this.timers.add(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
