// The fleet simulator checked against the real talosctl (built from its Go module): each command
// must succeed and print the simulated facts; a reader must be refused what needs os:admin.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet, vanillaSchematic } from "./fleet.ts";

const run = promisify(execFile);
/** A schematic the Image Factory is given in beforeAll: one extension, for a boot to adopt. */
const gpu = "c3".repeat(32);

describe("the fleet simulator, seen by the real talosctl", () => {
  let fleet: Fleet;
  const talosctl = tool("talosctl", "talosctl");
  const as = (role: "admin" | "reader", args: string[]) =>
    run(talosctl, ["--talosconfig", fleet.talosconfig[role], ...args], { timeout: 30_000 });

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 3,
      workers: 4,
      talosVersion: "v1.12.4",
      versions: { "worker-2": "v1.13.0", "worker-3": "v1.14.0" },
      extensions: [
        { name: "iscsi-tools", version: "v0.2.0", image: "ghcr.io/siderolabs/iscsi-tools:v0.2.0" },
      ],
      images: { "worker-1": { secureBoot: true } },
      // Longer than talosctl's one-second retry interval, as a real reboot is: its tracker must
      // find the node gone before it comes back, or it waits for new events forever.
      timing: { rebootMs: 2_000 },
    });
    fleet.registry.addSchematic(gpu, ["siderolabs/nvidia-container-toolkit-production"]);
    const { stdout } = await run(talosctl, ["version", "--client", "--short"]);
    console.log(`talosctl: ${stdout.trim()}`);
  });

  afterAll(() => fleet.stop());

  it("version: server tag and platform through a control plane endpoint, routed with -n", async () => {
    const worker = fleet.node("worker-1");
    const { stdout } = await as("admin", ["-n", worker.address, "version"]);
    expect(stdout).toMatch(new RegExp(`NODE:\\s+${worker.address.replaceAll(".", "\\.")}`));
    expect(stdout).toMatch(/Tag:\s+v1\.12\.4/);
    expect(stdout).toMatch(/Enabled:\s+RBAC/);
  });

  it("service: the worker's services, running and healthy", async () => {
    const { stdout } = await as("admin", ["-n", fleet.node("worker-1").address, "service"]);
    for (const id of ["apid", "containerd", "kubelet", "machined"]) {
      expect(stdout).toMatch(new RegExp(`${id}\\s+Running\\s+OK`));
    }
    expect(stdout).not.toContain("etcd");
  });

  it("etcd members and etcd status: the three control planes and the leader", async () => {
    const members = (await as("reader", ["etcd", "members"])).stdout;
    for (const node of fleet.controlPlanes()) {
      expect(members).toContain(fleet.memberId(node));
      expect(members).toContain(`https://${node.address}:2380`);
    }
    const status = (await as("reader", ["etcd", "status"])).stdout;
    expect(status).toContain(fleet.memberId(fleet.node("cp-1")));
    expect(status).toMatch(/3\.6\.0/);
  });

  it("get members, extensions and machinestatus: COSI resources resolved by their aliases", async () => {
    const worker = fleet.node("worker-1");
    const members = (await as("reader", ["-n", worker.address, "get", "members"])).stdout;
    for (const node of fleet.nodes()) {
      expect(members).toMatch(
        new RegExp(`${node.hostname}\\s+\\d+\\s+${node.hostname}\\s+${node.identity.role}`),
      );
    }
    const extensions = (await as("reader", ["-n", worker.address, "get", "extensions"])).stdout;
    expect(extensions).toMatch(/ExtensionStatus\s+0\s+\d+\s+iscsi-tools\s+v0\.2\.0/);
    const status = (await as("reader", ["-n", worker.address, "get", "machinestatus"])).stdout;
    expect(status).toMatch(/MachineStatus\s+machine\s+\d+\s+running\s+true/);
  });

  it("get securitystate: SecureBoot as each machine booted", async () => {
    const secure = await as("reader", [
      "-n",
      fleet.node("worker-1").address,
      "get",
      "securitystate",
      "-o",
      "yaml",
    ]);
    expect(secure.stdout).toMatch(/type: SecurityStates\.talos\.dev/);
    expect(secure.stdout).toMatch(/secureBoot: true/);
    expect(secure.stdout).toMatch(/bootedWithUKI: true/);
    const plain = await as("reader", ["-n", fleet.node("cp-1").address, "get", "securitystate"]);
    expect(plain.stdout).toMatch(/SecurityState\s+securitystate\s+\d+\s+false/);
  });

  it("memory, volumestatus, bootstrapmanifestsconfig and diagnostics: what talosctl health reads", async () => {
    const [cp, worker] = [fleet.node("cp-1"), fleet.node("worker-1")];
    const memory = (await as("reader", ["-n", `${cp.address},${worker.address}`, "memory"])).stdout;
    for (const node of [cp, worker]) expect(memory).toMatch(new RegExp(`${node.address}\\s+16384\\s`));
    const volumes = (await as("reader", ["-n", worker.address, "get", "volumestatus"])).stdout;
    expect(volumes).toMatch(/VolumeStatus\s+EPHEMERAL\s+\d+\s+partition\s+ready\s+\/dev\/sda6\s+107 GB/);
    const manifests = await as("reader", ["-n", cp.address, "get", "bmc", "-o", "jsonpath={.spec.cniName}"]);
    expect(manifests.stdout.trim()).toBe("none");
    expect((await as("reader", ["-n", worker.address, "get", "bmc"])).stdout).not.toContain("manifests");
    expect((await as("reader", ["-n", worker.address, "get", "diagnostics"])).stdout).not.toContain(
      "Diagnostic ",
    );
    fleet.inject("worker-1", {
      diagnostics: [
        {
          id: "kubelet-csr",
          message: "kubelet server certificate rotation is enabled, but CSR is not approved",
        },
      ],
    });
    try {
      const { stdout } = await as("reader", ["-n", worker.address, "get", "diagnostics"]);
      expect(stdout).toMatch(/Diagnostic\s+kubelet-csr\s+\d+\s+kubelet server certificate rotation/);
    } finally {
      fleet.inject("worker-1", { diagnostics: [] });
    }
  });

  it("keeps sensitive resources from a reader, and serves them to an admin", async () => {
    const cp = fleet.node("cp-1").address;
    await expect(as("reader", ["-n", cp, "get", "machineconfig"])).rejects.toMatchObject({
      stderr: expect.stringContaining("PermissionDenied"),
    });
    const { stdout } = await as("admin", ["-n", cp, "get", "machineconfig", "v1alpha1", "-o", "yaml"]);
    expect(stdout).toContain("registry.k8s.io/kube-apiserver:v1.35.2");
  });

  it("patch mc --mode no-reboot: the component config and its static pod get a new version", async () => {
    const cp = fleet.node("cp-1").address;
    const before = (
      await as("admin", ["-n", cp, "get", "apiserverconfig", "-o", "jsonpath={.metadata.version}"])
    ).stdout;
    const patch =
      '[{"op":"replace","path":"/cluster/apiServer/image","value":"registry.k8s.io/kube-apiserver:v1.35.3"}]';
    const applied = await as("admin", [
      "-n",
      cp,
      "patch",
      "machineconfig",
      "--mode",
      "no-reboot",
      "--patch",
      patch,
    ]);
    expect(applied.stdout + applied.stderr).toContain("Applied configuration without a reboot");
    const after = (
      await as("admin", ["-n", cp, "get", "apiserverconfig", "-o", "jsonpath={.metadata.version}"])
    ).stdout;
    expect(Number(after)).toBe(Number(before) + 1);
    const pod = await as("admin", ["-n", cp, "get", "staticpod", "kube-apiserver", "-o", "jsonpath={.spec}"]);
    expect(pod.stdout).toContain("registry.k8s.io/kube-apiserver:v1.35.3");
    expect(pod.stdout).toMatch(new RegExp(`"talos.dev/config-version":\\s*"${Number(after)}"`));
  });

  it("refuses a reader's upgrade with PermissionDenied", async () => {
    const worker = fleet.node("worker-1");
    const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.0`;
    await expect(
      as("reader", ["-n", worker.address, "upgrade", "--wait=false", "--image", image]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/PermissionDenied/) });
    expect(worker.version).toBe("v1.12.4");
  });

  const image = (version: string) => `factory.talos.dev/metal-installer/${vanillaSchematic}:${version}`;
  /** `talosctl upgrade` as an admin, waiting and printing its progress plainly. */
  const upgrade = (address: string, installer: string, ...flags: string[]) =>
    as("admin", ["-n", address, "upgrade", ...flags, "--progress=plain", "--image", installer]);

  it("upgrade --wait, legacy API (v1.12 node): tracked to the reboot, back on the new version", async () => {
    const worker = fleet.node("worker-1");
    const bootId = worker.bootId;
    const { stdout, stderr } = await upgrade(worker.address, image("v1.13.0"));
    const output = stdout + stderr;
    expect(output).toContain("falling back to legacy");
    // Talos v1.12's phases, the kexec one shown by MachineStatus as REBOOTING before the machine goes down.
    expect(output).toContain("task: stopServicesForUpgrade action: START");
    expect(output).toContain("phase: kexec action: START");
    expect(output).toContain("stage: REBOOTING");
    expect(output).toContain("task: stopAllServices action: START");
    expect(output).toContain("post check passed");
    expect(worker.version).toBe("v1.13.0");
    expect(worker.bootId).not.toBe(bootId);
    expect(worker.calls.map((c) => c.method)).toContain("/machine.MachineService/Upgrade");
  });

  it("upgrade --wait, v1.13+ API: ImageService.Pull, LifecycleService.Upgrade, then Reboot", async () => {
    const worker = fleet.node("worker-2");
    const before = worker.calls.length;
    const { stdout, stderr } = await upgrade(worker.address, image("v1.14.0"), "--drain=false");
    expect(stdout + stderr).toContain("post check passed");
    expect(worker.version).toBe("v1.14.0");
    const methods = worker.calls.slice(before).map((c) => c.method);
    const upgradeCalls = [
      "/machine.ImageService/Pull",
      "/machine.LifecycleService/Upgrade",
      "/machine.MachineService/Reboot",
    ];
    expect(methods.filter((m) => upgradeCalls.includes(m))).toEqual(upgradeCalls);
    expect(methods).not.toContain("/machine.MachineService/Upgrade");
  });

  it("get extensions, imagefactoryschematics and cmdline: a boot into a new schematic shows it (v1.14 node)", async () => {
    const worker = fleet.node("worker-3");
    const get = async (what: string) => (await as("reader", ["-n", worker.address, "get", what])).stdout;
    // Talos prints SCHEMATIC ID, FLAVOR and API URL.
    const row = (schematic: string) =>
      new RegExp(
        `ImageFactorySchematic\\s+image-factory-schematic\\s+\\d+\\s+${schematic}\\s+Image Factory\\s+https://factory\\.talos\\.dev`,
      );
    expect(await get("imagefactoryschematics")).toMatch(row(vanillaSchematic));
    expect(await get("extensions")).toMatch(/ExtensionStatus\s+0\s+\d+\s+iscsi-tools\s+v0\.2\.0/);
    expect(await get("cmdline")).toMatch(
      /KernelCmdline\s+cmdline\s+\d+\s+talos\.platform=metal console=tty0 /,
    );

    const { stdout, stderr } = await upgrade(
      worker.address,
      `factory.talos.dev/metal-installer/${gpu}:v1.14.1`,
      "--drain=false",
    );
    expect(stdout + stderr).toContain("post check passed");
    expect(worker.version).toBe("v1.14.1");
    const extensions = await get("extensions");
    expect(extensions).toMatch(/ExtensionStatus\s+0\s+\d+\s+nvidia-container-toolkit-production\s+v1\.14\.1/);
    expect(extensions).toMatch(new RegExp(`ExtensionStatus\\s+1\\s+\\d+\\s+schematic\\s+${gpu}`));
    // The new schematic's extensions replace the old image's: iscsi-tools is not in it.
    expect(extensions).not.toContain("iscsi-tools");
    expect(await get("imagefactoryschematics")).toMatch(row(gpu));
    expect(await get("cmdline")).toMatch(/KernelCmdline\s+cmdline\s+\d+\s+talos\.platform=metal /);
  });

  it("reboot --wait on a control plane node, with the other endpoints taking over", async () => {
    const node = fleet.node("cp-3");
    const bootId = node.bootId;
    const { stdout, stderr } = await as("admin", ["-n", node.address, "reboot", "--progress=plain"]);
    expect(stdout + stderr).toContain("post check passed");
    expect(node.bootId).not.toBe(bootId);
    expect(node.version).toBe("v1.12.4");
  });

  it("A/B rollback: talosctl reports success, yet the node is back on its old version", async () => {
    const node = fleet.node("cp-2");
    fleet.inject("cp-2", { bootFailure: true });
    const { stdout, stderr } = await upgrade(node.address, image("v1.13.0"));
    expect(stdout + stderr).toContain("post check passed");
    expect(node.version).toBe("v1.12.4");
  });

  it("a legacy upgrade whose drain phase fails: talosctl reports the sequence error, the node keeps its version", async () => {
    const node = fleet.node("cp-3");
    const bootId = node.bootId;
    fleet.inject("cp-3", { machinedKubeRefused: true });
    const before = node.calls.length;
    try {
      const failed = await upgrade(node.address, image("v1.13.0")).then(
        () => undefined,
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
      );
      expect(failed).toContain("sequence: upgrade action: NOOP error: [code: sequence failed:");
      expect(failed).toContain("cannot get pods for node cp-3: Unauthorized");
      expect(failed).toContain("message: FATAL]");
      expect(node.version).toBe("v1.12.4");
      expect(node.bootId).toBe(bootId);
      expect(node.stage).toBe("REBOOTING");
      // talosctl gives up at the sequence error: it does not call again.
      const upgrades = node.calls.slice(before).filter((c) => c.method === "/machine.MachineService/Upgrade");
      expect(upgrades).toHaveLength(1);
    } finally {
      fleet.inject("cp-3", { machinedKubeRefused: false });
    }
    // machined's lock is free again: the next upgrade runs, and reboots.
    const { stdout, stderr } = await upgrade(node.address, image("v1.13.0"));
    expect(stdout + stderr).toContain("post check passed");
    expect(node.version).toBe("v1.13.0");
  });

  it("an upgrade asked while another holds machined's lock is acked and never runs; talosctl still reports success", async () => {
    const node = fleet.node("worker-4");
    const bootId = node.bootId;
    const upgradeCalls = () =>
      node.calls.filter((c) => c.method === "/machine.MachineService/Upgrade").length;
    fleet.inject("worker-4", { drainHoldMs: 10_000 });
    try {
      const first = upgrade(node.address, image("v1.13.0"));
      await waitUntil("the first upgrade's sequence running", async () => node.stage === "UPGRADING", {
        timeoutMs: 10_000,
      });
      // Answered as the first was: Talos acks before its sequence asks for the lock.
      const second = upgrade(node.address, image("v1.13.0"));
      await waitUntil("the second upgrade call taken", async () => upgradeCalls() === 2, {
        timeoutMs: 10_000,
      });
      // talosctl events streams until stopped: its history is read for a while, then it is killed.
      const events = await run(
        talosctl,
        ["--talosconfig", fleet.talosconfig.admin, "-n", node.address, "events", "--tail", "-1"],
        { timeout: 3_000 },
      ).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string }) => error.stdout ?? "",
      );
      const locked = events
        .split("\n")
        .filter((line) => /upgrade\s+error: sequence not started: locked/.test(line));
      expect(locked).toHaveLength(1);
      // The NOOP's line starts with its actor column, which is empty: a caller that follows its own
      // actor's events never sees it.
      expect(locked[0]).toMatch(/^\s+upgrade\s/);
      const [one, two] = await Promise.all([first, second]);
      expect(one.stdout + one.stderr).toContain("phase: drain action: START");
      expect(one.stdout + one.stderr).toContain("post check passed");
      // The second talosctl saw no sequence of its own, only the machine go down and come back
      // (the first one's reboot), and calls that a success.
      const secondOutput = two.stdout + two.stderr;
      expect(secondOutput).toMatch(/actor ID: [0-9a-f-]{36}/);
      expect(secondOutput).not.toContain("phase: drain");
      expect(secondOutput).toContain("post check passed");
      expect(upgradeCalls()).toBe(2);
      expect(node.upgrades).toHaveLength(2);
      expect(node.version).toBe("v1.13.0");
      expect(node.bootId).not.toBe(bootId);
    } finally {
      fleet.inject("worker-4", { drainHoldMs: 0 });
    }
  });

  it("upgrade with an image that does not exist fails at pull time and leaves the node alone", async () => {
    const worker = fleet.node("worker-2");
    const version = worker.version;
    const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:v9.9.9`;
    await expect(
      as("admin", ["-n", worker.address, "upgrade", "--legacy", "--wait=false", "--image", image]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("not found") });
    expect(worker.version).toBe(version);
    expect(worker.stage).toBe("RUNNING");
  });

  it("refuses to upgrade a control plane node while another etcd member is down", async () => {
    const image = `factory.talos.dev/metal-installer/${vanillaSchematic}:v1.13.0`;
    fleet.node("cp-3").apidOutage(5_000);
    // Through cp-1 only: a down node's apid answers Unavailable rather than refusing the connection.
    const endpoint = ["-e", fleet.node("cp-1").address];
    await expect(
      as("admin", [
        ...endpoint,
        "-n",
        fleet.node("cp-2").address,
        "upgrade",
        "--wait=false",
        "--image",
        image,
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("is not started") });
    expect(fleet.node("cp-2").version).toBe("v1.12.4");
  });
});
