// Keeps one operator process running, as a Deployment's kubelet would: whenever it exits (killed by
// the test, or on its own, e.g. after losing its Lease while the kube-apiserver was away), a new
// one starts after a delay. Counts the kills the test made and the exits it did not.
import type { OperatorProcess } from "./operator-process.ts";

export class OperatorSupervisor {
  kills = 0;
  /** Exits the test did not cause (the operator stopping itself). */
  selfExits = 0;
  restarts = 0;
  private current: OperatorProcess;
  private readonly start: () => OperatorProcess;
  private readonly restartDelayMs: () => number;
  private killing = false;
  private stopped = false;
  private pending: Promise<void> = Promise.resolve();

  constructor(first: OperatorProcess, start: () => OperatorProcess, restartDelayMs: () => number) {
    this.current = first;
    this.start = start;
    this.restartDelayMs = restartDelayMs;
    this.watch(first);
  }

  get operator(): OperatorProcess {
    return this.current;
  }

  /** SIGKILLs the running operator; a new one starts after the restart delay. */
  async kill(): Promise<void> {
    await this.pending;
    if (!this.current.running()) return;
    this.killing = true;
    await this.current.kill();
    this.kills++;
    this.killing = false;
    await this.pending;
  }

  /** No more restarts; the last operator keeps running (the scenario stops it). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pending;
  }

  private watch(proc: OperatorProcess): void {
    void proc.exited.then(() => {
      if (this.stopped || proc !== this.current) return;
      if (!this.killing) this.selfExits++;
      this.pending = new Promise<void>((resolve) => {
        setTimeout(() => {
          if (!this.stopped) {
            this.restarts++;
            this.current = this.start();
            this.watch(this.current);
          }
          resolve();
        }, this.restartDelayMs());
      });
    });
  }
}
