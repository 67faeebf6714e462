import { evaluateCel } from "../../src/health/cel.ts";

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
  ["a true expression passes", "object.status.ceph.health == 'HEALTH_OK'", true, "true"],
  ["a false expression fails", "object.status.ceph.health == 'HEALTH_WARN'", false, "expression is false"],
  [
    "a missing field fails, saying so",
    "object.status.missing == 1",
    false,
    "evaluation failed: field not found: missing",
  ],
  ["a non-boolean result fails", "object.status.ceph.health", false, "expression is HEALTH_OK"],
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
