// The plan's hooks as one pass sees them: which Job each run is, whether a stage is done, under
// way or failed, and the runs status keeps. A run is asked for once, under a Job name fixed when
// it is first recorded, so a restarted operator (or a pass whose status write was refused) finds
// the same Job instead of running the hook again.
import { createHash } from "node:crypto";
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { HookRun, HookSpec, HookStage, HooksStatus } from "../api/v1alpha1/hooks.ts";
import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { Plan } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action } from "../model/actions.ts";
import type { HookJobState } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";

/**
 * The node a run is for, and its step: the boot its upgrade call goes from, so that each reboot of
 * a node (an intermediate release, a new schematic at the same version, a retry) runs its hooks
 * anew, and a node retargeted before its call does not run them twice.
 */
interface HookNode {
  name: string;
  version?: string | undefined;
  step: string;
}

export type HookGate =
  | { kind: "done"; finishedAt?: string }
  | { kind: "running"; actions: Action[]; message: string; wakeAt?: number }
  | { kind: "failed"; reason: string; message: string };

const done: HookGate = { kind: "done" };

const stageLists = {
  BeforePlan: "beforePlan",
  BeforeNode: "beforeNode",
  AfterNode: "afterNode",
  AfterPlan: "afterPlan",
} as const;

/** A Job name of at most 56 characters: the plan's and the hook's names, then a hash of the run. */
function hookJobName(plan: string, hook: string, key: string): string {
  const prefix = plan
    .slice(0, 20)
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 10);
  return `${prefix}-${hook}-${hash}`;
}

export class HookLedger {
  private runs: HookRun[];
  private rollout: string | undefined;
  private finished: boolean;
  private readonly plan: Plan;
  /** Undefined when the shell read no Jobs: runs under way are then left as they are. */
  private readonly jobs: Map<string, HookJobState> | undefined;
  private readonly now: Date;
  /** The retry annotation value this pass acts on: a run asked for after a retry is a new Job. */
  private readonly attempt: string;

  constructor(
    plan: Plan,
    jobs: Map<string, HookJobState> | undefined,
    now: Date,
    retry: { requested: boolean; value: string | undefined },
  ) {
    const previous = plan.status?.hooks;
    this.plan = plan;
    this.jobs = jobs;
    this.now = now;
    this.attempt = retry.value ?? "";
    this.rollout = previous?.rollout;
    this.finished = previous?.finished ?? false;
    // A retry runs failed hooks again, as new Jobs; the ones that succeeded are not run twice.
    this.runs = (previous?.runs ?? []).filter((r) => !(retry.requested && r.state === "Failed"));
  }

  private hooks(stage: HookStage): HookSpec[] {
    return this.plan.spec.hooks?.[stageLists[stage]] ?? [];
  }

  has(stage: HookStage): boolean {
    return this.hooks(stage).length > 0;
  }

  /**
   * The plan has work to start: a rollout begins (unless one is under way) and its beforePlan
   * hooks run. A plan with no hooks begins none.
   */
  begin(): HookGate {
    const any = Object.values(stageLists).some((list) => (this.plan.spec.hooks?.[list].length ?? 0) > 0);
    if (!any) return done;
    // Work that appears once the afterPlan hooks have begun (a node joined) is a new rollout.
    const closing = this.runs.some((r) => r.stage === "AfterPlan");
    if (!this.active || closing) this.reset();
    return this.run("BeforePlan");
  }

  /** A rollout whose beforePlan or node hooks ran, and whose afterPlan hooks have not yet succeeded. */
  get active(): boolean {
    return this.rollout !== undefined && !this.finished;
  }

  /**
   * The hooks of `stage` (for `node`, in its step), one after another in the plan's order:
   * done when all succeeded; else the run under way, asked for if it is new, or the failure.
   */
  run(stage: HookStage, node?: HookNode): HookGate {
    const hooks = this.hooks(stage);
    if (hooks.length === 0) return done;
    // Hooks added to a plan mid-rollout: the rollout is taken as beginning now.
    if (!this.active) this.reset();
    let finishedAt: string | undefined;
    for (const hook of hooks) {
      const gate = this.advance(stage, hook, node);
      if (gate.kind !== "done") return gate;
      finishedAt = gate.finishedAt;
    }
    return { kind: "done", ...(finishedAt ? { finishedAt } : {}) };
  }

  /** Once the afterPlan hooks succeeded: the next work begins a new rollout. */
  finish(): void {
    this.finished = true;
  }

  /** What status keeps: the plan's runs, and those of nodes in flight or failed. */
  status(entries: NodeStatus[]): HooksStatus | undefined {
    if (this.rollout === undefined) return undefined;
    const kept = new Set(
      entries
        .filter((e) => e.state !== "Pending" && e.state !== "Done" && e.state !== "Skipped")
        .map((e) => e.name),
    );
    const runs = this.runs.filter((r) => r.node === undefined || kept.has(r.node));
    return { rollout: this.rollout, finished: this.finished, runs };
  }

  /**
   * A new rollout, named by the end of the last one in the history and a count of those begun
   * since: the same pass over the same status names it the same, so a refused write changes nothing.
   */
  private reset(): void {
    const after = this.plan.status?.history.at(-1)?.completedAt ?? "";
    const previous = this.rollout?.startsWith(`${after}#`)
      ? Number(this.rollout.slice(after.length + 1))
      : -1;
    this.rollout = `${after}#${previous + 1}`;
    this.finished = false;
    this.runs = [];
  }

