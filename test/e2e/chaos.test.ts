// Chaos: a 3 control plane + 10 worker rollout while the operator is SIGKILLed at random moments
// and the kube-apiserver is restarted once. The moments come from a seeded PRNG (CHAOS_SEED replays
// a run's schedule; CHAOS_KILLS sets the count: 6 here by default, 30 in `npm run test:chaos`). The
// safety invariants hold over the whole run, and the plan completes with every node upgraded once.
import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";
import { type E2eCluster, startE2eControlPlane } from "../../testkit/control-plane/e2e-cluster.ts";
import { budgetOf } from "../../testkit/e2e/oracles.ts";
import { checkAndStopAfterEach, Scenario } from "../../testkit/e2e/scenario.ts";
import { OperatorSupervisor } from "../../testkit/e2e/supervisor.ts";
import { seededRandom, seedFrom } from "../harness/prng.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const random = seededRandom(seedFrom("CHAOS_SEED"));
const kills = Number(process.env.CHAOS_KILLS ?? 6);
const target = "v1.12.4";
const maxUnavailable = 2;

describe("chaos, end to end", () => {
  // A control plane of its own: restarting the kube-apiserver must not disturb other e2e files.
  let plane: ControlPlane;
  let cluster: E2eCluster;
  let scenario: Scenario;

  beforeAll(async () => {
    ({ plane, cluster } = await startE2eControlPlane());
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });
  checkAndStopAfterEach(() => scenario);

  it(`${kills} SIGKILLs of the operator and a kube-apiserver restart during a 3 + 10 node rollout`, async () => {
    console.log(
      `chaos: seed ${random.seed}, ${kills} kills (CHAOS_SEED=${random.seed} CHAOS_KILLS=${kills} replays)`,
    );
    const started = Date.now();
    scenario = await new Scenario(cluster).start({
      controlPlanes: 3,
      workers: 10,
      // Reboots long enough that the rollout outlasts the kill schedule (about 2.25 s per kill).
      timing: { rebootMs: Math.max(1_500, kills * 350) },
    });
    // A killed operator comes back as a restarted container (same pod name, so it takes its Lease
    // back at once) or as a new pod (a new name, so it waits for the old Lease to expire).
    let pods = 1;
    const supervisor = new OperatorSupervisor(
      scenario.operator,
      () =>
        scenario.startOperator({}, random.next() < 0.5 ? scenario.operator.identity : `operator-${++pods}`),
      () => random.between(0, 1_000),
    );
    await scenario.apply({ talos: { version: target }, rollout: { maxUnavailable, nodeTimeout: "5m" } });
    const restartAfter = random.between(1, Math.max(1, kills - 1));
    let apiServerRestarts = 0;
    const completed = async () =>
      (await scenario.status().catch(() => ({ phase: undefined }))).phase === "Completed";

    while (supervisor.kills < kills && !(await completed())) {
      const alive = random.between(500, 4_000);
      if (supervisor.kills + 1 === restartAfter) {
        const before = random.between(0, alive);
        await sleep(before);
        await plane.restartApiServer();
        apiServerRestarts++;
        await sleep(alive - before);
      } else {
        await sleep(alive);
      }
      await supervisor.kill();
    }
    const rollout = await scenario.waitFor("condition=Ready", 300).then(
      () => "completed",
      (error: Error) => error.message,
    );
    await supervisor.stop();

    // Every invariant is collected rather than asserted one by one, so the summary counts them all.
    const status = await scenario.status();
    const calls = scenario.recorder.upgradeCalls();
    const budget = budgetOf(maxUnavailable, scenario.fleet.workers().length);
    const violations = [
      ...(scenario.recorder.maxControlPlanesDown > 1
        ? [`${scenario.recorder.maxControlPlanesDown} control planes unavailable at once`]
        : []),
      ...(scenario.recorder.maxWorkersDown > budget
        ? [`${scenario.recorder.maxWorkersDown} workers unavailable at once (budget ${budget})`]
        : []),
      ...Object.entries(calls)
        .filter(([, n]) => n !== 1)
        .map(([node, n]) => `${node} got ${n} upgrade calls`),
      ...scenario.fleet
        .nodes()
        .filter((n) => n.version !== target)
        .map((n) => `${n.hostname} is on ${n.version}`),
      ...(await scenario.cordonedNodes()).map((node) => `${node} is left cordoned`),
      ...(status.phase === "Completed" ? [] : [`the plan is ${status.phase}: ${rollout}`]),
      ...(supervisor.kills < kills
        ? [`the plan completed after only ${supervisor.kills} of ${kills} kills`]
        : []),
    ];
    console.log(
      `chaos summary: seed ${random.seed}, kills survived ${supervisor.kills}, operator exits on its own ${supervisor.selfExits}, kube-apiserver restarts ${apiServerRestarts}, violations ${violations.length}, ${Math.round((Date.now() - started) / 1000)} s`,
    );
    expect(violations).toEqual([]);
    expect(apiServerRestarts).toBe(1);
  }, 900_000);
});
