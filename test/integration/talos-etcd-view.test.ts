// What the Etcd gate sees, read by the operator's own Talos client (its os:operator talosconfig)
// from the simulated fleet over the wire: members and their health from every control plane,
// and the alarms their status carries, each problem named in the message.
import type { TalosClient } from "../../src/talos/client.ts";
import { etcdView } from "../../src/talos/machine.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor } from "../harness/talos-client.ts";

describe("etcd as the operator sees it", () => {
  let fleet: Fleet;
  let client: TalosClient;
  let controlPlanes: { address: string; addresses: string[] }[];

  beforeEach(async () => {
    fleet = await Fleet.start({ controlPlanes: 3, workers: 1, talosVersion: "v1.12.4" });
    client = clientFor(fleet.talosconfig.operator);
    controlPlanes = fleet.controlPlanes().map((n) => ({ address: n.address, addresses: [n.address] }));
  });

  afterEach(async () => {
    client.close();
    await fleet.stop();
  });

  it("is healthy when every member answers and no alarm is raised", async () => {
    expect(await etcdView(client, controlPlanes)).toEqual({
      healthy: true,
      members: 3,
      healthyMembers: 3,
      message: "3/3 voting members healthy",
    });
  });

  it("names an unhealthy member and a raised alarm, in that order", async () => {
    const cp2 = fleet.node("cp-2");
    fleet.inject(cp2.hostname, { etcdUnhealthy: true, etcdAlarm: "NOSPACE" });
    const view = await etcdView(client, controlPlanes);
    expect(view).toMatchObject({ healthy: false, members: 3, healthyMembers: 2 });
    const [member, alarm, ...rest] = view.message.split("; ");
    expect(member).toContain(cp2.address);
    expect(alarm).toBe(`alarm NOSPACE on member ${BigInt(`0x${fleet.memberId(cp2)}`).toString()}`);
    expect(rest).toEqual([]);
  });

  it("names an alarm once, from the status every member reports, without counting a member unhealthy", async () => {
    const cp3 = fleet.node("cp-3");
    fleet.inject(cp3.hostname, { etcdAlarm: "CORRUPT" });
    expect(await etcdView(client, controlPlanes)).toEqual({
      healthy: false,
      members: 3,
      healthyMembers: 3,
      message: `alarm CORRUPT on member ${BigInt(`0x${fleet.memberId(cp3)}`).toString()}`,
    });
  });

  it("names an etcd member that is not a control plane node: a machine gone, still counted for quorum", async () => {
    fleet.etcdDrift.stale.push("old-cp");
    const view = await etcdView(client, controlPlanes);
    expect(view).toMatchObject({ healthy: false, members: 4, healthyMembers: 3 });
    expect(view.message).toBe("etcd members that are not control plane nodes: old-cp (192.0.2.1)");
  });

  it("counts a control plane whose Talos API does not answer as a problem", async () => {
    const cp3 = fleet.node("cp-3");
    cp3.apidOutage(10_000);
    const view = await etcdView(client, controlPlanes);
    expect(view.healthy).toBe(false);
    expect(view.healthyMembers).toBe(2);
    expect(view.message).toContain(cp3.address);
  });

  it("counts voters only: a learner is neither a member for quorum nor a healthy one", async () => {
    fleet.inject(fleet.node("cp-3").hostname, { etcdLearner: true });
    expect(await etcdView(client, controlPlanes)).toEqual({
      healthy: true,
      members: 2,
      healthyMembers: 2,
      message: "2/2 voting members healthy",
    });
  });

  it("takes the silence of the control plane being upgraded as expected, not as a failure", async () => {
    const cp1 = fleet.node("cp-1");
    cp1.apidOutage(10_000);
    const view = await etcdView(client, controlPlanes, new Set([cp1.address]));
    expect(view).toEqual({
      healthy: true,
      members: 3,
      healthyMembers: 2,
      message: `2/3 voting members healthy; ${cp1.address} down for its upgrade`,
      silent: [cp1.address],
    });
  });
});
