// Everything around an upgrade in one plan, on 3 control planes and 3 workers, each against the
// real system it talks to: a Prometheus alert holds the rollout until it resolves; hooks run as
// Jobs of the real Job controller; an etcd snapshot of this cluster's own etcd is stored in a real
// S3 server (versitygw) before the first control plane, after a failed first attempt; an
// Alertmanager silence covers the nodes in flight; a webhook receiver that refuses at first is told
// of the start, the stall and the completion. The operator is SIGKILLed in the middle.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { BatchV1Api, type V1Job } from "@kubernetes/client-node";
import {
  type AlertmanagerServer,
  type Silence,
  startAlertmanager,
} from "../../testkit/control-plane/alertmanager.ts";
import { snapshotRestore, snapshotStatus } from "../../testkit/control-plane/etcdutl.ts";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { type PrometheusServer, startPrometheus } from "../../testkit/control-plane/prometheus.ts";
import { type S3Server, startS3 } from "../../testkit/control-plane/s3.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { exitCodeAnnotation, fleetLabel, runMsAnnotation } from "../../testkit/fleet/kubelet.ts";

const planLabelKey = "upgrade.talos-operator.dev/plan";

jest.setTimeout(300_000);

interface EtcdBackupView {
  pass?: string;
  state?: string;
  key?: string;
  location?: string;
  finishedAt?: string;
  size?: number;
  sha256?: string;
  attempts?: number;
}

