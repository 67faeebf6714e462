// Invalid plans are refused by `kubectl apply` at admission, with a message naming the field; a
// valid plan is stored with the schema's defaults filled in.
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { uniqueName } from "../../testkit/control-plane/shared-control-plane.ts";
import { installCrd, planManifest as plan } from "../../testkit/e2e/plans.ts";

beforeAll(installCrd);

it("stores a valid plan with defaults filled in", async () => {
  const name = uniqueName("valid");
  await kubectl(["apply", "-f", "-"], plan(name, { talos: { version: "v1.12.4" } }));
  const { stdout } = await kubectl(["get", "tup", name, "-o", "json"]);
  const stored = JSON.parse(stdout) as { spec: Record<string, Record<string, unknown>> };
  expect(stored.spec.rollout).toEqual({ maxUnavailable: 1, nodeTimeout: "30m", soakTime: "0s" });
  expect(stored.spec.drain).toMatchObject({ enabled: true, timeout: "10m", deleteEmptyDirData: true });
  expect(stored.spec.healthChecks).toMatchObject({
    timeout: "15m",
    builtin: ["Nodes", "Etcd", "ControlPlane"],
  });
  expect(stored.spec.talos).toMatchObject({
    version: "v1.12.4",
    rebootMode: "Default",
    intermediateVersions: [],
  });
  const columns = (await kubectl(["get", "tup", name])).stdout;
  expect(columns.split("\n")[0]).toMatch(/NAME\s+PHASE\s+TALOS\s+KUBERNETES\s+PROGRESS\s+LEFT\s+AGE/);
});

it.each([
  ["neither talos nor kubernetes", {}, /at least one of spec\.talos and spec\.kubernetes is required/],
  ["a bad Talos version", { talos: { version: "1.12" } }, /spec\.talos\.version/],
  ["a Talos version without its leading v", { talos: { version: "1.12.4" } }, /spec\.talos\.version/],
  [
    "a Kubernetes version without its leading v",
    { kubernetes: { version: "1.35.2" } },
    /spec\.kubernetes\.version/,
  ],
  ["a bad Kubernetes version", { kubernetes: { version: "latest" } }, /spec\.kubernetes\.version/],
  [
    "a repository with a tag",
    {
      kubernetes: {
        version: "v1.35.2",
        repositories: { apiServer: "mirror.example/kube-apiserver:v1.35.2" },
      },
    },
    /spec\.kubernetes\.repositories\.apiServer/,
  ],
  [
    "maxUnavailable 0",
    { talos: { version: "v1.12.4" }, rollout: { maxUnavailable: 0 } },
    /spec\.rollout\.maxUnavailable/,
  ],
  [
    "maxUnavailable 0%",
    { talos: { version: "v1.12.4" }, rollout: { maxUnavailable: "0%" } },
    /spec\.rollout\.maxUnavailable/,
  ],
  [
    "maxUnavailable 150%",
    { talos: { version: "v1.12.4" }, rollout: { maxUnavailable: "150%" } },
    /spec\.rollout\.maxUnavailable/,
  ],
  [
    "a schematic named by id and declared at once",
    { talos: { version: "v1.14.1", schematic: { id: "a".repeat(64), customization: {} } } },
    /spec\.talos\.schematic: Invalid value: name the schematic either by id or by overlay\/customization/,
  ],
  [
    "a schematic ID that is not one",
    { talos: { version: "v1.14.1", schematic: { id: "vanilla" } } },
    /spec\.talos\.schematic\.id/,
  ],
  [
    "a kernel argument the operator cannot hash as the factory does",
    { talos: { version: "v1.14.1", schematic: { customization: { extraKernelArgs: ["a b"] } } } },
    /spec\.talos\.schematic\.customization\.extraKernelArgs\[0\]/,
  ],
  [
    "a pool with an image and a schematic",
    {
      talos: {
        version: "v1.14.1",
        overrides: [
          {
            name: "gpu",
            nodeSelector: {},
            image: "mirror.example/installer:v1",
            schematic: { id: "a".repeat(64) },
          },
        ],
      },
    },
    /spec\.talos\.overrides\[0\]: Invalid value: image names the installer itself/,
  ],
  [
    "a pool that changes nothing",
    { talos: { version: "v1.14.1", overrides: [{ name: "gpu", nodeSelector: {} }] } },
    /spec\.talos\.overrides\[0\]: Invalid value: an override sets at least one of/,
  ],
  [
    "two pools of one name",
    {
      talos: {
        version: "v1.14.1",
        overrides: [
          { name: "gpu", nodeSelector: {}, factory: "a.example" },
          { name: "gpu", nodeSelector: {}, factory: "b.example" },
        ],
      },
    },
    /spec\.talos\.overrides\[1\]: Duplicate value/,
  ],
  [
    "Force with a staged upgrade",
    { talos: { version: "v1.14.1", rebootMode: "Force", stage: true } },
    /spec\.talos: Invalid value: rebootMode Force needs the v1\.13\+ lifecycle API/,
  ],
  [
    "a bad duration",
    { talos: { version: "v1.12.4" }, rollout: { nodeTimeout: "30 minutes" } },
    /spec\.rollout\.nodeTimeout/,
  ],
  [
    "a bad drain timeout",
    { talos: { version: "v1.12.4" }, drain: { timeout: "-1m" } },
    /spec\.drain\.timeout/,
  ],
  [
    "a bad cron",
    { talos: { version: "v1.12.4" }, maintenanceWindows: [{ schedule: "every saturday", duration: "4h" }] },
    /spec\.maintenanceWindows\[0\]\.schedule/,
  ],
  [
    "an unknown reboot mode",
    { talos: { version: "v1.12.4", rebootMode: "Kexec" } },
    /spec\.talos\.rebootMode/,
  ],
  [
    "an unknown builtin check",
    { talos: { version: "v1.12.4" }, healthChecks: { builtin: ["Disk"] } },
    /spec\.healthChecks\.builtin\[0\]/,
  ],
  ["a string for paused", { talos: { version: "v1.12.4" }, paused: "yes" }, /spec\.paused/],
])("refuses %s, naming the field", async (_what, spec, field) => {
  const name = uniqueName("invalid");
  const refused = kubectl(["apply", "-f", "-"], plan(name, spec));
  await expect(refused).rejects.toMatchObject({ stderr: expect.stringMatching(field) });
  await expect(kubectl(["get", "tup", name])).rejects.toMatchObject({
    stderr: expect.stringContaining("NotFound"),
  });
});

it("refuses unknown fields with kubectl's strict validation", async () => {
  const name = uniqueName("unknown");
  await expect(
    kubectl(
      ["apply", "--validate=strict", "-f", "-"],
      plan(name, { talos: { version: "v1.12.4", imagee: "x" } }),
    ),
  ).rejects.toMatchObject({ stderr: expect.stringContaining("imagee") });
});
