import { evaluateCel } from "../../../src/health/cel.ts";

const check = (expression: string) => ({
  name: "ceph",
  resource: { apiVersion: "ceph.rook.io/v1", kind: "CephCluster", namespace: "rook-ceph", name: "rook-ceph" },
  expression,
});
const cluster = {
  apiVersion: "ceph.rook.io/v1",
  kind: "CephCluster",
  metadata: { name: "rook-ceph" },
  status: { ceph: { health: "HEALTH_OK" } },
};

it.each([
  ["a true expression passes", "object.status.ceph.health == 'HEALTH_OK'", true, "passed"],
  [
    "a false expression fails",
    "object.status.ceph.health == 'HEALTH_WARN'",
    false,
    "failed: the expression is false",
  ],
  [
    "a missing field fails, saying so",
    "object.status.missing == 1",
    false,
    "evaluation failed: field not found: missing",
  ],
  [
    "a non-boolean result fails, naming its type",
    "object.status.ceph.health",
    false,
    "returned a string, not a boolean",
  ],
  ["an expression that does not compile fails", "object.status ==", false, "expression does not compile"],
])("%s", (_case, expression, passing, message) => {
  const result = evaluateCel(check(expression), cluster);
  expect(result).toMatchObject({ name: "cel/ceph", passing });
  expect(result.message).toContain(message);
});

it("a missing object fails with the read error", () => {
  expect(evaluateCel(check("true"), undefined, "CephCluster rook-ceph not found")).toEqual({
    name: "cel/ceph",
    passing: false,
    message: "CephCluster rook-ceph not found",
  });
});

it("never puts the value it read into the message: a check pointed at a Secret's key", () => {
  const key =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPlanted0000000000000000000000000000\n-----END EC PRIVATE KEY-----";
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "talos-upgrade-operator", namespace: "talos-upgrade-system" },
    data: { config: Buffer.from(key).toString("base64") },
    stringData: { key },
  };
  const results = [
    "object.data.config",
    "object.stringData.key",
    "object.stringData",
    "[object.stringData.key]",
    "object.stringData.key == 'x'",
    "object.stringData.key + 1",
    "int(object.stringData.key)",
  ].map((expression) => evaluateCel(check(expression), secret));
  for (const result of results) {
    expect(result.passing).toBe(false);
    expect(result.message).not.toContain("Planted");
    expect(result.message).not.toContain("BEGIN");
    expect(result.message).not.toContain(secret.data.config.slice(0, 16));
  }
});
