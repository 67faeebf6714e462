// The bad input corpus, admission half: hostile and malformed plans applied with kubectl against
// the real apiserver are refused with a message that names the field. What admission rightly
// accepts is checked for what it means (an empty selector selects everything); what only run time
// can judge (time zones, cron dates, CEL, talosconfigs) is the e2e corpus in test/e2e/bad-input.
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { installCrd, planManifest } from "../../testkit/e2e/plans.ts";

beforeAll(installCrd);

const megabyte = "x".repeat(1024 * 1024);
const talos = { version: "v1.12.4" };
const celCheck = {
  name: "ceph",
  resource: { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "ceph" },
  expression: "object.data.health == 'HEALTH_OK'",
};
const prometheusCheck = { name: "alerts", url: "http://prometheus:9090", query: "ALERTS" };
const window = { schedule: "0 2 * * 6", duration: "4h", timeZone: "UTC" };
const secretRef = { name: "talosconfig", namespace: "talos-upgrade-system" };

/** [what, spec, the field the message must name]. Together with plan-admission.test.ts's table. */
const refused: [string, unknown, RegExp][] = [
  // Wrong types
  ["spec as a string", "upgrade everything", /\.spec: expected map/],
  ["talos as a list", { talos: ["v1.12.4"] }, /\.spec\.talos: expected map/],
  ["a number for the Talos version", { talos: { version: 1.12 } }, /\.spec\.talos\.version: expected string/],
  ["a boolean for drain.enabled as text", { talos, drain: { enabled: "yes" } }, /spec\.drain\.enabled/],
  ["a number for dryRun", { talos, dryRun: 1 }, /spec\.dryRun/],
  [
    "a fractional maxUnavailable",
    { talos, rollout: { maxUnavailable: 1.5 } },
    /spec\.rollout\.maxUnavailable/,
  ],
  [
    "a word for maxUnavailable",
    { talos, rollout: { maxUnavailable: "all" } },
    /spec\.rollout\.maxUnavailable/,
  ],
  ["a negative maxUnavailable", { talos, rollout: { maxUnavailable: -3 } }, /spec\.rollout\.maxUnavailable/],
  [
    "a single string for the builtin list",
    { talos, healthChecks: { builtin: "Nodes" } },
    /spec\.healthChecks\.builtin/,
  ],
  // Huge numbers and strings
  [
    "a maxUnavailable past int64",
    { talos, rollout: { maxUnavailable: 1e20 } },
    /spec\.rollout\.maxUnavailable/,
  ],
  [
    "a nodeTimeout of twenty digits",
    { talos, rollout: { nodeTimeout: "99999999999999999999h" } },
    /spec\.rollout\.nodeTimeout/,
  ],
  [
    "a soakTime of sixty digits",
    { talos, rollout: { soakTime: `${"9".repeat(60)}s` } },
    /spec\.rollout\.soakTime/,
  ],
  [
    "a health timeout of twelve digits",
    { talos, healthChecks: { timeout: "999999999999m" } },
    /spec\.healthChecks\.timeout/,
  ],
  ["a 1 MB Talos version", { talos: { version: `v1.12.4-${megabyte}` } }, /spec\.talos\.version: Too long/],
  ["a 1 MB installer image", { talos: { ...talos, image: megabyte } }, /spec\.talos\.image: Too long/],
  [
    "a 1 MB CEL expression",
    { talos, healthChecks: { cel: [{ ...celCheck, expression: megabyte }] } },
    /spec\.healthChecks\.cel\[0\]\.expression: Too long/,
  ],
  [
    "a 1 MB Prometheus query",
    { talos, healthChecks: { prometheus: [{ ...prometheusCheck, query: megabyte }] } },
    /spec\.healthChecks\.prometheus\[0\]\.query: Too long/,
  ],
  [
    "a 1 MB time zone",
    { talos, maintenanceWindows: [{ ...window, timeZone: megabyte }] },
    /spec\.maintenanceWindows\[0\]\.timeZone: Too long/,
  ],
  [
    "seventeen intermediate versions",
    { talos: { ...talos, intermediateVersions: Array(17).fill("v1.11.6") } },
    /spec\.talos\.intermediateVersions: Too many/,
  ],
  [
    "thirty-three CEL checks",
    { talos, healthChecks: { cel: Array.from({ length: 33 }, (_, i) => ({ ...celCheck, name: `c${i}` })) } },
    /spec\.healthChecks\.cel: Too many/,
  ],
  [
    "seventeen maintenance windows",
    { talos, maintenanceWindows: Array(17).fill(window) },
    /spec\.maintenanceWindows: Too many/,
  ],
  // Bad versions
  ["a version with a leading zero", { talos: { version: "v01.12.4" } }, /spec\.talos\.version/],
  ["an empty Kubernetes version", { kubernetes: { version: "" } }, /spec\.kubernetes\.version/],
  [
    "a bad intermediate version",
    { talos: { ...talos, intermediateVersions: ["v1.11"] } },
    /spec\.talos\.intermediateVersions\[0\]/,
  ],
  [
    "a bad Kubernetes intermediate version",
    { kubernetes: { version: "v1.35.2", intermediateVersions: ["1.34.x"] } },
    /spec\.kubernetes\.intermediateVersions\[0\]/,
  ],
  // Empty or malformed selectors and checks
  [
    "a selector operator that does not exist",
    { talos, nodeSelector: { matchExpressions: [{ key: "role", operator: "Like" }] } },
    /spec\.nodeSelector\.matchExpressions\[0\]\.operator/,
  ],
  [
    "a selector expression with an empty key",
    { talos, drain: { podSelector: { matchExpressions: [{ key: "", operator: "Exists" }] } } },
    /spec\.drain\.podSelector\.matchExpressions\[0\]\.key/,
  ],
  [
    "a label value longer than 63",
    { talos, nodeSelector: { matchLabels: { role: "w".repeat(64) } } },
    /spec\.nodeSelector\.matchLabels\.role: Too long/,
  ],
  [
    "a CEL check without a resource",
    { talos, healthChecks: { cel: [{ name: "c", expression: "true" }] } },
    /spec\.healthChecks\.cel\[0\]\.resource: Required/,
  ],
  [
    "an empty CEL expression",
    { talos, healthChecks: { cel: [{ ...celCheck, expression: "" }] } },
    /spec\.healthChecks\.cel\[0\]\.expression/,
  ],
  [
    "a CEL check with no name",
    { talos, healthChecks: { cel: [{ ...celCheck, name: "" }] } },
    /spec\.healthChecks\.cel\[0\]\.name/,
  ],
  [
    "a Prometheus URL that is not http",
    { talos, healthChecks: { prometheus: [{ ...prometheusCheck, url: "file:///etc/passwd" }] } },
    /spec\.healthChecks\.prometheus\[0\]\.url/,
  ],
  [
    "an empty Prometheus query",
    { talos, healthChecks: { prometheus: [{ ...prometheusCheck, query: "" }] } },
    /spec\.healthChecks\.prometheus\[0\]\.query/,
  ],
  // Bad cron and windows
  [
    "a six-field cron",
    { talos, maintenanceWindows: [{ ...window, schedule: "0 0 2 * * 6" }] },
    /spec\.maintenanceWindows\[0\]\.schedule/,
  ],
  [
    "a cron with a shell in it",
    { talos, maintenanceWindows: [{ ...window, schedule: "$(reboot) * * * *" }] },
    /spec\.maintenanceWindows\[0\]\.schedule/,
  ],
  [
    "a window without a duration",
    { talos, maintenanceWindows: [{ schedule: "0 2 * * 6" }] },
    /spec\.maintenanceWindows\[0\]\.duration: Required/,
  ],
  // talosConfig references
  [
    "a secretRef with an empty name",
    { talos, talosConfig: { secretRef: { ...secretRef, name: "" } } },
    /spec\.talosConfig\.secretRef\.name/,
  ],
  [
    "a secretRef without a namespace",
    { talos, talosConfig: { secretRef: { name: "talosconfig" } } },
    /spec\.talosConfig\.secretRef\.namespace: Required/,
  ],
  [
    "a secretRef with an empty key",
    { talos, talosConfig: { secretRef: { ...secretRef, key: "" } } },
    /spec\.talosConfig\.secretRef\.key/,
  ],
  // Unknown fields (server-side apply refuses them; client-side apply: plan-admission.test.ts)
  [
    "an unknown field in spec",
    { talos, upgradeEverythingNow: true },
    /\.spec\.upgradeEverythingNow: field not declared in schema/,
  ],
  [
    "an unknown field in a window",
    { talos, maintenanceWindows: [{ ...window, timezone: "UTC" }] },
    /\.spec\.maintenanceWindows\[0\]\.timezone: field not declared in schema/,
  ],
];

