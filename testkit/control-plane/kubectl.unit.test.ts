// A kubectl told to wait longer than the default process timeout is not killed before its own
// timeout: a `kubectl wait --timeout=420s` cut at 240 s hid the plan's status behind a bare kill.
import { processTimeoutMs } from "./kubectl.ts";

describe("kubectl's process timeout", () => {
  it("outlasts the wait kubectl is told, by half a minute", () => {
    expect(processTimeoutMs(["wait", "tup/x", "--for=condition=Ready", "--timeout=420s"])).toBe(450_000);
  });

  it("is 240 s for commands that wait less or not at all", () => {
    expect(processTimeoutMs(["rollout", "status", "deployment/x", "--timeout=60s"])).toBe(240_000);
    expect(processTimeoutMs(["get", "nodes"])).toBe(240_000);
  });
});
