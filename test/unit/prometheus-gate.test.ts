// Prometheus gates against a local HTTP server that answers like Prometheus' query API.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { evaluatePrometheus } from "../../src/health/prometheus.ts";

let server: Server;
let url: string;
const answers: Record<string, unknown> = {
  "up == 0": { status: "success", data: { resultType: "vector", result: [] } },
  'ALERTS{severity="critical"}': {
    status: "success",
    data: { result: [{ metric: { alertname: "EtcdDown" }, value: [1, "1"] }] },
  },
  "bad(": { status: "error", error: "parse error at char 5" },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const query = new URL(request.url ?? "/", "http://x").searchParams.get("query") ?? "";
    const answer = answers[query];
    if (answer === undefined) return void response.writeHead(200).end("not json");
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

it.each([
  ["an empty result passes", "up == 0", true, "no series"],
  ["a firing alert fails, naming it", 'ALERTS{severity="critical"}', false, "1 series returned: EtcdDown"],
  ["a bad query fails with Prometheus' error", "bad(", false, "query failed: parse error at char 5"],
  ["an answer that is not Prometheus' fails", "something else", false, "unexpected answer"],
])("%s", async (_case, query, passing, message) => {
  const result = await evaluatePrometheus({ name: "p", url, query });
  expect(result.passing).toBe(passing);
  expect(result.message).toContain(message);
});

it("an unreachable server fails with the reason", async () => {
  const result = await evaluatePrometheus({ name: "p", url: "http://127.0.0.1:1", query: "up" }, 2_000);
  expect(result).toMatchObject({ name: "prometheus/p", passing: false });
  expect(result.message).toContain("unreachable");
});