it.each(refused)("refuses %s, naming the field", async (_what, spec, field) => {
  const name = uniqueName("corpus");
  // Server-side apply keeps a 1 MB spec out of the last-applied annotation, so the spec is judged.
  const refusal = kubectl(["apply", "--server-side", "-f", "-"], planManifest(name, spec));
  await expect(refusal).rejects.toMatchObject({ stderr: expect.stringMatching(field) });
  await expect(kubectl(["get", "tup", name])).rejects.toMatchObject({
    stderr: expect.stringContaining("NotFound"),
  });
});

it.each([
  [
    "an unknown API version",
    "upgrade.talos-operator.dev/v1",
    /no matches for kind "TalosUpgradePlan" in version "upgrade\.talos-operator\.dev\/v1"/,
  ],
  ["a misspelt kind", "upgrade.talos-operator.dev/v1alpha1", /no matches for kind "TalosUpgradePlans"/],
])("refuses %s", async (what, apiVersion, message) => {
  const name = uniqueName("corpus");
  const manifest = JSON.parse(planManifest(name, { talos })) as Record<string, unknown>;
  manifest.apiVersion = apiVersion;
  if (what.includes("kind")) manifest.kind = "TalosUpgradePlans";
  await expect(kubectl(["apply", "-f", "-"], JSON.stringify(manifest))).rejects.toMatchObject({
    stderr: expect.stringMatching(message),
  });
});

