// A real Prometheus for the tests (built from github.com/prometheus/prometheus by the `monitoring`
// tool group): started on a free loopback port with a config and a data folder of its own, scraping
// what the test names every second and evaluating rule groups as often; and promtool. Also the
// chart's PrometheusRule groups, rendered by helm as users install them, as a Prometheus rules file.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { helm } from "./helm.ts";
import { startMonitoringProcess } from "./monitoring-process.ts";
import type { ManagedProcess } from "./process.ts";
import { tool } from "./tools.ts";

const run = promisify(execFile);
const chart = join(import.meta.dirname, "..", "..", "charts", "talos-upgrade-operator");

/** One scrape job: its targets as `host:port`, scraped at `metricsPath` (default /metrics). */
export interface ScrapeJob {
  job: string;
  targets: string[];
  metricsPath?: string;
}

/** A Prometheus rule group as a rules file holds it (`rules`: alerting or recording rules). */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Record<string, unknown>[];
}

export interface PrometheusOptions {
  scrape?: ScrapeJob[];
  /** Rule groups, written to a rules file in Prometheus' folder. */
  ruleGroups?: RuleGroup[];
  /** Rules files of the test's own, loaded as they are. */
  ruleFiles?: string[];
  /** Default "1s" for both. */
  scrapeInterval?: string;
  evaluationInterval?: string;
}

/** A sample of an instant query's vector result. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A rule group as /api/v1/rules reports it. */
export interface RuleGroupState {
  name: string;
  file: string;
  rules: {
    name: string;
    type: "alerting" | "recording";
    health: string;
    lastError?: string;
    state?: string;
    query: string;
  }[];
}

export interface PrometheusServer {
  /** http://127.0.0.1:PORT, the base of the HTTP API. */
  readonly url: string;
  readonly port: number;
  /** Its folder: config, rules file, TSDB data and log. */
  readonly dir: string;
  readonly process: ManagedProcess;
  logs(): string;
  /** An instant query; throws on an error answer. */
  query(promql: string): Promise<Sample[]>;
  /** The rule groups loaded, with each rule's health. */
  rules(): Promise<RuleGroupState[]>;
  /** Stops it (SIGTERM) and deletes its folder. */
  stop(): Promise<void>;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; error?: string; data: T };
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? body.status}`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "tuo-prometheus-"));
  const ruleFiles = [...(options.ruleFiles ?? [])];
  if (options.ruleGroups) ruleFiles.push(writeRulesFile(join(dir, "rules.yaml"), options.ruleGroups));
  const config = {
    global: {
      scrape_interval: options.scrapeInterval ?? "1s",
      scrape_timeout: "1s",
      evaluation_interval: options.evaluationInterval ?? "1s",
    },
    rule_files: ruleFiles,
    scrape_configs: (options.scrape ?? []).map((job) => ({
      job_name: job.job,
      metrics_path: job.metricsPath ?? "/metrics",
      static_configs: [{ targets: job.targets }],
    })),
  };
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  const server = await startMonitoringProcess("prometheus", dir, (port) => [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const { url } = server;
  return {
    url,
    port: server.port,
    dir,
    process: server.process,
    logs: server.logs,
    query: async (promql) =>
      (await api<{ result: Sample[] }>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    rules: async () => (await api<{ groups: RuleGroupState[] }>(`${url}/api/v1/rules`)).groups,
    stop: server.stop,
  };
}

/** Runs promtool with `args`; resolves with its exit code and output, whatever the code. */
export async function promtool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tool("monitoring", "promtool"), args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/**
 * The chart's PrometheusRule groups, as `helm template` renders them with the rule enabled (and
 * any further `--set`/`-f` arguments): the `spec.groups` a Prometheus Operator would load.
 */
export async function chartRuleGroups(helmArgs: string[] = []): Promise<RuleGroup[]> {
  const { stdout } = await helm([
    "template",
    "talos-upgrade-operator",
    chart,
    "--namespace",
    "talos-upgrade-system",
    "--set",
    "metrics.prometheusRule.enabled=true",
    "--show-only",
    "templates/prometheusrule.yaml",
    ...helmArgs,
  ]);
  const rules = parseAllDocuments(stdout)
    .map((d) => d.toJS() as { kind?: string; spec?: { groups?: RuleGroup[] } } | null)
    .filter((d) => d?.kind === "PrometheusRule");
  if (rules.length !== 1) throw new Error(`helm rendered ${rules.length} PrometheusRule objects, not 1`);
  const groups = rules[0]?.spec?.groups ?? [];
  if (groups.length === 0) throw new Error("the chart's PrometheusRule has no rule groups");
  return groups;
}

/** Writes rule groups as a Prometheus rules file at `path`; returns the path. */
export function writeRulesFile(path: string, groups: RuleGroup[]): string {
  writeFileSync(path, stringify({ groups }));
  return path;
}
