// An Alertmanager silence held while a plan runs: nodes reboot on purpose, and on-call is not to be
// paged for a planned rollout. The operator creates it, renews it while work is under way (its
// nodes in flight named in it when the plan says which label carries a node's name), and expires
// it once the plan completes, fails or has nothing under way.
import { z } from "zod";
import { duration } from "./duration.ts";

const cel = (rule: string, message: string) => ({ rule, message });

const matcher = z.object({
  name: z.string().min(1).max(128),
  value: z.string().max(1024),
  matchType: z
    .enum(["=", "!=", "=~", "!~"])
    .default("=")
    .describe("As in Alertmanager: equal, not equal, regex, not regex."),
});

export const silenceSpecSchema = z
  .object({
    alertmanagerUrl: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL")
      .describe("Alertmanager's base URL; its v2 API is used (no authentication)."),
    matchers: z
      .array(matcher)
      .max(16)
      .default([])
      .describe("Every matcher must match an alert for it to be silenced."),
    nodeLabel: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "The alert label that carries a node's name (e.g. node or instance): the silence then covers the nodes in flight only, and exists only while one is.",
      ),
    duration: duration
      .default("30m")
      .describe(
        "Each silence's length; renewed while the plan runs, so a stopped operator's silence ends on its own.",
      ),
  })
  .meta({
    "x-kubernetes-validations": [
      cel(
        "size(self.matchers) > 0 || has(self.nodeLabel)",
        "a silence needs at least one matcher or a nodeLabel",
      ),
    ],
  })
  .describe("An Alertmanager silence held while the plan has work under way.");

export type SilenceMatcher = z.output<typeof matcher>;

export const silenceStatusSchema = z.object({
  /** The silence Alertmanager knows, once created. */
  id: z.string().optional(),
  /** When it ends unless renewed. */
  endsAt: z.string().optional(),
  /** The matchers it was last written with, as Alertmanager shows them (name, type, value). */
  matchers: z.array(z.string()).max(32).default([]),
  /** Why the last write to Alertmanager failed; the rollout does not wait on it. */
  lastError: z.string().optional(),
});

export type SilenceStatus = z.infer<typeof silenceStatusSchema>;
