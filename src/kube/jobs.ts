// Hook Jobs: the Job templates a plan names, created in the operator's namespace under a name the
// core chose, and read back by the plan's label. The name makes creation idempotent: a Job already
// there is the one an earlier pass (or an operator since restarted) created, so a hook step never
// runs twice. The Job controller runs them; only its conditions are read.
import { createHash } from "node:crypto";
import {
  BatchV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  type V1Job,
} from "@kubernetes/client-node";
import { z } from "zod";
import { group } from "../api/v1alpha1/plan.ts";
import type { Action } from "../model/actions.ts";
import type { HookJobState } from "../model/observation.ts";
import { httpStatus } from "./client.ts";

/** What the core asks for: the Job's name, the user's JobSpec (`spec`), the run's facts in `env`. */
export type HookJobRequest = Omit<Extract<Action, { kind: "runHook" }>, "kind">;

export const planLabelKey = `${group}/plan`;
const hookLabelKey = `${group}/hook`;
const stageLabelKey = `${group}/stage`;
const nodeAnnotation = `${group}/node`;

const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * A label value standing for `text`: the text itself when it is one (at most 63 characters of the
 * allowed set), else a readable head and a hash of the whole. The underscore joining them never
 * occurs in an object name, so the short form cannot equal another plan's own name.
 */
function labelValue(text: string): string {
  if (text.length <= 63 && labelValuePattern.test(text)) return text;
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 32);
  const head = text
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 30);
  return `${head || "h"}_${digest}`;
}

/** The plan label's value for a plan: what the plan's hook Jobs are selected by. */
export function planLabel(plan: string): string {
  return labelValue(plan);
}

/** The label selector of a plan's hook Jobs. */
export function planSelector(plan: string): string {
  return `${planLabelKey}=${planLabel(plan)}`;
}

type Container = Record<string, unknown> & { env?: unknown[] };

/**
 * The operator's variables go after the user's: with a name given twice Kubernetes takes the last,
 * so the operator's value wins (the apiserver warns about the duplicate when the Job is created).
 */
function withEnv(containers: unknown, env: HookJobRequest["env"]): Container[] {
  return (Array.isArray(containers) ? (containers as Container[]) : []).map((c) => ({
    ...c,
    env: [...(Array.isArray(c.env) ? c.env : []), ...env],
  }));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The pod template: the user's, with the hook's labels, the variables, and Never as the default restart policy. */
function podTemplate(request: HookJobRequest, labels: Record<string, string>): Record<string, unknown> {
  const template = record(request.spec.template);
  const metadata = record(template.metadata);
  const spec = record(template.spec);
  return {
    ...template,
    metadata: { ...metadata, labels: { ...record(metadata.labels), ...labels } },
    spec: {
      ...spec,
      restartPolicy: spec.restartPolicy ?? "Never",
      containers: withEnv(spec.containers, request.env),
      ...(spec.initContainers === undefined
        ? {}
        : { initContainers: withEnv(spec.initContainers, request.env) }),
    },
  };
}

/**
 * The Job for a request. backoffLimit defaults to 0: a failed hook is the plan's to report, not
 * retried behind its back (a user who wants retries sets it).
 */
export function hookJob(request: HookJobRequest, namespace: string): V1Job {
  const labels = {
    [planLabelKey]: planLabel(request.plan),
    [hookLabelKey]: labelValue(request.hook),
    [stageLabelKey]: request.stage,
  };
  const spec = request.spec;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: request.job,
      namespace,
      labels,
      ...(request.node === undefined ? {} : { annotations: { [nodeAnnotation]: request.node } }),
    },
    spec: {
      ...spec,
      activeDeadlineSeconds: spec.activeDeadlineSeconds ?? request.timeoutSeconds,
      backoffLimit: spec.backoffLimit ?? 0,
      template: podTemplate(request, labels),
    } as unknown as V1Job["spec"],
  };
}

const jobSchema = z.looseObject({
  // The typed client reads it as a Date; a raw watch event carries the string.
  metadata: z.looseObject({
    name: z.string(),
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
  }),
  status: z
    .looseObject({
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/**
 * A Job's state from its conditions. The messages are the Job controller's own (reason and
 * message of its Failed condition), never what the hook's pods wrote. SuccessCriteriaMet comes
 * before Complete, once the Job has succeeded and while its last pods terminate.
 */
export function hookJobState(job: unknown): HookJobState {
  const parsed = jobSchema.parse(job);
  const created = parsed.metadata.creationTimestamp;
  const at = created ? { createdAt: new Date(created).toISOString() } : {};
  const conditions = (parsed.status?.conditions ?? []).filter((c) => c.status === "True");
  const failed = conditions.find((c) => c.type === "Failed");
  if (failed) {
    const message = [failed.reason, failed.message].filter(Boolean).join(": ");
    return { state: "Failed", message: message || "the Job failed", ...at };
  }
  if (conditions.some((c) => c.type === "Complete" || c.type === "SuccessCriteriaMet")) {
    return { state: "Succeeded", ...at };
  }
  return { state: "Running", ...at };
}

/**
 * Sends a request's body as built. The typed client writes a body through its models, which drops
 * every field they do not know (one newer than the client): the user's JobSpec goes as written.
 */
function sentAsBuilt(body: unknown): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (request) => {
          request.setBody(JSON.stringify(body));
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

export class HookJobs {
  private readonly batch: BatchV1Api;
  private readonly namespace: string;

  constructor(kc: KubeConfig, namespace: string) {
    this.batch = kc.makeApiClient(BatchV1Api);
    this.namespace = namespace;
  }

  /**
   * Creates the Job; a Job of that name already there counts as created (a restarted operator
   * adopts it). Strict field validation: a field the apiserver does not know (misspelt) refuses
   * the Job, naming the field, where it would otherwise be dropped with a warning no one reads.
   */
  async create(request: HookJobRequest): Promise<void> {
    const job = hookJob(request, this.namespace);
    try {
      await this.batch.createNamespacedJob(
        { namespace: this.namespace, body: job, fieldValidation: "Strict" },
        sentAsBuilt(job),
      );
    } catch (error) {
      if (httpStatus(error) !== 409) throw error;
    }
  }

  /** The plan's hook Jobs (by label), by Job name, with their state. */
  async list(plan: string): Promise<Map<string, HookJobState>> {
    const jobs = await this.batch.listNamespacedJob({
      namespace: this.namespace,
      labelSelector: planSelector(plan),
    });
    return new Map(jobs.items.map((job) => [job.metadata?.name ?? "", hookJobState(job)]));
  }
}
