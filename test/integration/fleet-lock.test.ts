// The fleet lock on the real apiserver: one holder at a time, a held lock refused, a stale holder
// taken over, two passes racing for a free lock (one wins, the other is told), and release.
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { FleetLock } from "../../src/kube/fleet-lock.ts";
import { ConflictError } from "../../src/kube/plans.ts";
import { sharedKubeconfigPath, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";

const kc = new KubeConfig();
kc.loadFromFile(sharedKubeconfigPath());
const leases = kc.makeApiClient(CoordinationV1Api);
const holderOf = async (name: string) =>
  (await leases.readNamespacedLease({ namespace: "default", name })).spec?.holderIdentity;
const holds = () => true;
const released = () => false;

it("one plan holds the fleet; another is told who, takes over only a stale holder, and release gives it back", async () => {
  const name = uniqueName("fleet");
  const lock = new FleetLock(kc, "default", name);
  expect(await lock.take("plan-a", holds)).toBeUndefined();
  expect(await lock.take("plan-a", holds)).toBeUndefined();
  expect(await lock.take("plan-b", holds)).toBe("plan-a");
  expect(await holderOf(name)).toBe("plan-a");
  // The holder is asked about with how long it has held the lock.
  const asked: number[] = [];
  await lock.take("plan-b", (_holder, heldForMs) => {
    asked.push(heldForMs);
    return true;
  });
  expect(asked).toHaveLength(1);
  expect(asked[0]).toBeGreaterThanOrEqual(0);
  expect(asked[0]).toBeLessThan(60_000);
  // A holder that no longer holds (deleted, or done before it could give the lock back).
  expect(await lock.take("plan-b", released)).toBeUndefined();
  expect(await holderOf(name)).toBe("plan-b");
  await lock.release("plan-a");
  expect(await holderOf(name)).toBe("plan-b");
  await lock.release("plan-b");
  expect(await holderOf(name)).toBe("");
  expect(await lock.take("plan-c", holds)).toBeUndefined();
  expect(await holderOf(name)).toBe("plan-c");
});

it("two passes racing for a free lock: exactly one takes it, the other gets a conflict or the winner's name", async () => {
  for (let round = 0; round < 5; round++) {
    const name = uniqueName("race");
    const [x, y] = [new FleetLock(kc, "default", name), new FleetLock(kc, "default", name)];
    const outcomes = await Promise.allSettled([x.take("plan-x", holds), y.take("plan-y", holds)]);
    const winner = await holderOf(name);
    expect(["plan-x", "plan-y"]).toContain(winner);
    const loser = winner === "plan-x" ? outcomes[1] : outcomes[0];
    const won = winner === "plan-x" ? outcomes[0] : outcomes[1];
    expect(won).toEqual({ status: "fulfilled", value: undefined });
    if (loser?.status === "rejected") expect(loser.reason).toBeInstanceOf(ConflictError);
    else expect(loser?.value).toBe(winner);
  }
});
