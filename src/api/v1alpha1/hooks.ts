// Hooks: Jobs a plan runs around its rollout (before it, before and after each node, after it),
// from Job templates written in the plan. The Job spec is the user's; admission checks only what
// the operator relies on (a pod template with containers), the apiserver checks the rest when the
// Job is created, and a Job it refuses fails the hook with its reason.
import { z } from "zod";
import { duration } from "./duration.ts";

const hookStages = ["BeforePlan", "BeforeNode", "AfterNode", "AfterPlan"] as const;
export type HookStage = (typeof hookStages)[number];

/** An object of which only some fields are declared: the apiserver keeps the others as written. */
const open = <T extends z.ZodRawShape>(shape: T) =>
  z.looseObject(shape).meta({ "x-kubernetes-preserve-unknown-fields": true });

const jobSpec = open({
  template: open({
    spec: open({
      containers: z
        .array(open({ name: z.string().min(1).max(63), image: z.string().min(1).max(1024) }))
        .min(1)
        .max(16),
    }),
  }),
}).describe(
  "A batch/v1 JobSpec. The operator names the Job, labels it, adds TALOS_UPGRADE_PLAN, TALOS_UPGRADE_HOOK, TALOS_UPGRADE_STAGE, TALOS_UPGRADE_NODE and TALOS_UPGRADE_TALOS_VERSION to every container, and defaults backoffLimit to 0, restartPolicy to Never and activeDeadlineSeconds to the hook's timeout.",
);

const hook = z.object({
  name: z
    .string()
    .min(1)
    .max(24)
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
      "must be a DNS label of at most 24 characters, such as ceph-noout",
    ),
  timeout: duration
    .default("10m")
    .describe("From the Job's creation to its success; past it the hook fails."),
  job: jobSpec,
});

export type HookSpec = z.output<typeof hook>;

const hookList = (what: string) =>
  z
    .array(hook)
    .max(8)
    .default([])
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })
    .describe(`${what} One after another, in order; a hook that fails stops the plan, naming it.`);

export const hooksSchema = z
  .object({
    beforePlan: hookList("Run once a rollout has work, before its first node or task is touched."),
    beforeNode: hookList("Run for each node once it is cordoned, before it is drained."),
    afterNode: hookList("Run for each node once it is verified on its new version and uncordoned."),
    afterPlan: hookList("Run once every node is done, before the plan is Completed."),
  })
  .describe("Jobs run in the operator's namespace around the rollout, each once per step, across restarts.");

const hookRunSchema = z.object({
  stage: z.enum(hookStages),
  hook: z.string(),
  node: z.string().optional(),
  /** The boot the node's upgrade call goes from: each reboot of a node runs its hooks anew. */
  step: z.string().optional(),
  /** The Job's name: fixed when the run is first asked for, so a restarted operator finds it. */
  job: z.string(),
  /** Pending: asked for, not yet seen; a Job seen once and then gone fails the run. */
  state: z.enum(["Pending", "Running", "Succeeded", "Failed"]),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Why a run failed: HookFailed or HookTimeout. */
  reason: z.string().optional(),
  message: z.string().default(""),
});

export type HookRun = z.infer<typeof hookRunSchema>;

export const hooksStatusSchema = z.object({
  /**
   * The rollout the runs below belong to: the end of the last one in the history (its completedAt;
   * empty before the first), then # and how many have begun since. Not its generation: a pass
   * whose status write is refused because the plan was edited meanwhile must name the same Jobs.
   */
  rollout: z.string(),
  /** The rollout's afterPlan hooks have succeeded: the next work begins a new rollout. */
  finished: z.boolean().default(false),
  /** The plan's own runs, and those of nodes in flight or failed. */
  runs: z.array(hookRunSchema).max(256).default([]),
});

export type HooksStatus = z.infer<typeof hooksStatusSchema>;
