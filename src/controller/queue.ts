// A per-key serialized work queue: a key is never worked on twice at once; a key added while it
// is being worked on runs once more afterwards; failures come back with growing delays.
/**
 * Node fires a timer longer than 2^31-1 ms at once: a window a month away would make a busy loop.
 * Looking again earlier is harmless (every pass recomputes), so long delays are capped.
 */
export const maxTimerMs = 2 ** 31 - 1;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private stopped = false;
  private readonly work: (key: string) => Promise<number | undefined>;
  private readonly onError: (key: string, error: unknown) => void;

  /** `work` returns a delay after which to look at the key again, or undefined. */
  constructor(
    work: (key: string) => Promise<number | undefined>,
    onError: (key: string, error: unknown) => void,
  ) {
    this.work = work;
    this.onError = onError;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.pending.add(key);
      return;
    }
    this.running.add(key);
    void this.process(key);
  }

  addAfter(key: string, delayMs: number): void {
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.set(
      key,
      setTimeout(
        () => {
          this.timers.delete(key);
          this.add(key);
        },
        Math.min(delayMs, maxTimerMs),
      ),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  idle(): boolean {
    return this.running.size === 0;
  }

  private async process(key: string): Promise<void> {
    try {
      const after = await this.work(key);
      this.failures.delete(key);
      if (after !== undefined && !this.stopped) this.addAfter(key, after);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.onError(key, error);
      if (!this.stopped) this.addAfter(key, Math.min(250 * 2 ** failures, 60_000));
    } finally {
      this.running.delete(key);
      if (this.pending.delete(key)) this.add(key);
    }
  }
}