it("refuses a name longer than 253 characters, naming metadata.name", async () => {
  await expect(kubectl(["apply", "-f", "-"], planManifest("p".repeat(254), { talos }))).rejects.toMatchObject(
    { stderr: expect.stringMatching(/metadata\.name/) },
  );
});

it("drops a status written with the plan instead of storing it", async () => {
  const name = uniqueName("corpus");
  const manifest = JSON.parse(planManifest(name, { talos })) as Record<string, unknown>;
  manifest.status = { phase: "Completed" };
  await kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
  const { stdout } = await kubectl(["get", "tup", name, "-o", "jsonpath={.status}"]);
  expect(stdout).toBe("");
});

// Accepted at admission on purpose; what they mean is asserted here and, at run time, in the e2e corpus.
it.each([
  ["an empty nodeSelector (every node)", { talos, nodeSelector: {} }, { nodeSelector: {} }],
  [
    "an empty podSelector (every evictable pod)",
    { talos, drain: { podSelector: {} } },
    { drain: { podSelector: {} } },
  ],
  ["paused and dryRun together", { talos, paused: true, dryRun: true }, { paused: true, dryRun: true }],
])("accepts %s and stores it as written", async (_what, spec, stored) => {
  const name = uniqueName("corpus");
  await kubectl(["apply", "-f", "-"], planManifest(name, spec));
  const { stdout } = await kubectl(["get", "tup", name, "-o", "json"]);
  expect((JSON.parse(stdout) as { spec: unknown }).spec).toMatchObject(stored);
  await kubectl(["delete", "tup", name]);
});
