// Leader election on a real Lease: one winner among racing candidates, a take-over once the lease
// is released or expires, and a leader that loses its lease stops acting within the renew deadline.
import { connect, createServer, type Server, type Socket } from "node:net";
import { CoordinationV1Api, KubeConfig, V1MicroTime } from "@kubernetes/client-node";
import { LeaderElector } from "../../src/kube/leader.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";

const timing = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 };

describe("leader election", () => {
  const kc: KubeConfig = adminKubeConfig();
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = "default";
  let name: string;
  const electors: LeaderElector[] = [];

  const candidate = (identity: string, times: typeof timing = timing) => {
    const elector = new LeaderElector(kc, { namespace, name, identity, ...times });
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
  /**
   * The attempts of a candidate that read the lease and found it held by another, not expired, with
   * the time each was refused: the candidate's own word that it has seen the holder and kept off.
   */
  const refusals = (elector: LeaderElector): number[] => {
    const seen: number[] = [];
    const candidate = elector as unknown as { tryAcquireOrRenew: () => Promise<boolean> };
    const attempt = candidate.tryAcquireOrRenew.bind(elector);
    candidate.tryAcquireOrRenew = async () => {
      const won = await attempt();
      if (!won) seen.push(Date.now());
      return won;
    };
    return seen;
  };

  beforeEach(() => {
    name = uniqueName("lease");
  });

  afterEach(async () => {
    for (const elector of electors.splice(0)) await elector.release();
  });

  it("lets exactly one of five racing candidates lead", async () => {
    const names = ["a", "b", "c", "d", "e"];
    // A renew deadline well above a loaded machine's stalls: a leader that steps down because its
    // renewal was late is right to, but it is not what this case looks at.
    const roomy = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 200 };
    const racers = names.map((identity) => candidate(identity, roomy));
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
      await new Promise((resolve) => setTimeout(resolve, roomy.retryPeriodMs));
    }
    const leader = racers.findIndex((r) => r.isLeader());
    expect(await holder()).toBe(names[leader]);
  });

  it("hands over at once when the leader releases, and after expiry when it dies", async () => {
    // A long lease here, so that "at once" is told apart from "after expiry" on a loaded machine.
    const long = { leaseDurationMs: 12_000, renewDeadlineMs: 9_000, retryPeriodMs: 200 };
    const first = candidate("first", long);
    expect(await campaign(first)).toBe(true);
    const second = candidate("second", long);
    const kept = refusals(second);
    const secondWins = campaign(second);
    // The second keeps off while the first renews: refused on several attempts, across renewals.
    await waitUntil("the second refused on three attempts", async () => kept.length >= 3, {
      timeoutMs: 10_000,
    });
    expect(second.isLeader()).toBe(false);
    const released = Date.now();
    await first.release();
    expect(await secondWins).toBe(true);
    expect(Date.now() - released).toBeLessThan(long.leaseDurationMs / 2);

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
    // isLeader() answers from the last renewal, so it is false at the deadline whatever the load;
    // the callback follows on the next renewal attempt.
    await new Promise((resolve) => setTimeout(resolve, takenAt + timing.renewDeadlineMs - Date.now()));
    expect(leader.isLeader()).toBe(false);
    await waitUntil("the loss is reported", async () => lostAt !== undefined, { timeoutMs: 5_000 });
    expect((lostAt as number) - takenAt).toBeLessThanOrEqual(
      timing.renewDeadlineMs + timing.retryPeriodMs + 1_500,
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

  it("judges expiry by its own clock: a holder whose clock runs an hour behind keeps the lease while it renews", async () => {
    const hourAgo = () => new V1MicroTime(Date.now() - 3_600_000);
    await leases.createNamespacedLease({
      namespace,
      body: {
        metadata: { name, namespace },
        spec: {
          holderIdentity: "skewed",
          leaseDurationSeconds: 2,
          renewTime: hourAgo(),
          acquireTime: hourAgo(),
        },
      },
    });
    let renewing = true;
    const renewals = (async () => {
      while (renewing) {
        const lease = await leases.readNamespacedLease({ namespace, name });
        await leases.replaceNamespacedLease({
          namespace,
          name,
          body: { ...lease, spec: { ...lease.spec, renewTime: hourAgo() } },
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    const patient = candidate("patient");
    const kept = refusals(patient);
    const leads = campaign(patient);
    // Refused on an attempt made more than a lease duration after it first saw the lease (a
    // retry period more for slack): one that went by renewTime, or by when it first saw the lease,
    // would have taken it by then.
    await waitUntil(
      "the patient candidate refused a lease duration after its first look",
      async () =>
        kept.length > 0 &&
        (kept.at(-1) as number) - (kept[0] as number) > timing.leaseDurationMs + timing.retryPeriodMs,
      { timeoutMs: 5 * timing.leaseDurationMs, describe: () => `refused at ${kept.join(", ")}` },
    );
    expect(patient.isLeader()).toBe(false);
    expect(await holder()).toBe("skewed");
    renewing = false;
    await renewals;
    const stoppedAt = Date.now();
    expect(await leads).toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(timing.leaseDurationMs + 1_500);
    expect(await holder()).toBe("patient");
  });

  it("stops leading at the renew deadline when a renewal hangs, not when the request gives up", async () => {
    // The leader talks to the apiserver through a proxy that can stop passing bytes, as a network
    // that drops packets without resetting connections does.
    const target = new URL(kc.getCurrentCluster()?.server ?? "");
    let frozen = false;
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((client) => {
      sockets.add(client);
      if (frozen) return;
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const address = proxy.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const proxied = new KubeConfig();
    proxied.loadFromString(kc.exportConfig());
    const cluster = proxied.getCurrentCluster();
    proxied.clusters = proxied.clusters.map((c) =>
      c.name === cluster?.name ? { ...c, server: `https://127.0.0.1:${port}` } : c,
    );
    const leader = new LeaderElector(proxied, { namespace, name, identity: "behind-proxy", ...timing });
    electors.push(leader);
    let lostAt: number | undefined;
    try {
      expect(await campaign(leader, () => (lostAt = Date.now()))).toBe(true);
      frozen = true;
      for (const socket of sockets) socket.pause();
      const frozenAt = Date.now();
      await waitUntil("the loss is reported", async () => lostAt !== undefined, { timeoutMs: 10_000 });
      expect(leader.isLeader()).toBe(false);
      expect((lostAt as number) - frozenAt).toBeLessThanOrEqual(
        timing.renewDeadlineMs + timing.retryPeriodMs + 1_500,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
