// Webhook payloads (a generic JSON object, or Slack's and Teams' incoming-webhook shapes) and
// their delivery. A failure says what went wrong (a status, a refused connection), never the
// URL: webhook URLs carry their token.
import type { PlanSpec, PlanStatus } from "../api/v1alpha1/plan.ts";

type Pending = NonNullable<PlanStatus["notifications"]>["pending"][number];
type Format = PlanSpec["notifications"][number]["format"];

export function webhookBody(format: Format, plan: string, n: Pending): unknown {
  const line = `[talos-upgrade] ${plan}: ${n.event}${n.node ? ` ${n.node}` : ""}: ${n.message}`;
  if (format === "Slack" || format === "Teams") return { text: line };
  return {
    plan,
    event: n.event,
    ...(n.node ? { node: n.node } : {}),
    message: n.message,
    time: n.time,
    id: n.id,
  };
}

const timeoutMs = 10_000;

export async function postWebhook(url: string, body: unknown): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = (error as Error).name;
    throw new Error(
      name === "TimeoutError" ? `no answer within ${timeoutMs / 1000}s` : (cause ?? "unreachable"),
    );
  }
  await response.body?.cancel();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}
