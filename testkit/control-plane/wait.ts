// Polling with a deadline, for readiness checks and for tests that wait on real controllers.

/** Polls `probe` until it returns true; fails with `describe()` when `timeoutMs` passes or `alive()` turns false. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => boolean; describe?: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    const detail = options.describe ? `\n${options.describe()}` : "";
    if (options.alive && !options.alive()) throw new Error(`${what}: the process exited${detail}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${options.timeoutMs} ms${detail}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
