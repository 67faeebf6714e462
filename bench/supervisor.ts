// The operator as its Deployment keeps it: a process that exits on its own (the operator ends
// itself when it loses its Lease, as its design says) is started again, and what every run of it
// spent counts. A dead process's /proc is gone, so each run is read while it lives (the bench's
// poll does it every 100 ms) and counted as last read.
import type { ManagedProcess } from "../testkit/control-plane/process.ts";
import { type ProcUsage, procUsage } from "./proc.ts";

export interface Supervised<P extends ManagedProcess> {
  /** The run that lives now (or the last one, once the restarts are spent). */
  current(): P;
  /** How many times a run exited on its own and another was started. */
  restarts(): number;
  /** Reads the current run's usage; a run that is gone keeps its last reading. */
  sample(): void;
  /** CPU seconds of every run and the highest peak RSS of any, as last read; RSS of the current run. */
  usage(): ProcUsage;
  /** Stops the current run and starts no other. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  ticksPerSecond: number;
  /** Runs started again at most; a process that keeps exiting is left down (a crash loop is a failure). */
  maxRestarts: number;
  /** Told each restart: the exit code of the run that ended, and the count so far. */
  restarted?: (code: number | null, restarts: number) => void;
}

export function supervise<P extends ManagedProcess>(
  start: () => P,
  options: SuperviseOptions,
): Supervised<P> {
  let run = start();
  let last: ProcUsage | undefined;
  let restarts = 0;
  let stopped = false;
  const ended: ProcUsage[] = [];
  const sample = () => {
    try {
      const reading = procUsage(run.pid, options.ticksPerSecond);
      // An exited process not yet reaped (a zombie) shows no memory: its last reading stands.
      if (Number.isFinite(reading.peakRssMiB)) last = reading;
    } catch {
      // Gone between its exit and the exit event: its last reading stands.
    }
  };
  const follow = (watched: P) => {
    void watched.exited.then((code) => {
      if (stopped || watched !== run) return;
      if (last) ended.push(last);
      last = undefined;
      if (restarts >= options.maxRestarts) return;
      restarts++;
      run = start();
      options.restarted?.(code, restarts);
      follow(run);
    });
  };
  follow(run);
  return {
    current: () => run,
    restarts: () => restarts,
    sample,
    usage: () => {
      const runs = last ? [...ended, last] : ended;
      return {
        rssMiB: last?.rssMiB ?? 0,
        peakRssMiB: Math.max(0, ...runs.map((u) => u.peakRssMiB)),
        cpuSeconds: runs.reduce((sum, u) => sum + u.cpuSeconds, 0),
      };
    },
    stop: async () => {
      stopped = true;
      await run.stop();
    },
  };
}
