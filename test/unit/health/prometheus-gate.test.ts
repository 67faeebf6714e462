// Prometheus gates against a local HTTP server that answers like Prometheus' query and series APIs.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { evaluatePrometheus, metricNames } from "../../../src/health/prometheus.ts";

let server: Server;
let url: string;
const answers: Record<string, unknown> = {
  "up == 0": { status: "success", data: { resultType: "vector", result: [] } },
  'ALERTS{severity="critical"}': {
    status: "success",
    data: { result: [{ metric: { alertname: "EtcdDown" }, value: [1, "1"] }] },
  },
  'ALERTS{severity="warning"}': { status: "success", data: { resultType: "vector", result: [] } },
  "bad(": { status: "error", error: "parse error at char 5" },
  'up{job="etcd"} == 1': {
    status: "success",
    data: { result: [{ metric: { job: "etcd", instance: "cp-1" }, value: [1, "1"] }] },
  },
  'up{job="etdc"} == 1': { status: "success", data: { resultType: "vector", result: [] } },
  "kube_node_spec_unschedulabel > 0": { status: "success", data: { resultType: "vector", result: [] } },
};
/** Metric names Prometheus holds series of. */
const known = new Set(["up", "kube_node_spec_unschedulable"]);

beforeAll(async () => {
  server = createServer((request, response) => {
    const asked = new URL(request.url ?? "/", "http://x");
    if (asked.pathname.startsWith("/moved")) {
      const location = `${url}${asked.pathname.replace("/moved", "")}${asked.search}`;
      return void response.writeHead(302, { location }).end();
    }
    if (asked.pathname === "/api/v1/series") {
      const metric = asked.searchParams.get("match[]") ?? "";
      const data = known.has(metric) ? [{ __name__: metric }] : [];
      return void response.writeHead(200).end(JSON.stringify({ status: "success", data }));
    }
    const answer = answers[asked.searchParams.get("query") ?? ""];
    if (answer === undefined) return void response.writeHead(200).end("not json");
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

it.each([
  ["an empty result passes", "up == 0", "Empty", true, "no series"],
  [
    "a firing alert fails, naming it",
    'ALERTS{severity="critical"}',
    "Empty",
    false,
    "1 series returned: EtcdDown",
  ],
  [
    "no alert ever fired (ALERTS has no series) passes",
    'ALERTS{severity="warning"}',
    "Empty",
    true,
    "no series",
  ],
  ["a bad query fails with Prometheus' error", "bad(", "Empty", false, "query failed: parse error at char 5"],
  ["an answer that is not Prometheus' fails", "something else", "Empty", false, "unexpected answer"],
  ["NonEmpty passes on a series", 'up{job="etcd"} == 1', "NonEmpty", true, "1 series returned"],
  ["NonEmpty fails on no series", 'up{job="etdc"} == 1', "NonEmpty", false, "at least one expected"],
  [
    "a misspelt metric fails instead of passing forever",
    "kube_node_spec_unschedulabel > 0",
    "Empty",
    false,
    "none of kube_node_spec_unschedulabel at all",
  ],
] as const)("%s", async (_case, query, expect_, passing, message) => {
  const result = await evaluatePrometheus({ name: "p", url, query, expect: expect_ });
  expect(result.passing).toBe(passing);
  expect(result.message).toContain(message);
});

it.each([
  ["up == 0", ["up"]],
  ['sum by (job, instance) (rate(http_requests_total{code=~"5.."}[5m])) > 0', ["http_requests_total"]],
  ['ALERTS{alertstate="firing", severity="critical"}', []],
  [
    "node_load1 / on (instance) group_left count without (cpu) (node_cpu_seconds_total)",
    ["node_load1", "node_cpu_seconds_total"],
  ],
  ["a_total offset 5m and bool b:recorded:rate5m @ 1609746000", ["a_total", "b:recorded:rate5m"]],
  ['{__name__="up"} == 1e3', []],
  ['label_replace(up, "to", "$1", "from", "(.*)")', ["up"]],
] as const)("the metrics %s selects", (query, names) => {
  expect(metricNames(query)).toEqual(names);
});

it("an unreachable server fails with the reason", async () => {
  const result = await evaluatePrometheus(
    { name: "p", url: "http://127.0.0.1:1", query: "up", expect: "Empty" },
    2_000,
  );
  expect(result).toMatchObject({ name: "prometheus/p", passing: false });
  expect(result.message).toContain("unreachable");
});

it("refuses a redirect: the URL the plan names is the one asked", async () => {
  const result = await evaluatePrometheus({
    name: "p",
    url: `${url}/moved`,
    query: "up == 0",
    expect: "Empty",
  });
  expect(result).toMatchObject({ name: "prometheus/p", passing: false });
  expect(result.message).toContain("unreachable");
  // The same query without the redirect passes: the refusal is the redirect's.
  expect((await evaluatePrometheus({ name: "p", url, query: "up == 0", expect: "Empty" })).passing).toBe(
    true,
  );
});
