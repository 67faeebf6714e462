// What an upgraded node costs the APIs, counted rather than timed: a fleet of 50 whose workers run
// ten pods each behind a PodDisruptionBudget, upgraded by the operator under its ServiceAccount on a
// control plane that audits that identity. The Kubernetes requests come from the audit log, the
// Talos calls from the simulated machines' own call logs; then the completed plan, woken by a
// relabelled Node and by pod churn, must make no Talos call at all.

import { readFileSync } from "node:fs";
import { jest } from "@jest/globals";
import { AppsV1Api, PolicyV1Api } from "@kubernetes/client-node";
import {
  auditedPodReads,
  auditRequests,
  operatorAuditPolicy,
  operatorUser,
} from "../../testkit/control-plane/audit.ts";
import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { type E2eCluster, startE2eControlPlane } from "../../testkit/control-plane/e2e-cluster.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { builtOperator } from "../../testkit/e2e/operator-process.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { fleetLabel } from "../../testkit/fleet/kubelet.ts";

jest.setTimeout(600_000);

const controlPlanes = 3;
const workers = 47;
// Ten pods per worker, of a Deployment behind a PodDisruptionBudget that lets a quarter go at once
// (a budget of one serialises 470 evictions: that is the drain's time, measured by the bench).
const podsPerWorker = 10;

