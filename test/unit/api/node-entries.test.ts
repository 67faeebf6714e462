// The Talos phase's node entries as stored and as parsed: whole within the budget; past it, worker
// entries with nothing but a state become names, and parsing gives the decision core back every
// entry, in upgrade order.
import fc from "fast-check";
import { withoutEmptyMessage } from "../../../src/api/v1alpha1/kubernetes-status.ts";
import {
  finishedWorkersKept,
  type NodeStatus,
  storedEntries,
  upgradeOrder,
  wholeEntriesBytes,
} from "../../../src/api/v1alpha1/node-entries.ts";
import { type PlanStatus, planStatusSchema, storedStatus } from "../../../src/api/v1alpha1/plan.ts";
import { decide } from "../../../src/core/decide.ts";
import { aK8sNode } from "../builders/nodes.ts";
import { anObservation } from "../builders/observations.ts";
import { anEntry, aPlan, aStatus, previousVersion, targetVersion } from "../builders/plans.ts";

const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 2, minute)).toISOString();

/** What the apiserver hands back for the entries stored with `budget`, parsed as the operator parses it. */
function roundTrip(entries: NodeStatus[], budget: number): NodeStatus[] {
  const stored = { ...storedEntries(entries, withoutEmptyMessage, budget), conditions: [], history: [] };
  return planStatusSchema.parse(JSON.parse(JSON.stringify(stored))).nodes;
}

const done = (name: string, minute: number, extra: Partial<NodeStatus> = {}) =>
  anEntry(name, "Done", { startedAt: at(minute), finishedAt: at(minute + 1), ...extra });

