// Alertmanager's v2 silences API, as the plan's silence uses it: create or renew (POST with the
// silence's ID replaces it), expire (DELETE), and find the plan's own active silences by who made
// them and for which plan, so that a write lost with a status update is found again, not doubled.
import { z } from "zod";
import type { Action } from "../model/actions.ts";

const createdBy = "talos-upgrade-operator";

const timeoutMs = 10_000;

const silenceSchema = z.object({
  id: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  status: z.object({ state: z.enum(["active", "pending", "expired"]) }),
});

/** The comment's head names the plan: what finds the plan's silences again. */
const planMark = (plan: string) => `plan ${plan} `;

async function call(url: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      (error as Error).name === "TimeoutError"
        ? `Alertmanager: no answer within ${timeoutMs / 1000}s`
        : `Alertmanager: ${cause ?? "unreachable"}`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`Alertmanager: HTTP ${response.status}: ${text.slice(0, 200)}`);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

const api = (base: string, path: string) => `${base.replace(/\/+$/, "")}/api/v2${path}`;

/** The active or pending silences this operator made for `plan`. */
async function planSilences(base: string, plan: string): Promise<string[]> {
  const listed = z.array(silenceSchema).parse(await call(api(base, "/silences"), { method: "GET" }));
  return listed
    .filter(
      (s) =>
        s.createdBy === createdBy && s.comment.startsWith(planMark(plan)) && s.status.state !== "expired",
    )
    .map((s) => s.id);
}

/** The write the core asks for. */
type SilenceWrite = Omit<Extract<Action, { kind: "putSilence" }>, "kind" | "node">;

/** Creates the plan's silence, or renews it; resolves to the ID Alertmanager now knows it by. */
export async function putSilence(write: SilenceWrite, now: Date): Promise<string> {
  const id = write.id ?? (await planSilences(write.url, write.plan))[0];
  const body = {
    ...(id ? { id } : {}),
    matchers: write.matchers.map((m) => ({
      name: m.name,
      value: m.value,
      isRegex: m.matchType.endsWith("~"),
      isEqual: !m.matchType.startsWith("!"),
    })),
    startsAt: now.toISOString(),
    endsAt: write.endsAt,
    createdBy,
    comment: `${planMark(write.plan)}${write.comment}`,
  };
  const answer = z.object({ silenceID: z.string() }).parse(
    await call(api(write.url, "/silences"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return answer.silenceID;
}

/** Expires `id` and every other active silence this operator made for the plan. */
export async function expireSilences(base: string, plan: string, id: string | undefined): Promise<void> {
  const ids = new Set([...(id ? [id] : []), ...(await planSilences(base, plan))]);
  for (const each of ids) {
    try {
      await call(api(base, `/silence/${encodeURIComponent(each)}`), { method: "DELETE" });
    } catch (error) {
      // Already expired or gone (Alertmanager answers 404 or 500 for those): nothing left to end.
      if (!(await planSilences(base, plan)).includes(each)) continue;
      throw error;
    }
  }
}
