// The permission triples the least-privilege e2e compares: rules expanded, audit events read.
import { auditedUse, expand } from "../harness/permissions.ts";

const user = "system:serviceaccount:default:talos-upgrade-operator";
const event = (fields: Record<string, unknown>) =>
  JSON.stringify({
    kind: "Event",
    level: "Metadata",
    stage: "ResponseComplete",
    user: { username: user },
    ...fields,
  });

it("expands rules into group/resource:verb triples, keeping wildcards visible", () => {
  expect(
    [
      ...expand([
        { apiGroups: [""], resources: ["nodes", "pods/eviction"], verbs: ["get", "create"] },
        { apiGroups: ["*"], resources: ["leases"], verbs: ["*"] },
      ]),
    ].sort(),
  ).toEqual([
    "*/leases:*",
    "core/nodes:create",
    "core/nodes:get",
    "core/pods/eviction:create",
    "core/pods/eviction:get",
  ]);
});

it("reads what one identity asked for from an audit log, refusals apart", () => {
  const log = [
    event({ verb: "watch", stage: "ResponseStarted", objectRef: { resource: "nodes", apiVersion: "v1" } }),
    event({ verb: "create", objectRef: { resource: "pods", subresource: "eviction", namespace: "default" } }),
    event({
      verb: "update",
      objectRef: {
        resource: "talosupgradeplans",
        subresource: "status",
        apiGroup: "upgrade.talos-operator.dev",
      },
    }),
    event({
      verb: "get",
      objectRef: { resource: "secrets", namespace: "kube-system" },
      responseStatus: { code: 403 },
    }),
    // Not this identity, not a resource, or only received: none of these count.
    event({ verb: "delete", user: { username: "admin" }, objectRef: { resource: "nodes" } }),
    event({ verb: "get", requestURI: "/apis" }),
    event({ verb: "patch", stage: "RequestReceived", objectRef: { resource: "nodes" } }),
    "",
  ].join("\n");
  const { used, forbidden } = auditedUse(log, user);
  expect([...used].sort()).toEqual([
    "core/nodes:watch",
    "core/pods/eviction:create",
    "upgrade.talos-operator.dev/talosupgradeplans/status:update",
  ]);
  expect([...forbidden]).toEqual(["core/secrets:get"]);
});