describe("the node entries as stored", () => {
  const entries = [
    done("cp-1", 0),
    done("worker-01", 1),
    anEntry("worker-02", "Done", {
      fromVersion: targetVersion,
      attempts: 0,
      message: `already at ${targetVersion}`,
    }),
    anEntry("worker-03", "Done", {
      fromVersion: targetVersion,
      attempts: 0,
      message: `already at ${targetVersion}`,
    }),
    ...Array.from({ length: finishedWorkersKept }, (_, i) => done(`worker-1${i}`, 10 + i)),
    anEntry("worker-30", "Draining", { startedAt: at(30), message: "draining, 3 pod(s) left" }),
    anEntry("worker-31", "Failed", { startedAt: at(30), reason: "NodeTimeout", message: "unreachable" }),
    anEntry("worker-32", "Done", { startedAt: at(2), finishedAt: at(3), image: "installer:v1.12.4" }),
    anEntry("worker-40", "Pending"),
    anEntry("worker-41", "Pending", { message: "waiting for the Talos API: connection refused" }),
    anEntry("worker-42", "Pending", { fromVersion: "v1.10.8", version: "v1.11.6" }),
    anEntry("worker-43", "Pending"),
  ];

  it("is whole while the entries fit the budget", () => {
    const stored = storedEntries(entries, withoutEmptyMessage);
    expect(Buffer.byteLength(JSON.stringify(stored.nodes))).toBeLessThan(wholeEntriesBytes);
    expect(stored).toEqual({ nodes: entries.map(withoutEmptyMessage) });
  });

  it("past the budget, names plain workers by what they share, and keeps whole what has more to say", () => {
    const stored = storedEntries(entries, withoutEmptyMessage, 0);
    expect(stored.workerNodes).toEqual([
      { fromVersion: previousVersion, version: targetVersion, attempts: 1, pending: [], done: ["worker-01"] },
      {
        fromVersion: targetVersion,
        version: targetVersion,
        message: `already at ${targetVersion}`,
        pending: [],
        done: ["worker-02", "worker-03"],
      },
      { fromVersion: previousVersion, version: targetVersion, pending: ["worker-40", "worker-43"], done: [] },
      {
        fromVersion: previousVersion,
        version: targetVersion,
        message: "waiting for the Talos API: connection refused",
        pending: ["worker-41"],
        done: [],
      },
      { fromVersion: "v1.10.8", version: "v1.11.6", pending: ["worker-42"], done: [] },
    ]);
    // The control plane, the latest to finish, the one in flight, the failure, and the Done one
    // whose installer is still to be written.
    expect(stored.nodes.map((e) => e.name)).toEqual([
      "cp-1",
      ...Array.from({ length: finishedWorkersKept }, (_, i) => `worker-1${i}`),
      "worker-30",
      "worker-31",
      "worker-32",
    ]);
  });

  it("parses back to every entry in its place; a named done entry keeps all but its times", () => {
    const worker01 = entries[1] as NodeStatus;
    const { startedAt: _s, finishedAt: _f, ...bare } = worker01;
    expect(roundTrip(entries, 0)).toEqual(entries.map((e) => (e === worker01 ? bare : e)));
  });

  it("reads a name both whole and grouped, or grouped twice, once: whole, or as first grouped", () => {
    const status = {
      nodes: [{ name: "worker-02", role: "worker", state: "Draining", message: "draining" }],
      workerNodes: [
        { version: targetVersion, done: ["worker-01", "worker-02"] },
        { version: targetVersion, pending: ["worker-01", "worker-03"] },
      ],
    };
    expect(planStatusSchema.parse(status).nodes.map((e) => `${e.name}:${e.state}`)).toEqual([
      "worker-01:Done",
      "worker-02:Draining",
      "worker-03:Pending",
    ]);
  });

  it("keeps whole the first worker to start, whose time the plan's history keeps", () => {
    const workers = Array.from({ length: 30 }, (_, i) =>
      done(`worker-${String(i).padStart(2, "0")}`, 40 - i),
    );
    const parsed = roundTrip(workers, 0);
    const timed = parsed.filter((e) => e.startedAt !== undefined).map((e) => e.name);
    expect(timed).toHaveLength(finishedWorkersKept + 1);
    expect(timed).toContain("worker-29");
    expect(timed).toContain("worker-00");
  });

  it("is stable: what parsing returns is stored as it was, in upgrade order, whatever the entries", () => {
    const states = ["Pending", "Draining", "Rebooting", "Done", "Failed", "Skipped"] as const;
    const entry = fc
      .record({
        index: fc.integer({ min: 0, max: 60 }),
        state: fc.constantFrom(...states),
        minute: fc.integer({ min: 0, max: 50 }),
        message: fc.constantFrom("", "draining", `already at ${targetVersion}`),
        fromVersion: fc.constantFrom(previousVersion, targetVersion),
        override: fc.constantFrom(undefined, "gpu"),
      })
      .map(({ index, state, minute, message, fromVersion, override }) =>
        anEntry(index < 3 ? `cp-${index}` : `worker-${String(index).padStart(2, "0")}`, state, {
          fromVersion,
          message,
          ...(override ? { override } : {}),
          ...(state !== "Pending" || minute % 5 === 0 ? { startedAt: at(minute) } : {}),
          ...(state === "Done" || state === "Failed" ? { finishedAt: at(minute + 1) } : {}),
        }),
      );
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.name }), fc.boolean(), (drawn, compacted) => {
        const ordered = upgradeOrder(drawn);
        const once = roundTrip(ordered, compacted ? 0 : wholeEntriesBytes);
        expect(once.map((e) => `${e.name}:${e.state}:${e.version}:${e.message}`)).toEqual(
          ordered.map((e) => `${e.name}:${e.state}:${e.version}:${e.message}`),
        );
        expect(roundTrip(once, compacted ? 0 : wholeEntriesBytes)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});

// A node that left the selection while in flight stays in status until it is done: among the
// others, in upgrade order, so that its stored form parses back to the same list.
it("a decided status keeps its entries in upgrade order when a node in flight leaves the selection", () => {
  const plan = aPlan({ nodeSelector: { matchLabels: { pool: "blue" } } });
  const blue = { pool: "blue" };
  const nodes = [
    aK8sNode("worker-1", "v1.34.2", { labels: blue }),
    aK8sNode("worker-2", "v1.34.2", {
      labels: { pool: "green" },
      unschedulable: true,
      cordonedBy: "production",
    }),
    aK8sNode("worker-3", "v1.34.2", { labels: blue }),
  ];
  const status: PlanStatus = aStatus(
    anEntry("worker-1", "Pending"),
    anEntry("worker-2", "Draining", { startedAt: at(0), message: "draining" }),
    anEntry("worker-3", "Pending"),
  );
  const d = decide(anObservation({ ...plan, status }, nodes));
  expect(d.status.nodes.map((e) => e.name)).toEqual(["worker-1", "worker-2", "worker-3"]);
  const parsed = planStatusSchema.parse(JSON.parse(JSON.stringify(storedStatus(d.status))));
  expect(parsed.nodes).toEqual(d.status.nodes);
});
