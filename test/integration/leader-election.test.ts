// Leader election on a real Lease: one winner among racing candidates, a take-over once the lease
// is released or expires, and a leader that loses its lease stops acting within the renew deadline.
import { CoordinationV1Api, type KubeConfig, V1MicroTime } from "@kubernetes/client-node";
import { LeaderElector } from "../../src/kube/leader.ts";
import { adminKubeConfig, uniqueName } from "../harness/shared-control-plane.ts";
import { waitUntil } from "../harness/wait.ts";

const timing = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 };

describe("leader election", () => {
  const kc: KubeConfig = adminKubeConfig();
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = "default";
  let name: string;
  const electors: LeaderElector[] = [];

  const candidate = (identity: string) => {
    const elector = new LeaderElector(kc, { namespace, name, identity, ...timing });
    electors.push(elector);
    return elector;
  };
  /** Starts campaigning; the promise settles true once leading, false if stopped before that. */
  const campaign = (elector: LeaderElector, onLost: () => void = () => undefined) =>
    elector.acquire(onLost).then(
      () => true,
      () => false,
    );
  const holder = async () => (await leases.readNamespacedLease({ namespace, name })).spec?.holderIdentity;

  beforeEach(() => {
    name = uniqueName("lease");
  });

  afterEach(async () => {
    for (const elector of electors.splice(0)) await elector.release();
  });

  it("lets exactly one of five racing candidates lead", async () => {
    const names = ["a", "b", "c", "d", "e"];
    const racers = names.map(candidate);
    const won = racers.map(() => false);
    racers.forEach((r, i) => {
      void campaign(r).then((leads) => {
        won[i] = leads;
      });
    });
    await waitUntil("someone leads", async () => racers.some((r) => r.isLeader()), { timeoutMs: 5_000 });
    // Several renewal rounds: the others keep trying, and still only one leads.
    for (let round = 0; round < 5; round++) {
      expect(racers.filter((r) => r.isLeader())).toHaveLength(1);
      expect(won.filter(Boolean)).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, timing.retryPeriodMs));
    }
    const leader = racers.findIndex((r) => r.isLeader());
    expect(await holder()).toBe(names[leader]);
  });

  it("hands over at once when the leader releases, and after expiry when it dies", async () => {
    const first = candidate("first");
    expect(await campaign(first)).toBe(true);
    const second = candidate("second");
    const secondWins = campaign(second);
    await new Promise((resolve) => setTimeout(resolve, timing.leaseDurationMs + 500));
    expect(second.isLeader()).toBe(false);
    const released = Date.now();
    await first.release();
    expect(await secondWins).toBe(true);
    expect(Date.now() - released).toBeLessThan(timing.leaseDurationMs);

    // A holder that stopped renewing (a dead process): its lease is taken once it expires.
    await second.release();
    const lease = await leases.readNamespacedLease({ namespace, name });
    await leases.replaceNamespacedLease({
      namespace,
      name,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "dead",
          leaseDurationSeconds: 2,
          renewTime: new V1MicroTime(),
        },
      },
    });
    const third = candidate("third");
    const startedAt = Date.now();
    expect(await campaign(third)).toBe(true);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(timing.leaseDurationMs - 1_000);
    expect(await holder()).toBe("third");
  });

  it("tells a leader whose lease was taken that it lost, within the renew deadline", async () => {
    const leader = candidate("leader");
    let lostAt: number | undefined;
    expect(await campaign(leader, () => (lostAt = Date.now()))).toBe(true);
    const lease = await leases.readNamespacedLease({ namespace, name });
    const takenAt = Date.now();
    await leases.replaceNamespacedLease({
      namespace,
      name,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "thief", renewTime: new V1MicroTime() } },
    });
    await waitUntil("the loss is reported", async () => lostAt !== undefined, { timeoutMs: 5_000 });
    expect(leader.isLeader()).toBe(false);
    expect((lostAt as number) - takenAt).toBeLessThanOrEqual(
      timing.renewDeadlineMs + timing.retryPeriodMs + 500,
    );
    expect(await holder()).toBe("thief");
  });

  it("hands the lease back when stopped while taking it", async () => {
    const quitter = candidate("quitter");
    const leads = campaign(quitter);
    // Stopped while its first attempt, which creates the Lease, is on the wire.
    await quitter.release();
    expect(await leads).toBe(false);
    expect(quitter.isLeader()).toBe(false);
    expect(await holder()).toBe("");
  });
});
