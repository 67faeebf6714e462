// Leader election on a coordination.k8s.io Lease, as client-go does it: acquire when free or
// expired, renew every retry period, and stop acting at once when a renewal cannot be made within
// the renew deadline. Writes carry the read resourceVersion, so two candidates cannot both win.
// Expiry is judged by this process' own clock, from when it last saw the lease record change:
// another host's renewTime says nothing about this one's clock.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { httpStatus } from "./client.ts";

interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly options: LeaderOptions;
  private lastRenew = 0;
  /** The lease record last seen (holder, renewTime, resourceVersion) and when, by the local clock. */
  private observed = { record: "", at: 0 };
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  /** The renewal under way, if any: a release waits for it, or it would take the lease back. */
  private renewing: Promise<unknown> | undefined;
  private stopped = false;

  constructor(kc: KubeConfig, options: LeaderOptions) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.options = options;
  }

  /** True only while the lease is held and was renewed within the renew deadline. */
  isLeader(): boolean {
    return this.leading && Date.now() - this.lastRenew < this.options.renewDeadlineMs;
  }

  /** Resolves once this candidate leads; `onLost` is called if it then loses the lease. */
  async acquire(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error("leader election stopped");
      if (await this.tryAcquireOrRenew().catch(() => false)) {
        if (!this.stopped) break;
        // Stopped while the lease was being taken: hand it back rather than hold it to expiry.
        await this.handBack();
        throw new Error("leader election stopped");
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryPeriodMs));
    }
    this.leading = true;
    const renew = async () => {
      // A renewal that hangs is cut at the renew deadline: the leader stops acting then, not when
      // the request finally fails.
      const left = this.lastRenew + this.options.renewDeadlineMs - Date.now();
      let timeout: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => {
        timeout = setTimeout(() => resolve(false), Math.max(0, left));
      });
      const attempt = this.tryAcquireOrRenew().catch(() => false);
      this.renewing = attempt;
      const renewed = await Promise.race([attempt, deadline]);
      clearTimeout(timeout);
      if (!renewed && Date.now() - this.lastRenew >= this.options.renewDeadlineMs) {
        this.leading = false;
        onLost();
        return;
      }
      if (!this.stopped) this.timer = setTimeout(renew, this.options.retryPeriodMs);
    };
    this.timer = setTimeout(renew, this.options.retryPeriodMs);
  }

  /** Gives the lease up so that another replica takes over without waiting for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    // A renewal in flight would write after the hand-back (taking the lease back) or make its
    // write conflict; the hand-back goes once it has landed.
    await Promise.race([
      this.renewing,
      new Promise((resolve) => setTimeout(resolve, this.options.renewDeadlineMs).unref()),
    ]);
    await this.handBack();
  }

  private async handBack(): Promise<void> {
    const lease = await this.read().catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.options.identity) return;
    await this.api
      .replaceNamespacedLease({
        namespace: this.options.namespace,
        name: this.options.name,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 } },
      })
      .catch(() => undefined);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({
        namespace: this.options.namespace,
        name: this.options.name,
      });
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = new V1MicroTime();
    const seconds = Math.ceil(leaseDurationMs / 1000);
    const lease = await this.read();
    if (!lease) {
      await this.api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
      });
      this.lastRenew = Date.now();
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const record = `${holder}/${String(spec.renewTime ?? "")}/${lease.metadata?.resourceVersion ?? ""}`;
    if (record !== this.observed.record) this.observed = { record, at: Date.now() };
    const expired = this.observed.at + (spec.leaseDurationSeconds ?? seconds) * 1000 < Date.now();
    if (holder !== identity && holder !== "" && !expired) return false;
    const taking = holder !== identity;
    await this.api.replaceNamespacedLease({
      namespace,
      name,
      body: {
        ...lease,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: seconds,
          renewTime: now,
          acquireTime: taking ? now : spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (taking ? 1 : 0),
        },
      },
    });
    this.lastRenew = Date.now();
    return true;
  }
}
