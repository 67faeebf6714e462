// The operator dies mid-upgrade and comes back: it resumes from status and the machines' facts,
// and no node is upgraded twice. Also when the node it runs on is the one being upgraded.
import { checkAndStopAfterEach, Scenario } from "./scenario.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("crashes, end to end", () => {
  let scenario: Scenario;

  checkAndStopAfterEach(() => scenario);

  it("killed with SIGKILL three times mid-upgrade, a restarted operator finishes without repeating a call", async () => {
    scenario = await new Scenario().start({ controlPlanes: 3, workers: 2 });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    for (const [index, state] of ["Upgrading", "Rebooting", "Draining"].entries()) {
      await scenario
        .waitFor(`jsonpath={.status.nodes[${index + 1}].state}=${state}`, 90)
        .catch(() => undefined);
      await scenario.operator.kill();
      await sleep(500);
      scenario.startOperator({}, `operator-${index + 2}`);
    }
    await scenario.waitFor("condition=Ready", 150);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual(Array(5).fill(1));
    expect(scenario.recorder.maxControlPlanesDown).toBe(1);
    expect(scenario.recorder.maxWorkersDown).toBe(1);
    expect(scenario.fleet.nodes().every((n) => n.version === "v1.12.4")).toBe(true);
  });

  it("the node hosting the operator is upgraded: the operator dies with it and its successor verifies and finishes", async () => {
    scenario = await new Scenario().start({ controlPlanes: 1, workers: 2 });
    const host = scenario.fleet.node(scenario.node("worker-1"));
    let restarts = 0;
    // The operator's pod runs on worker-1: when that machine reboots, the process is gone; it comes
    // back once the machine does, as a Deployment's pod would.
    host.listen({
      down: () => void scenario.operator.kill(),
      up: () => {
        restarts++;
        scenario.startOperator({}, `operator-after-reboot-${restarts}`);
      },
    });
    await scenario.apply({ talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "2m" } });
    await scenario.waitFor("condition=Ready", 150);
    expect(restarts).toBe(1);
    expect(Object.values(scenario.recorder.upgradeCalls())).toEqual([1, 1, 1]);
    expect((await scenario.status()).nodes?.find((n) => n.name === host.hostname)?.state).toBe("Done");
  });
});