  private advance(stage: HookStage, hook: HookSpec, node?: HookNode): HookGate {
    const index = this.runs.findIndex(
      (r) => r.stage === stage && r.hook === hook.name && r.node === node?.name && r.step === node?.step,
    );
    const run = this.runs[index];
    if (!run) return this.ask(stage, hook, node);
    const next = this.observe(run, hook);
    this.runs[index] = next;
    const what = `hook ${hook.name} (${stage}${node ? ` of ${node.name}` : ""}, Job ${next.job})`;
    switch (next.state) {
      case "Succeeded":
        return { kind: "done", ...(next.finishedAt ? { finishedAt: next.finishedAt } : {}) };
      case "Failed":
        return {
          kind: "failed",
          reason: next.reason ?? Reason.HookFailed,
          message: `${what} ${next.message}`,
        };
      default: {
        const since = this.jobs?.get(next.job)?.createdAt ?? this.now.toISOString();
        const wakeAt = Date.parse(since) + parseDuration(hook.timeout);
        // Asked for but never seen: asked again under the same name (creating it twice is one Job).
        const actions = next.state === "Pending" ? [this.action(stage, hook, node, next.job)] : [];
        return { kind: "running", actions, message: `running ${what}`, wakeAt };
      }
    }
  }

  private ask(stage: HookStage, hook: HookSpec, node?: HookNode): HookGate {
    const key = [
      this.plan.metadata.uid ?? "",
      this.rollout,
      stage,
      hook.name,
      node?.name ?? "",
      node?.step ?? "",
      this.attempt,
    ].join("/");
    const job = hookJobName(this.plan.metadata.name, hook.name, key);
    const startedAt = this.now.toISOString();
    this.runs.push({
      stage,
      hook: hook.name,
      ...(node ? { node: node.name } : {}),
      ...(node ? { step: node.step } : {}),
      job,
      state: "Pending",
      startedAt,
      message: "",
    });
    const message = `running hook ${hook.name} (${stage}${node ? ` of ${node.name}` : ""}, Job ${job})`;
    return {
      kind: "running",
      actions: [this.action(stage, hook, node, job)],
      message,
      wakeAt: Date.parse(startedAt) + parseDuration(hook.timeout),
    };
  }

  /** The run as its Job now stands: succeeded, failed, past its timeout, or gone after it was seen. */
  private observe(run: HookRun, hook: HookSpec): HookRun {
    if (run.state === "Succeeded" || run.state === "Failed") return run;
    const at = this.now.toISOString();
    const failed = (reason: string, message: string): HookRun => ({
      ...run,
      state: "Failed",
      finishedAt: at,
      reason,
      message,
    });
    const job = this.jobs?.get(run.job);
    if (job?.state === "Succeeded")
      return { ...run, state: "Succeeded", finishedAt: at, message: "succeeded" };
    if (job?.state === "Failed")
      return failed(Reason.HookFailed, `failed: ${job.message ?? "the Job failed"}`);
    // The timeout runs from the Job's creation: a run asked for while its Job could not be made (a
    // lost action, a plan with no node to work on) is not out of time before its Job exists.
    const since = job ? (job.createdAt ?? run.startedAt) : undefined;
    if (since && this.now.getTime() - Date.parse(since) > parseDuration(hook.timeout))
      return failed(Reason.HookTimeout, `did not succeed within ${hook.timeout}`);
    if (!this.jobs) return run;
    if (!job && run.state === "Running")
      return failed(Reason.HookFailed, "failed: the Job was deleted before it finished");
    return job ? { ...run, state: "Running", message: "running" } : run;
  }

  private action(stage: HookStage, hook: HookSpec, node: HookNode | undefined, job: string): Action {
    const spec = this.plan.spec;
    const talosVersion = node?.version ?? spec.talos?.version;
    const env = [
      { name: "TALOS_UPGRADE_PLAN", value: this.plan.metadata.name },
      { name: "TALOS_UPGRADE_HOOK", value: hook.name },
      { name: "TALOS_UPGRADE_STAGE", value: stage },
      ...(node ? [{ name: "TALOS_UPGRADE_NODE", value: node.name }] : []),
      ...(talosVersion ? [{ name: "TALOS_UPGRADE_TALOS_VERSION", value: talosVersion }] : []),
      ...(spec.kubernetes
        ? [{ name: "TALOS_UPGRADE_KUBERNETES_VERSION", value: spec.kubernetes.version }]
        : []),
    ];
    return {
      kind: "runHook",
      job,
      plan: this.plan.metadata.name,
      hook: hook.name,
      stage,
      ...(node ? { node: node.name } : {}),
      spec: hook.job,
      timeoutSeconds: Math.ceil(parseDuration(hook.timeout) / 1000),
      env,
    };
  }
}

/** A plan-level gate as the plan's verdict: waiting while a hook runs, failed when one failed. */
export function hookVerdict(gate: HookGate): Verdict | undefined {
  switch (gate.kind) {
    case "done":
      return undefined;
    case "running":
      return { kind: "waiting", reason: Reason.WaitingForHook, message: gate.message };
    default:
      return { kind: "failed", reason: gate.reason, message: gate.message };
  }
}
