// Hook Jobs on the real apiserver, run by the real Job controller and scheduler, their pods by the
// kubelet stand-in: what HookJobs.create writes (labels, node annotation, variables, defaults, the
// user's own values kept, the JobSpec sent as written), that creating twice makes one Job, and the
// state list() reads from the Job controller's conditions (Succeeded, Failed with its reason,
// Running, past the deadline, and a pod lost to a reboot).
import { BatchV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { apiMessage, httpStatus } from "../../src/kube/client.ts";
import { type HookJobRequest, HookJobs, planLabel, planSelector } from "../../src/kube/jobs.ts";
import type { HookJobState } from "../../src/model/observation.ts";
import { adminKubeConfig, uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { exitCodeAnnotation, Kubelets, runMsAnnotation } from "../../testkit/fleet/kubelet.ts";

// The labels and the annotation a hook Job carries, written out here rather than read from src/: a
// selector someone wrote against them must go on finding the Jobs.
const planLabelKey = "upgrade.talos-operator.dev/plan";
const hookLabelKey = "upgrade.talos-operator.dev/hook";
const stageLabelKey = "upgrade.talos-operator.dev/stage";
const nodeAnnotation = "upgrade.talos-operator.dev/node";

describe("hook Jobs", () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const namespace = uniqueName("hooks");
  const prefix = `${namespace}-`;
  const worker = `${prefix}worker-1`;
  // Longer than a label value: the plan label is its short form.
  const plan = `${namespace}-a-plan-whose-name-is-longer-than-any-label-value-may-be`;
  const hooks = new HookJobs(kc, namespace);
  let fleet: Fleet;
  let kubelets: Kubelets;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    fleet = await Fleet.start({
      controlPlanes: 0,
      workers: 1,
      talosVersion: "v1.12.4",
      namePrefix: prefix,
      timing: { rebootMs: 300 },
    });
    kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 500, podReadyMs: 50 });
  });

  afterAll(async () => {
    await kubelets.stop();
    await fleet.stop();
    await core.deleteNode({ name: worker }).catch(() => undefined);
  });

  /** A JobSpec whose pod runs on the simulated worker and ends as the annotations say. */
  const jobSpec = (annotations: Record<string, string> = {}) => ({
    template: {
      metadata: { annotations, labels: { team: "storage" } },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": worker },
        containers: [{ name: "hook", image: "registry.invalid/hook:1" }],
      },
    },
  });

  const request = (name: string, spec: Record<string, unknown>, timeoutSeconds = 600): HookJobRequest => ({
    job: name,
    plan,
    hook: "ceph-noout",
    stage: "BeforeNode",
    node: worker,
    env: [
      { name: "TALOS_UPGRADE_PLAN", value: plan },
      { name: "TALOS_UPGRADE_NODE", value: worker },
    ],
    spec,
    timeoutSeconds,
  });

  const stateOf = async (name: string): Promise<HookJobState | undefined> =>
    (await hooks.list(plan)).get(name);

  const waitForState = async (name: string, state: HookJobState["state"]): Promise<HookJobState> => {
    let last: HookJobState | undefined;
    await waitUntil(
      `${name} is ${state}`,
      async () => {
        last = await stateOf(name);
        return last?.state === state;
      },
      { timeoutMs: 30_000, intervalMs: 100, describe: () => `last seen: ${JSON.stringify(last)}` },
    );
    return last as HookJobState;
  };

  const podOf = async (job: string): Promise<V1Pod | undefined> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` }))
      .items[0];

  const waitForRunningPod = (job: string) =>
    waitUntil(`${job}'s pod runs`, async () => (await podOf(job))?.status?.phase === "Running", {
      timeoutMs: 30_000,
    });

  it("creates the Job with the hook's labels, the node, the variables and the defaults, once", async () => {
    const job = jobSpec();
    job.template.spec.containers = [
      {
        name: "hook",
        image: "registry.invalid/hook:1",
        env: [
          { name: "OWN", value: "kept" },
          { name: "TALOS_UPGRADE_NODE", value: "the user's" },
        ],
      } as (typeof job.template.spec.containers)[number],
    ];
    (job.template.spec as Record<string, unknown>).initContainers = [
      { name: "prepare", image: "registry.invalid/prepare:1" },
    ];
    await hooks.create(request("defaults", job));
    // A second pass, or a restarted operator, asks again: the Job there is the one.
    await hooks.create(request("defaults", job));

    const listed = await batch.listNamespacedJob({ namespace, labelSelector: planSelector(plan) });
    expect(listed.items.map((j) => j.metadata?.name)).toEqual(["defaults"]);
    const created = await batch.readNamespacedJob({ namespace, name: "defaults" });
    const labels = {
      [planLabelKey]: planLabel(plan),
      [hookLabelKey]: "ceph-noout",
      [stageLabelKey]: "BeforeNode",
    };
    expect(planLabel(plan)).not.toBe(plan);
    expect(planLabel(plan).length).toBeLessThanOrEqual(63);
    expect(created.metadata?.labels).toEqual(labels);
    expect(created.metadata?.annotations?.[nodeAnnotation]).toBe(worker);
    expect(created.spec?.activeDeadlineSeconds).toBe(600);
    expect(created.spec?.backoffLimit).toBe(0);
    const pod = created.spec?.template;
    expect(pod?.spec?.restartPolicy).toBe("Never");
    expect(pod?.metadata?.labels).toMatchObject({ ...labels, team: "storage" });
    // The user's variables first; the operator's after them, so that a name given twice is the operator's.
    expect(pod?.spec?.containers[0]?.env).toEqual([
      { name: "OWN", value: "kept" },
      { name: "TALOS_UPGRADE_NODE", value: "the user's" },
      { name: "TALOS_UPGRADE_PLAN", value: plan },
      { name: "TALOS_UPGRADE_NODE", value: worker },
    ]);
    expect(pod?.spec?.initContainers?.[0]?.env).toEqual([
      { name: "TALOS_UPGRADE_PLAN", value: plan },
      { name: "TALOS_UPGRADE_NODE", value: worker },
    ]);
    await waitForState("defaults", "Succeeded");
  });

  it("keeps the deadline, retries and restart policy the user set", async () => {
    const job = {
      ...jobSpec(),
      activeDeadlineSeconds: 120,
      backoffLimit: 2,
    };
    (job.template.spec as Record<string, unknown>).restartPolicy = "OnFailure";
    await hooks.create({ ...request("own-values", job), stage: "AfterPlan", node: undefined });
    const created = await batch.readNamespacedJob({ namespace, name: "own-values" });
    expect(created.spec?.activeDeadlineSeconds).toBe(120);
    expect(created.spec?.backoffLimit).toBe(2);
    expect(created.spec?.template.spec?.restartPolicy).toBe("OnFailure");
    expect(created.metadata?.labels?.[stageLabelKey]).toBe("AfterPlan");
    expect(created.metadata?.annotations?.[nodeAnnotation]).toBeUndefined();
  });

  it("sends the user's JobSpec as written: a misspelt field refuses the Job, naming the field", async () => {
    const job = { ...jobSpec(), activeDeadlineSecond: 5 };
    const refused = await hooks.create(request("misspelt", job)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(httpStatus(refused)).toBe(400);
    expect(apiMessage(refused)).toContain("activeDeadlineSecond");
    expect(await stateOf("misspelt")).toBeUndefined();
  });

  it("reads Succeeded, Failed with the Job controller's reason, and Running", async () => {
    await Promise.all([
      hooks.create(request("exits-0", jobSpec({ [exitCodeAnnotation]: "0" }))),
      hooks.create(request("exits-1", jobSpec({ [exitCodeAnnotation]: "1" }))),
      hooks.create(request("runs-long", jobSpec({ [runMsAnnotation]: "600000" }))),
    ]);
    const [succeeded, failed] = await Promise.all([
      waitForState("exits-0", "Succeeded"),
      waitForState("exits-1", "Failed"),
      waitForRunningPod("runs-long"),
    ]);
    // The Job's creation time comes with its state: a hook's timeout runs from it.
    expect(succeeded).toEqual({ state: "Succeeded", createdAt: expect.stringMatching(/^\d{4}-.*Z$/) });
    expect(Date.now() - Date.parse(succeeded.createdAt ?? "")).toBeLessThan(60_000);
    expect(failed.message).toMatch(/^BackoffLimitExceeded: /);
    const pod = await podOf("exits-1");
    expect(pod?.status?.phase).toBe("Failed");
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 1,
      reason: "Error",
    });
    expect(await stateOf("runs-long")).toMatchObject({ state: "Running" });
  });

  it("fails a hook past its deadline, as the Job controller says", async () => {
    await hooks.create(request("too-slow", jobSpec({ [runMsAnnotation]: "600000" }), 1));
    const failed = await waitForState("too-slow", "Failed");
    expect(failed.message).toMatch(/^DeadlineExceeded: /);
  });

  it("fails a hook whose machine reboots under its pod: the container is killed (137)", async () => {
    await hooks.create(request("rebooted", jobSpec({ [runMsAnnotation]: "600000" })));
    await waitForRunningPod("rebooted");
    const machine = fleet.node(worker);
    machine.startReboot("test");
    const failed = await waitForState("rebooted", "Failed");
    expect(failed.message).toMatch(/^BackoffLimitExceeded: /);
    const pod = await podOf("rebooted");
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    expect(pod?.status?.reason).toBe("Terminated");
    await waitUntil("the machine is back", async () => machine.up, { timeoutMs: 10_000 });
    // Once back, the kubelet does not run the Job's pod again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await podOf("rebooted"))?.status?.phase).toBe("Failed");
    expect(kubelets.errors).toEqual([]);
  });
});
