// The pure parts of the hook Jobs adapter: the plan label's short form, the Job built for a
// request, and the state read from a Job's conditions (the integration test runs them for real).
import { type HookJobRequest, hookJob, hookJobState, planLabel } from "../../../src/kube/jobs.ts";

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("planLabel", () => {
  it("is the plan's name when that is a label value", () => {
    expect(planLabel("upgrade-to-v1.12")).toBe("upgrade-to-v1.12");
    expect(planLabel("a".repeat(63))).toBe("a".repeat(63));
  });

  it("is a stable short form, distinct per plan, for a name longer than a label value", () => {
    const long = `${"a".repeat(60)}.example.com`;
    const other = `${"a".repeat(60)}.example.org`;
    expect(planLabel(long)).toBe(planLabel(long));
    expect(planLabel(long)).not.toBe(planLabel(other));
    for (const name of [long, other, `.${"-".repeat(80)}`, "x".repeat(253)]) {
      expect(planLabel(name).length).toBeLessThanOrEqual(63);
      expect(planLabel(name)).toMatch(labelValue);
    }
    // The underscore keeps the short form apart from every object name.
    expect(planLabel(long)).toContain("_");
  });
});

describe("hookJob", () => {
  const request: HookJobRequest = {
    job: "plan-after-plan-0",
    plan: "plan",
    hook: "smoke",
    stage: "AfterPlan",
    env: [{ name: "TALOS_UPGRADE_STAGE", value: "AfterPlan" }],
    spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } },
    timeoutSeconds: 30,
  };

  it("has no node annotation without a node, and no initContainers the user did not write", () => {
    const job = hookJob(request, "ns");
    expect(job.metadata?.annotations).toBeUndefined();
    expect(job.metadata?.namespace).toBe("ns");
    expect(job.spec?.template.spec?.initContainers).toBeUndefined();
    expect(job.spec?.template.spec?.containers[0]?.env).toEqual(request.env);
  });

  it("leaves the user's JobSpec as written", () => {
    const before = JSON.stringify(request.job);
    hookJob(request, "ns");
    expect(JSON.stringify(request.job)).toBe(before);
  });
});

describe("hookJobState", () => {
  const job = (conditions: { type: string; status: string; reason?: string; message?: string }[]) => ({
    metadata: { name: "j" },
    status: { conditions },
  });

  it("reads when the Job was created, from the typed client's Date or a watch event's text", () => {
    const at = "2026-11-28T02:00:00.000Z";
    expect(hookJobState({ metadata: { name: "j", creationTimestamp: new Date(at) } })).toEqual({
      state: "Running",
      createdAt: at,
    });
    expect(hookJobState({ metadata: { name: "j", creationTimestamp: "2026-11-28T02:00:00Z" } })).toEqual({
      state: "Running",
      createdAt: at,
    });
  });

  it("reads the Job controller's conditions", () => {
    expect(hookJobState({ metadata: { name: "j" } })).toEqual({ state: "Running" });
    expect(hookJobState(job([{ type: "Complete", status: "True" }]))).toEqual({ state: "Succeeded" });
    expect(hookJobState(job([{ type: "SuccessCriteriaMet", status: "True" }]))).toEqual({
      state: "Succeeded",
    });
    expect(hookJobState(job([{ type: "Complete", status: "False" }]))).toEqual({ state: "Running" });
    expect(
      hookJobState(
        job([
          { type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded" },
          {
            type: "Failed",
            status: "True",
            reason: "BackoffLimitExceeded",
            message: "Job has reached the specified backoff limit",
          },
        ]),
      ),
    ).toEqual({
      state: "Failed",
      message: "BackoffLimitExceeded: Job has reached the specified backoff limit",
    });
  });
});
