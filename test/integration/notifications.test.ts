// Notifications delivered by the operator's notifier: the webhook URL read from a real Secret on
// the real apiserver, a local receiver that refuses the first attempts, deliveries retried in
// order and taken off only once delivered; a failure names the receiver, never the URL.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api } from "@kubernetes/client-node";
import pino from "pino";
import { type Plan, planSpecSchema } from "../../src/api/v1alpha1/plan.ts";
import { Notifier } from "../../src/controller/notifier.ts";
import { newShellMemory } from "../../src/controller/observe.ts";
import { readSecretKey } from "../../src/kube/secrets.ts";
import { postWebhook } from "../../src/notify/webhook.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";

describe("the notifier", () => {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const namespace = uniqueName("notify");
  let server: Server;
  let url = "";
  let refusals = 0;
  const received: unknown[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (refusals > 0) {
          refusals--;
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/s3cr3t-token`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "hook" }, stringData: { url } },
    });
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace });
    await new Promise((resolve) => server.close(resolve));
  });

  const plan = (
    receivers: unknown[],
    pending: { id: string; event: "Started" | "Completed"; receiver: string }[],
  ): Plan => ({
    apiVersion: "upgrade.talos-operator.dev/v1alpha1",
    kind: "TalosUpgradePlan",
    metadata: { name: "production", generation: 1 },
    spec: planSpecSchema.parse({ talos: { version: "v1.12.4" }, notifications: receivers }),
    status: {
      conditions: [],
      nodes: [],
      history: [],
      notifications: {
        pending: pending.map((p) => ({ ...p, message: `${p.event} message`, time: "2026-12-01T00:00:00Z" })),
        delivered: 0,
        dropped: 0,
      },
    },
  });

  it("delivers in order through refusals, retrying with a pause, and remembers what it delivered", async () => {
    refusals = 2;
    const memory = newShellMemory();
    const logs: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(line) });
    const p = plan(
      [{ name: "oncall", urlSecretRef: { name: "hook", namespace } }],
      [
        { id: "a", event: "Started", receiver: "oncall" },
        { id: "b", event: "Completed", receiver: "oncall" },
      ],
    );
    const notifier: Notifier = new Notifier({
      readSecret: (ref) => readSecretKey(core, ref),
      post: postWebhook,
      requeue: () => notifier.pump(p, memory),
      logger,
    });
    notifier.pump(p, memory);
    await waitUntil("both delivered", async () => memory.delivered.size === 2, { timeoutMs: 15_000 });
    notifier.stop();
    expect(received).toEqual([
      {
        plan: "production",
        event: "Started",
        message: "Started message",
        time: "2026-12-01T00:00:00Z",
        id: "a",
      },
      {
        plan: "production",
        event: "Completed",
        message: "Completed message",
        time: "2026-12-01T00:00:00Z",
        id: "b",
      },
    ]);
    expect(memory.notifyErrors.size).toBe(0);
    const failures = logs.filter((l) => l.includes("not delivered"));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('"reason":"HTTP 503"');
    expect(logs.join("\n")).not.toContain("s3cr3t-token");
  });

  it("says why a receiver cannot be reached, naming the Secret, never its URL", async () => {
    received.length = 0;
    const memory = newShellMemory();
    const logger = pino({ level: "silent" });
    const p = plan(
      [
        { name: "missing", urlSecretRef: { name: "nope", namespace } },
        { name: "chat", format: "Slack", urlSecretRef: { name: "hook", namespace } },
      ],
      [
        { id: "m", event: "Completed", receiver: "missing" },
        { id: "c", event: "Completed", receiver: "chat" },
      ],
    );
    const notifier = new Notifier({
      readSecret: (ref) => readSecretKey(core, ref),
      post: postWebhook,
      requeue: () => undefined,
      logger,
    });
    notifier.pump(p, memory);
    await waitUntil(
      "one delivered, one failed",
      async () => memory.delivered.has("c") && memory.notifyErrors.has("missing"),
      {
        timeoutMs: 10_000,
      },
    );
    notifier.stop();
    expect(memory.delivered.has("m")).toBe(false);
    expect(memory.notifyErrors.get("missing")).toMatch(
      new RegExp(`^missing: secret ${namespace}/nope key url: not found \\(attempt 1`),
    );
    expect(received).toEqual([{ text: "[talos-upgrade] production: Completed: Completed message" }]);
  });
});
