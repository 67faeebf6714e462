// Talos-side watches for the nodes a plan is working on: a COSI watch on each node's MachineStatus,
// so a reboot's end is seen when it happens instead of at the next poll. A stream that ends (the
// node went down) is reopened with a growing pause; every event or end wakes the plan.
// While a stream stays open the machine has not rebooted (a reboot ends it), so its last state
// stands in for polling the machine's status and boot each pass.
import type { TalosClient } from "./client.ts";
import type { WatchResponse__Output } from "./generated/cosi/resource/WatchResponse.ts";
import { machineStatusOf, type WatchedMachine } from "./machine-status.ts";

interface Watch {
  controller: AbortController;
  client: TalosClient;
  live?: WatchedMachine;
  /** When the stream under way was asked for. */
  openedAt?: number;
  /** Ends the pause before the stream is opened again. */
  resume?: () => void;
}

/** How long a stream being opened is waited for: its first event usually comes within tens of ms. */
const openingMs = 1_000;

let streams = 0;

export class MachineWatches {
  private readonly watches = new Map<string, Watch>();
  private readonly wake: (plan: string) => void;

  constructor(wake: (plan: string) => void) {
    this.wake = wake;
  }

  /**
   * Watches exactly these node addresses for the plan, opening and closing streams as needed. A
   * stream opened with another client (the talosconfig rotated) is reopened with this one, before
   * the old certificate expires under it.
   */
  set(plan: string, client: TalosClient | undefined, addresses: string[]): void {
    const wanted = new Set(client ? addresses.map((a) => `${plan}/${a}`) : []);
    for (const [key, watch] of this.watches) {
      if (key.startsWith(`${plan}/`) && (!wanted.has(key) || watch.client !== client)) {
        watch.controller.abort();
        this.watches.delete(key);
      }
    }
    if (!client) return;
    for (const address of addresses) {
      const key = `${plan}/${address}`;
      if (this.watches.has(key)) continue;
      const watch = { controller: new AbortController(), client };
      this.watches.set(key, watch);
      void this.run(plan, client, address, watch);
    }
  }

  /** The machine's status, while a stream that has delivered it is still open. */
  machine(plan: string, address: string): WatchedMachine | undefined {
    return this.watches.get(`${plan}/${address}`)?.live;
  }

  /**
   * Whether a stream was asked for moments ago and has not delivered yet: its first event, which
   * wakes the plan, will give the machine's status and, from then on, the proof of its boot.
   */
  opening(plan: string, address: string): boolean {
    const watch = this.watches.get(`${plan}/${address}`);
    return (
      watch !== undefined &&
      watch.live === undefined &&
      watch.openedAt !== undefined &&
      Date.now() - watch.openedAt < openingMs
    );
  }

  /**
   * The machine answered a read while its stream was down (back from a reboot): the stream is
   * opened again now rather than after the rest of its pause, so the next read takes the status
   * and the boot's proof from it instead of reading them again.
   */
  hasten(plan: string, address: string): void {
    this.watches.get(`${plan}/${address}`)?.resume?.();
  }

  stop(): void {
    for (const watch of this.watches.values()) watch.controller.abort();
    this.watches.clear();
  }

  private async run(plan: string, client: TalosClient, address: string, watch: Watch): Promise<void> {
    const signal = watch.controller.signal;
    let pause = 250;
    while (!signal.aborted) {
      let events = 0;
      const stream = ++streams;
      watch.openedAt = Date.now();
      await client
        .stream<WatchResponse__Output>(
          "state",
          "Watch",
          {
            namespace: "runtime",
            type: "MachineStatuses.runtime.talos.dev",
            id: "machine",
            apiVersion: 1,
            options: { tailEvents: 0 },
          },
          address,
          (message: WatchResponse__Output) => {
            // Talos opens a watch with an empty message; then the current state; then changes.
            if (message.event.length === 0) return;
            const resource = message.event.at(-1)?.resource;
            if (resource) watch.live = { stream, ...machineStatusOf(resource) };
            events++;
            this.wake(plan);
          },
          { signal, open: true },
        )
        .catch(() => undefined);
      delete watch.live;
      delete watch.openedAt;
      if (signal.aborted) return;
      this.wake(plan);
      if (events > 0) pause = 250;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        watch.resume = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delete watch.resume;
      pause = Math.min(pause * 2, 5_000);
    }
  }
}
