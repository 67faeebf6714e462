// Prometheus health checks: an instant query, healthy when its result is empty (e.g. no critical
// alert firing) or, with `expect: NonEmpty`, when it is not. A metric the query names that
// Prometheus has never seen fails the check, so that a misspelt query cannot pass forever. An
// unreachable server or a bad query fails the check, with the reason.
import { z } from "zod";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { nameList } from "../model/messages.ts";
import type { GateResult } from "../model/observation.ts";

type PrometheusCheck = PlanSpec["healthChecks"]["prometheus"][number];

const queryAnswer = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z
    .object({ result: z.array(z.object({ metric: z.record(z.string(), z.string()) }).loose()) })
    .optional(),
});

const seriesAnswer = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z.array(z.record(z.string(), z.string())).optional(),
});

// Words of PromQL that are not metric names where they stand alone.
const keywords = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
  "atan2",
  "group_left",
  "group_right",
]);
// Series Prometheus makes itself, which exist only while something fires.
const synthetic = new Set(["ALERTS", "ALERTS_FOR_STATE"]);

/**
 * The metric names a query selects: identifiers that are not functions, aggregations, keywords,
 * labels (in braces or a grouping clause), strings or durations. Selectors by `__name__` alone are
 * not looked at.
 */
export function metricNames(query: string): string[] {
  const bare = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const call = /^\s*\(/.test(bare.slice((match.index ?? 0) + word.length));
    if (!call && !keywords.has(word.toLowerCase()) && !synthetic.has(word)) names.add(word);
  }
  return [...names];
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  // A redirect is refused, not followed: the URL the plan names is the one asked.
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

export async function evaluatePrometheus(check: PrometheusCheck, timeoutMs = 10_000): Promise<GateResult> {
  const name = `prometheus/${check.name}`;
  const base = check.url.replace(/\/$/, "");
  try {
    const answer = await getJson(`${base}/api/v1/query?query=${encodeURIComponent(check.query)}`, timeoutMs);
    const parsed = queryAnswer.safeParse(answer.body);
    if (!parsed.success)
      return { name, passing: false, message: `unexpected answer from ${check.url} (HTTP ${answer.status})` };
    if (parsed.data.status !== "success")
      return { name, passing: false, message: `query failed: ${parsed.data.error ?? parsed.data.status}` };
    const series = parsed.data.data?.result ?? [];
    if (series.length > 0) {
      if (check.expect === "NonEmpty")
        return { name, passing: true, message: `${series.length} series returned` };
      const labels = series.map((s) => s.metric.alertname ?? JSON.stringify(s.metric));
      return { name, passing: false, message: `${series.length} series returned: ${nameList(labels, 3)}` };
    }
    const unknown = await unknownMetrics(base, check.query, timeoutMs);
    if (unknown.length > 0) {
      const message = `no series, and Prometheus has none of ${nameList(unknown, 3)} at all: is the name spelt right?`;
      return { name, passing: false, message };
    }
    return check.expect === "Empty"
      ? { name, passing: true, message: "no series" }
      : { name, passing: false, message: "no series; at least one expected" };
  } catch (error) {
    return { name, passing: false, message: `${check.url} unreachable: ${(error as Error).message}` };
  }
}

/** The metrics a query names that Prometheus holds no series of. */
async function unknownMetrics(base: string, query: string, timeoutMs: number): Promise<string[]> {
  const unknown: string[] = [];
  for (const metric of metricNames(query)) {
    const answer = await getJson(
      `${base}/api/v1/series?match[]=${encodeURIComponent(metric)}&limit=1`,
      timeoutMs,
    );
    const parsed = seriesAnswer.safeParse(answer.body);
    // An answer that cannot be read says nothing about the name; the query's own answer stands.
    if (parsed.success && parsed.data.status === "success" && (parsed.data.data ?? []).length === 0)
      unknown.push(metric);
  }
  return unknown;
}
