// What machined made of a sequence the operator asked for, read from MachineService.Events. Talos
// answers Upgrade and Reboot before their sequence runs; only its events say that the sequence was
// never started (another one held machined's lock: a NOOP LOCKED event, published without an actor)
// or that it failed (a NOOP FATAL event of the caller's actor). Without them, a locked upgrade
// followed by someone else's reboot looks like a rollback, and a failed one like a slow reboot.
import { z } from "zod";
import type { SequenceOutcome } from "../model/observation.ts";
import type { TalosClient } from "./client.ts";
import type { Event__Output } from "./generated/machine/Event.ts";
import { decodeMessage } from "./proto.ts";

/** Talos' verdict on the sequence of a call made from the boot `bootId`. */
export type SequenceVerdict = { bootId: string } & SequenceOutcome;

/** The sequences the operator asks for: the legacy upgrade's, and the reboot of the upgrade API. */
export type FollowedSequence = "upgrade" | "stageUpgrade" | "reboot";

const sequenceEventType = "machine.SequenceEvent";

const sequenceEventSchema = z.object({
  sequence: z.string(),
  action: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
});

interface Follow {
  controller: AbortController;
  bootId: string;
  sequence: FollowedSequence;
  /** The call's actor, once Talos has answered it. */
  actorId?: string;
  verdict?: SequenceVerdict;
}

/** How long the call waits for the stream to open: Talos' hello comes within a round trip. */
const openingMs = 2_000;

/** A verdict read from one machine event, for a call of `actorId` asking for `sequence`. */
export function verdictOf(
  event: Event__Output,
  sequence: FollowedSequence,
  actorId: string | undefined,
  bootId: string,
): SequenceVerdict | undefined {
  const type = event.data?.type_url.split("/").at(-1);
  if (type !== sequenceEventType || !event.data) return undefined;
  const parsed = sequenceEventSchema.safeParse(decodeMessage(sequenceEventType, event.data.value));
  if (!parsed.success) return undefined;
  const { data } = parsed;
  if (data.sequence !== sequence || data.action !== "NOOP" || !data.error) return undefined;
  // Talos publishes LOCKED outside the call's context: no actor says whose call it was. The stream
  // is opened just before the call, so a LOCKED for this sequence is this call's.
  if (data.error.code === "LOCKED" && event.actorId === "") return { bootId, outcome: "locked" };
  if (data.error.code === "FATAL" && actorId !== undefined && event.actorId === actorId)
    return { bootId, outcome: "failed", message: data.error.message };
  return undefined;
}

/**
 * Per plan and machine, the events of the last sequence asked for, followed from just before the
 * call until a verdict, the machine going down (which ends the stream) or the plan letting go.
 */
export class SequenceEvents {
  private readonly follows = new Map<string, Follow>();
  private readonly wake: (plan: string) => void;

  constructor(wake: (plan: string) => void) {
    this.wake = wake;
  }

  /**
   * Makes `call` (which asks the machine for `sequence` and resolves to the call's actor ID) with
   * the machine's events followed: the stream is opened first and the call made once Talos has
   * said it streams (its hello), so no event of the sequence comes before it. A stream that does
   * not open in time does not hold the call back; its verdict is then unknown.
   */
  async around(
    plan: string,
    client: TalosClient,
    address: string,
    bootId: string,
    sequence: FollowedSequence,
    call: () => Promise<string>,
  ): Promise<void> {
    const key = `${plan}/${address}`;
    this.follows.get(key)?.controller.abort();
    const follow: Follow = { controller: new AbortController(), bootId, sequence };
    this.follows.set(key, follow);
    const buffered: Event__Output[] = [];
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const judge = (event: Event__Output) => {
      if (follow.verdict) return;
      const verdict = verdictOf(event, sequence, follow.actorId, bootId);
      if (!verdict) return;
      follow.verdict = verdict;
      follow.controller.abort();
      this.wake(plan);
    };
    void client
      .stream<Event__Output>(
        "machine",
        "Events",
        { tailEvents: 0 },
        address,
        (event) => {
          // The hello: an event of no type (machined's empty event, sent as the stream starts).
          if (!event.data?.type_url) return opened();
          // Until the call has answered, its actor is unknown: its events wait for it.
          if (follow.actorId === undefined) buffered.push(event);
          else judge(event);
        },
        { signal: follow.controller.signal, open: true },
      )
      .catch(() => undefined)
      .finally(opened);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([open, new Promise((resolve) => (timer = setTimeout(resolve, openingMs)))]);
    clearTimeout(timer);
    try {
      follow.actorId = await call();
    } catch (error) {
      // Refused: no sequence to follow.
      follow.controller.abort();
      this.follows.delete(key);
      throw error;
    }
    for (const event of buffered.splice(0)) judge(event);
  }

  /** Talos' verdict on the last sequence asked of the machine, if its events gave one. */
  verdict(plan: string, address: string): SequenceVerdict | undefined {
    return this.follows.get(`${plan}/${address}`)?.verdict;
  }

  /** Keeps what is known of these machines for the plan; the rest is let go. */
  keep(plan: string, addresses: string[]): void {
    const wanted = new Set(addresses.map((a) => `${plan}/${a}`));
    for (const [key, follow] of this.follows) {
      if (key.startsWith(`${plan}/`) && !wanted.has(key)) {
        follow.controller.abort();
        this.follows.delete(key);
      }
    }
  }

  stop(): void {
    for (const follow of this.follows.values()) follow.controller.abort();
    this.follows.clear();
  }
}