describe("the cost of a rollout", () => {
  let plane: ControlPlane;
  let cluster: E2eCluster;
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    ({ plane, cluster } = await startE2eControlPlane({ auditPolicy: operatorAuditPolicy }));
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });
  checkAndStopAfterEach(() => scenario);

  it("an upgraded node costs a bounded number of requests and calls; a completed plan calls Talos no more", async () => {
    // Debug logs name every pass, so that the test can see the completed plan woken. Facts of
    // the nodes at rest are kept as long as the operator's default keeps them (the other e2e
    // tests shorten it, to see out-of-band changes quickly).
    const run = await new Scenario(cluster).start({
      controlPlanes,
      workers,
      operatorEnv: { LOG_LEVEL: "debug", FACTS_TTL_MS: "60000" },
      // Built as the image runs it, with its compacted client library.
      operatorEntry: builtOperator,
    });
    scenario = run;
    const app = `${run.name}-web`;
    const apps = run.kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: app },
        spec: {
          replicas: workers * podsPerWorker,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              affinity: {
                nodeAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                      {
                        matchExpressions: [
                          { key: fleetLabel, operator: "In", values: [run.name] },
                          { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                        ],
                      },
                    ],
                  },
                },
              },
              terminationGracePeriodSeconds: 1,
              containers: [{ name: "main", image: "app:1" }],
            },
          },
        },
      },
    });
    await run.kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: "default",
      body: { metadata: { name: app }, spec: { maxUnavailable: "25%", selector: { matchLabels: { app } } } },
    });
    await run.kubectl(["rollout", "status", `deployment/${app}`, "-n", "default", "--timeout=240s"]);

    const talosCalls = () => run.fleet.nodes().reduce((sum, n) => sum + n.calls.length, 0);
    const callsBefore = talosCalls();
    const from = Date.now();
    await run.apply({ talos: { version: "v1.12.4" }, rollout: { maxUnavailable: "25%", nodeTimeout: "2m" } });
    await run.waitFor("condition=Ready", 420);
    // The status says Completed before the pass's last actions: the last node's installer reference
    // is written to its configuration after. The rollout ends with that write.
    const patched = () =>
      run.fleet
        .nodes()
        .filter((n) => n.calls.some((c) => c.at >= from && c.method.endsWith("/ApplyConfiguration"))).length;
    await waitUntil("every node's configuration patched", async () => patched() === controlPlanes + workers, {
      timeoutMs: 30_000,
    });
    const passes = () =>
      readFileSync(run.operator.logFile, "utf8")
        .split("\n")
        .filter((line) => line.includes('"msg":"reconciled"') && line.includes(`"plan":"${run.name}"`))
        .map((line) => JSON.parse(line) as { requeueAfterMs?: number });
    // The pass that patched the last node (and stopped watching it) asked for another, which sets
    // no timer: once it is logged, no call of the rollout is still on its way to a machine (a
    // watch reopened just before the last one was stopped once reached its machine after the patch).
    await waitUntil(
      "a pass of the completed plan that sets no timer",
      async () => {
        const last = passes().at(-1);
        return last !== undefined && last.requeueAfterMs === undefined;
      },
      { timeoutMs: 30_000 },
    );
    const to = Date.now();
    const upgraded = controlPlanes + workers;
    const calls = talosCalls() - callsBefore;
    // Each node's calls of the rollout, read once for every figure below.
    const perNode = run.fleet.nodes().map((n) => ({
      name: n.hostname,
      calls: n.calls.filter((c) => c.at >= from && c.at <= to),
    }));
    const byMethod: Record<string, number> = {};
    for (const { calls } of perNode)
      for (const c of calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    const audit = auditRequests(readFileSync(plane.auditLogPath ?? "", "utf8"), operatorUser, from, to);
    console.log(
      [
        `${upgraded} nodes upgraded, ${workers * podsPerWorker} pods drained and rescheduled`,
        `Kubernetes requests: ${audit.requests} (${(audit.requests / upgraded).toFixed(1)} per node)`,
        ...Object.entries(audit.byVerb)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${k}: ${v}`),
        `Talos calls: ${calls} (${(calls / upgraded).toFixed(1)} per node)`,
        ...Object.entries(byMethod)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${k}: ${v}`),
      ].join("\n"),
    );
    // One worker's calls in order, ms from its upgrade call: where a node's calls go.
    const traced = perNode.find((n) => n.name === run.node("worker-10"));
    const traceCalls = traced?.calls ?? [];
    const upgradeCall = traceCalls.find((c) => c.method.endsWith("/Upgrade"));
    expect(upgradeCall).toBeDefined();
    const calledAt = upgradeCall?.at ?? from;
    console.log(
      [
        `${traced?.name}'s ${traceCalls.length} Talos calls, ms from its upgrade call:`,
        ...traceCalls.map(
          (c) => `  ${c.at - calledAt} ${c.method.split("/").at(-1)}${c.subject ? ` ${c.subject}` : ""}`,
        ),
      ].join("\n"),
    );
    // How many nodes took how many calls, and what a node above the worker's usual took besides.
    const spread: Record<number, number> = {};
    for (const { calls } of perNode) spread[calls.length] = (spread[calls.length] ?? 0) + 1;
    console.log(
      [
        `nodes by their number of Talos calls: ${Object.entries(spread)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")}`,
        ...perNode
          .filter(({ calls }) => calls.length > traceCalls.length)
          .map(({ name, calls }) => `  ${name}: ${calls.map((c) => c.method.split("/").at(-1)).join(" ")}`),
      ].join("\n"),
    );
    // Every pod was evicted once at least: the drains were real.
    expect(audit.byVerb["create pods/eviction"] ?? 0).toBeGreaterThanOrEqual(workers * podsPerWorker);
    // A node's pods come from one watch-list request when its drain begins, watched from there,
    // never read per pass (about ten per node); a stream the apiserver cuts is opened again, so up
    // to two per node pass. The only pod list is of kube-system's component pods, when the operator
    // starts (and again if their watch is cut).
    expect(audit.byVerb["list pods"] ?? 0).toBeLessThanOrEqual(2);
    expect(audit.byVerb["watch pods"] ?? 0).toBeLessThanOrEqual(2 * upgraded);
    // No read of the cluster's pods: each is of one node's, or of kube-system's component pods.
    const podReads = auditedPodReads(readFileSync(plane.auditLogPath ?? "", "utf8"), operatorUser).map(
      (uri) => new URL(uri, "https://apiserver"),
    );
    const unscoped = podReads.filter(
      (url) =>
        !/^spec\.nodeName=[^,]+$/.test(url.searchParams.get("fieldSelector") ?? "") &&
        !(url.pathname === "/api/v1/namespaces/kube-system/pods" && url.searchParams.has("labelSelector")),
    );
    expect(podReads.length).toBeGreaterThan(0);
    expect(unscoped.map((url) => `${url.pathname}${url.search}`)).toEqual([]);
    // The plan is read from the watch's cache when it holds this operator's own last write, and
    // Nodes are patched as the watch saw them: a GET only when the cache lags (it was one plan GET
    // per pass and one Node GET per cordon and uncordon).
    expect(audit.byVerb["get talosupgradeplans"] ?? 0).toBeLessThanOrEqual(upgraded);
    expect(audit.byVerb["get nodes"] ?? 0).toBeLessThanOrEqual(upgraded);
    // Per node, besides its evictions (one per pod, and the retries a PDB refuses) and Lease
    // requests (the leader's renewals: a matter of time, not of nodes): about 7 here (its cordon
    // and uncordon, two Events, its pods' watch, and its share of the status writes), within the
    // 10 the operator aims at. About 18 Talos calls, where it aims at 15. The trace printed
    // above shows a worker's 16: its facts when the plan starts (boot, status, version, extensions,
    // SecureBoot, diagnostics), the pull, the watch opened before its start (its MachineStatus,
    // created when the one those facts were read with was, proves the boot), the machine's events
    // opened just before the call (Talos' word on the sequence: not started, or failed), the call,
    // then after the reboot the watch again, boot, version and diagnostics, and the installer
    // written into its configuration (read and apply). Control planes add the etcd checks (two per
    // control plane and read), and a node read again while its pull or a gate holds it adds a few.
    // The bound on calls leaves room for noise.
    // etcd is read before each control plane starts and once each is back, not at every pass nor
    // at every change of the one under way (it was read twelve times for three here), so at
    // most two reads per control plane upgraded and one more, each an EtcdMemberList per member.
    expect(byMethod["/machine.MachineService/EtcdMemberList"] ?? 0).toBeLessThanOrEqual(
      (2 * controlPlanes + 1) * controlPlanes,
    );
    const evictions = audit.byVerb["create pods/eviction"] ?? 0;
    const leases = Object.entries(audit.byVerb)
      .filter(([verb]) => verb.endsWith(" leases"))
      .reduce((sum, [, n]) => sum + n, 0);
    expect((audit.requests - evictions - leases) / upgraded).toBeLessThanOrEqual(10);
    expect(calls / upgraded).toBeLessThanOrEqual(23);

    // At rest: a relabelled Node the plan lists wakes the plan; pods coming and going do not. A
    // nudge (another label) after the churn gives a pass that ends after it: every pass until
    // then made no Talos call, and the last one sets no timer of its own, so no call comes
    // without a change to the plan or what it reads.
    const nudge = async (value: string) => {
      const before = passes().length;
      await run.kubectl(["label", "node", "--overwrite", run.node("worker-1"), `cost-test=${value}`]);
      await waitUntil("the relabelled Node wakes the completed plan", async () => passes().length > before, {
        timeoutMs: 20_000,
      });
    };
    await nudge("relabelled");
    await run.kubectl([
      "scale",
      `deployment/${app}`,
      "-n",
      "default",
      `--replicas=${workers * podsPerWorker + 6}`,
    ]);
    await run.kubectl(["rollout", "status", `deployment/${app}`, "-n", "default", "--timeout=60s"]);
    await nudge("after-churn");
    const late = run.fleet
      .nodes()
      .flatMap((n) => n.calls.filter((c) => c.at > to).map((c) => `${n.hostname} ${c.method}`));
    expect(late).toEqual([]);
    expect(passes().at(-1)?.requeueAfterMs).toBeUndefined();
    await apps.deleteNamespacedDeployment({ namespace: "default", name: app });
  });
});
