import type { V1Pod } from "@kubernetes/client-node";
import { drainPlan } from "../../../src/core/drain-policy.ts";
import { aPod } from "../builders/kube.ts";
import { aPlan } from "../builders/plans.ts";

const drain = (overrides: Record<string, unknown> = {}) => aPlan({ drain: overrides }).spec.drain;

const names = (pods: V1Pod[]) => pods.map((p) => p.metadata?.name);

it("evicts ordinary pods and leaves DaemonSet, mirror, finished and other nodes' pods", () => {
  const pods = [
    aPod("web", { owner: "ReplicaSet" }),
    aPod("bare"),
    aPod("agent", { owner: "DaemonSet" }),
    aPod("kube-proxy", { mirror: true }),
    aPod("job", { phase: "Succeeded" }),
    aPod("elsewhere", { node: "worker-2" }),
  ];
  const plan = drainPlan(pods, "worker-1", drain());
  expect(names(plan.evict)).toEqual(["web", "bare"]);
  expect(plan.blocked).toEqual([]);
});

it("waits for terminating pods without evicting them again", () => {
  const plan = drainPlan([aPod("leaving", { deleting: true })], "worker-1", drain());
  expect(names(plan.terminating)).toEqual(["leaving"]);
  expect(plan.evict).toEqual([]);
});

it("blocks on emptyDir data unless deleteEmptyDirData allows it", () => {
  const pods = [aPod("cache", { emptyDir: true })];
  expect(drainPlan(pods, "worker-1", drain({ deleteEmptyDirData: false })).blocked).toEqual([
    "pod apps/cache has emptyDir data (spec.drain.deleteEmptyDirData is false)",
  ]);
  expect(names(drainPlan(pods, "worker-1", drain({ deleteEmptyDirData: true })).evict)).toEqual(["cache"]);
});

it("evicts only pods the podSelector matches", () => {
  const pods = [aPod("a", { labels: { tier: "stateless" } }), aPod("b", { labels: { tier: "db" } })];
  const plan = drainPlan(pods, "worker-1", drain({ podSelector: { matchLabels: { tier: "stateless" } } }));
  expect(names(plan.evict)).toEqual(["a"]);
});

it("never evicts the operator's own pod, and nothing else by its name alone", () => {
  const pods = [
    aPod("talos-upgrade-operator-0", { owner: "ReplicaSet" }),
    aPod("web", { owner: "ReplicaSet" }),
  ];
  const self = { namespace: "apps", name: "talos-upgrade-operator-0" };
  expect(names(drainPlan(pods, "worker-1", drain(), self).evict)).toEqual(["web"]);
  // The same name in another namespace is someone else's pod.
  expect(names(drainPlan(pods, "worker-1", drain(), { ...self, namespace: "other" }).evict)).toEqual([
    "talos-upgrade-operator-0",
    "web",
  ]);
});
