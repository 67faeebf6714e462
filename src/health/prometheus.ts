// Prometheus health checks: an instant query whose empty result means healthy (e.g. no critical
// alert firing). An unreachable server or a bad query fails the check, with the reason.
import { z } from "zod";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import type { GateResult } from "../model/observation.ts";

type PrometheusCheck = PlanSpec["healthChecks"]["prometheus"][number];

const responseSchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z
    .object({ result: z.array(z.object({ metric: z.record(z.string(), z.string()) }).loose()) })
    .optional(),
});

export async function evaluatePrometheus(check: PrometheusCheck, timeoutMs = 10_000): Promise<GateResult> {
  const name = `prometheus/${check.name}`;
  const url = `${check.url.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(check.query)}`;
  let response: Response;
  try {
    // A redirect is refused, not followed: the URL the plan names is the one asked.
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (error) {
    return { name, passing: false, message: `${check.url} unreachable: ${(error as Error).message}` };
  }
  const body: unknown = await response.json().catch(() => undefined);
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success)
    return { name, passing: false, message: `unexpected answer from ${check.url} (HTTP ${response.status})` };
  if (parsed.data.status !== "success")
    return { name, passing: false, message: `query failed: ${parsed.data.error ?? parsed.data.status}` };
  const series = parsed.data.data?.result ?? [];
  if (series.length === 0) return { name, passing: true, message: "no series" };
  const labels = series.slice(0, 3).map((s) => s.metric.alertname ?? JSON.stringify(s.metric));
  return { name, passing: false, message: `${series.length} series returned: ${labels.join(", ")}` };
}