describe("around the upgrade, end to end", () => {
  let scenario: Scenario | undefined;
  const stops: (() => Promise<unknown>)[] = [];

  checkAndStopAfterEach(() => scenario);
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });

  /** A webhook receiver that answers 503 to its first `refusals` requests. */
  async function receiver(refusals: number) {
    const received: { event: string; node?: string }[] = [];
    let seen = 0;
    const server: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (++seen <= refusals) return void res.writeHead(503).end();
        received.push(JSON.parse(body) as { event: string; node?: string });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
  }

  /** Prometheus scraping one gauge the test sets, with an alert firing while it is 1. */
  async function holdingPrometheus(): Promise<{
    prometheus: PrometheusServer;
    release: () => void;
    query: string;
  }> {
    let hold = 1;
    const target = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(`# TYPE hold gauge\nhold ${hold}\n`);
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    stops.push(() => new Promise((resolve) => target.close(resolve)));
    const prometheus = await startPrometheus({
      scrape: [{ job: "hold", targets: [`127.0.0.1:${(target.address() as AddressInfo).port}`] }],
      ruleGroups: [{ name: "test", rules: [{ alert: "RolloutHold", expr: "hold == 1", for: "0s" }] }],
    });
    stops.push(() => prometheus.stop());
    const query = 'ALERTS{alertname="RolloutHold",alertstate="firing"}';
    await waitUntil("RolloutHold fires", async () => (await prometheus.query(query)).length > 0, {
      timeoutMs: 15_000,
      describe: prometheus.logs,
    });
    return {
      prometheus,
      query,
      release: () => {
        hold = 0;
      },
    };
  }

  it("holds on a firing alert, runs hooks once each, snapshots etcd to S3 before the first control plane, silences, notifies, across a SIGKILL", async () => {
    const s3: S3Server = await startS3();
    stops.push(() => s3.stop());
    const am: AlertmanagerServer = await startAlertmanager();
    stops.push(() => am.stop());
    const gate = await holdingPrometheus();
    const webhook = await receiver(2);
    const world = await new Scenario().start({ controlPlanes: 3, workers: 3 });
    scenario = world;
    const secrets = [`${world.name}-s3`, `${world.name}-hook`];
    stops.push(() => kubectl(["delete", "secret", ...secrets, "-n", "default", "--ignore-not-found"]));
    stops.push(() =>
      kubectl(["delete", "jobs", "-n", "default", "-l", `${planLabelKey}=${world.name}`, "--wait=false"]),
    );
    await kubectl([
      "create",
      "secret",
      "generic",
      secrets[0] ?? "",
      "-n",
      "default",
      `--from-literal=accessKeyId=${s3.accessKeyId}`,
      `--from-literal=secretAccessKey=${s3.secretAccessKey}`,
    ]);
    await kubectl([
      "create",
      "secret",
      "generic",
      secrets[1] ?? "",
      "-n",
      "default",
      `--from-literal=url=${webhook.url}`,
    ]);
    const controlPlanes = world.fleet.controlPlanes().map((n) => n.hostname);
    // The first snapshot attempt fails, wherever it is taken.
    for (const cp of controlPlanes)
      world.fleet.inject(cp, { etcdSnapshotError: "etcdserver: request timed out" });

    const hook = (name: string, runMs = 300) => ({
      name,
      job: {
        template: {
          metadata: { annotations: { [runMsAnnotation]: String(runMs), [exitCodeAnnotation]: "0" } },
          spec: {
            nodeSelector: { [fleetLabel]: world.name },
            containers: [{ name, image: `tools/${name}:1`, command: ["/bin/true"] }],
          },
        },
      },
    });
    const spec = {
      talos: { version: "v1.12.4" },
      healthChecks: {
        prometheus: [
          { name: "no-rollout-hold", url: gate.prometheus.url, query: gate.query, expect: "Empty" },
        ],
      },
      etcdBackup: {
        retention: 2,
        s3: {
          endpoint: s3.endpoint,
          bucket: s3.bucket,
          region: s3.region,
          credentialsSecretRef: { name: secrets[0], namespace: "default" },
        },
      },
      hooks: {
        beforePlan: [hook("noout")],
        // Long enough for the operator to die while one runs.
        beforeNode: [hook("prepare", 2_000)],
        afterNode: [hook("smoke")],
        afterPlan: [hook("unset-noout")],
      },
      silence: {
        alertmanagerUrl: am.url,
        matchers: [{ name: "severity", value: "warning" }],
        nodeLabel: "node",
        duration: "2m",
      },
      notifications: [{ name: "oncall", urlSecretRef: { name: secrets[1], namespace: "default" } }],
    };

    // Watch Alertmanager all along: our active silences, and the nodes they named.
    const ours = (all: Silence[]) => all.filter((s) => s.comment.startsWith(`plan ${world.name} `));
    let watching = true;
    let mostActive = 0;
    const silenced = new Set<string>();
    const withoutPlanMatcher = new Set<string>();
    const watcher = (async () => {
      while (watching) {
        const active = ours(await am.silences().catch(() => [])).filter((s) => s.status.state === "active");
        mostActive = Math.max(mostActive, active.length);
        for (const s of active)
          if (!s.matchers.some((m) => m.name === "severity" && m.value === "warning" && !m.isRegex))
            withoutPlanMatcher.add(s.id);
        for (const s of active)
          for (const node of s.matchers.find((m) => m.name === "node")?.value.split("|") ?? [])
            silenced.add(node);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await world.apply(spec);
    // 1. The alert holds everything: no hook, no snapshot, no cordon, no call.
    await world.waitFor("condition=HealthChecksPassing=False", 60);
    const held = await world.status();
    expect(world.condition(held, "Reconciling")).toMatchObject({ reason: "WaitingForHealthChecks" });
    expect(world.condition(held, "HealthChecksPassing")).toMatchObject({
      reason: "HealthChecksFailing",
      message: expect.stringContaining("prometheus/no-rollout-hold: 1 series returned: RolloutHold"),
    });
    expect(await jobsOf(world)).toEqual([]);
    expect(readdirSync(join(s3.dataDir, s3.bucket))).toEqual([]);
    expect(await world.cordonedNodes()).toEqual([]);

    // 2. Resolved: the beforePlan hook, then the snapshot, which fails: stalled, nothing cordoned.
    gate.release();
    await waitUntil(
      "the plan stalled on the snapshot",
      async () => world.condition(await world.status(), "Stalled")?.reason === "EtcdSnapshotFailed",
      { timeoutMs: 90_000, describe: () => world.operator.logs() },
    );
    const stalled = await world.status();
    expect(world.condition(stalled, "Stalled")?.message).toContain("etcdserver: request timed out");
    expect(await world.cordonedNodes()).toEqual([]);
    expect(Object.values(world.recorder.upgradeCalls()).every((n) => n === 0)).toBe(true);

    // 3. Fixed and retried: the snapshot is taken, then the control planes go, and the operator dies mid-way.
    for (const cp of controlPlanes) world.fleet.inject(cp, { etcdSnapshotError: undefined });
    await world.apply(spec, { "upgrade.talos-operator.dev/retry": "1" });
    await waitUntil(
      "a beforeNode hook running",
      async () =>
        (await jobsOf(world)).some((j) => runOf(j).startsWith("BeforeNode") && !j.status?.succeeded),
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    await world.operator.kill();
    world.startOperator({}, "operator-2");
    await world.waitFor("condition=Ready", 240);
    await waitUntil(
      "the silences expired",
      async () => ours(await am.silences()).every((s) => s.status.state === "expired"),
      {
        timeoutMs: 30_000,
      },
    );
    watching = false;
    await watcher;
    await waitUntil(
      "the completion told",
      async () => webhook.received.some((r) => r.event === "Completed"),
      {
        timeoutMs: 60_000,
      },
    );

    const status = (await world.status()) as Awaited<ReturnType<Scenario["status"]>> & {
      etcdBackup?: EtcdBackupView;
    };
    const nodes = [...controlPlanes, ...world.fleet.workers().map((n) => n.hostname)];

    // The snapshot: where status says, whole, one etcd can restore, taken before any control plane.
    const backup = status.etcdBackup ?? {};
    expect(backup).toMatchObject({ pass: "talos v1.12.4", state: "Verified", attempts: 2 });
    expect(backup.location).toBe(`s3://${s3.bucket}/${backup.key}`);
    const file = s3.objectPath(backup.key ?? "");
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(backup.size);
    expect(bytes.length % 512).toBe(32);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(backup.sha256);
    const inside = snapshotStatus(file);
    expect(inside.revision).toBeGreaterThan(0);
    expect(inside.totalKey).toBeGreaterThan(0);
    const restored = mkdtempSync(join(tmpdir(), "tuo-restore-"));
    try {
      snapshotRestore(file, join(restored, "etcd"));
    } finally {
      rmSync(restored, { recursive: true, force: true });
    }
    const firstStart = status.nodes
      ?.filter((n) => n.role === "controlplane")
      .map((n) => n.startedAt ?? "")
      .sort()[0];
    expect(firstStart && backup.finishedAt && firstStart >= backup.finishedAt).toBe(true);
    // The failed attempt published nothing: one snapshot under the plan's prefix.
    expect(readdirSync(join(s3.dataDir, s3.bucket, "talos-upgrade", world.name))).toEqual([
      backup.key?.split("/").pop(),
    ]);

    // Hooks: once each, in order, across the SIGKILL.
    const runs = byCreation(await jobsOf(world)).map(runOf);
    expect(new Set(runs).size).toBe(runs.length);
    expect([...runs].sort()).toEqual(
      [
        "BeforePlan:noout",
        ...nodes.flatMap((n) => [`BeforeNode:prepare:${n}`, `AfterNode:smoke:${n}`]),
        "AfterPlan:unset-noout",
      ].sort(),
    );
    expect(runs[0]).toBe("BeforePlan:noout");
    expect(runs.at(-1)).toBe("AfterPlan:unset-noout");
    for (const n of nodes)
      expect(runs.indexOf(`BeforeNode:prepare:${n}`)).toBeLessThan(runs.indexOf(`AfterNode:smoke:${n}`));

    // One call per node; one silence at a time, naming every node while it was in flight; expired after.
    for (const n of nodes) expect(world.recorder.upgradeCalls()[n]).toBe(1);
    expect(mostActive).toBe(1);
    expect([...withoutPlanMatcher]).toEqual([]);
    expect((status as { silence?: unknown }).silence).toBeUndefined();
    expect(world.condition(status, "HealthChecksPassing")?.status).toBe("True");
    expect([...silenced].sort()).toEqual([...nodes].sort());

    // The receiver, refusing its first two deliveries, got each notification once, in order: the
    // stall came before the rollout's start, which is told when its first node starts.
    expect(webhook.received.map((r) => r.event)).toEqual(["Stalled", "Started", "Completed"]);
    expect(JSON.stringify(status)).not.toContain(s3.secretAccessKey);
  });

  async function jobsOf(world: Scenario): Promise<V1Job[]> {
    const batch = world.kc.makeApiClient(BatchV1Api);
    return (
      await batch.listNamespacedJob({ namespace: "default", labelSelector: `${planLabelKey}=${world.name}` })
    ).items;
  }
});

const runOf = (job: V1Job) => {
  const labels = job.metadata?.labels ?? {};
  const node = job.metadata?.annotations?.["upgrade.talos-operator.dev/node"];
  return `${labels["upgrade.talos-operator.dev/stage"]}:${labels["upgrade.talos-operator.dev/hook"]}${node ? `:${node}` : ""}`;
};
const created = (job: V1Job) => Date.parse(String(job.metadata?.creationTimestamp ?? ""));
const byCreation = (jobs: V1Job[]) =>
  [...jobs].sort((a, b) => created(a) - created(b) || runOf(a).localeCompare(runOf(b)));
