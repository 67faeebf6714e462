// A node's event log, like machined's: a bounded in-memory buffer (lost on reboot) that streams
// to subscribers. Payloads are typed by the full proto message name, as Talos' Any type URLs are.
import { randomBytes } from "node:crypto";

export interface FleetEvent {
  id: string;
  actorId: string;
  /** Full proto name, e.g. `machine.SequenceEvent`. */
  type: string;
  payload: Record<string, unknown>;
  at: number;
}

type Listener = (event: FleetEvent) => void;

const capacity = 1000;
let counter = 0;

/** Event IDs sort by time like Talos' xids: a time prefix, a counter, then randomness. */
export function nextId(): string {
  counter = (counter + 1) % 0xffffff;
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, "0");
  return `${time}${counter.toString(16).padStart(6, "0")}${randomBytes(3).toString("hex")}`;
}

export class EventLog {
  private buffer: FleetEvent[] = [];
  private listeners = new Set<Listener>();

  emit(type: string, payload: Record<string, unknown>, actorId = ""): FleetEvent {
    const event = { id: nextId(), actorId, type, payload, at: Date.now() };
    this.buffer.push(event);
    if (this.buffer.length > capacity) this.buffer.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Buffered events per `tail_events` (-1 all, N the last N, 0 none), `tail_id` and `tail_seconds`. */
  backlog(request: { tailEvents: number; tailId: string; tailSeconds: number }): FleetEvent[] {
    if (request.tailId) {
      const index = this.buffer.findIndex((e) => e.id === request.tailId);
      return index < 0 ? [] : this.buffer.slice(index + 1);
    }
    if (request.tailSeconds > 0) {
      const since = Date.now() - request.tailSeconds * 1000;
      return this.buffer.filter((e) => e.at >= since);
    }
    if (request.tailEvents < 0) return [...this.buffer];
    return request.tailEvents > 0 ? this.buffer.slice(-request.tailEvents) : [];
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A reboot loses the buffer, as machined's memory does. */
  clear(): void {
    this.buffer = [];
  }
}
