// A test's own control plane: restart faults keep the data, stop() leaves no process behind, and
// a test process that dies without cleaning up takes its control plane with it.
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "./control-plane.ts";
import { waitUntil } from "./wait.ts";

/** Running, as opposed to gone or a zombie waiting to be reaped by whatever adopted it. */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== undefined && state !== "Z";
  } catch {
    return false;
  }
}

function client(plane: ControlPlane): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

describe("a control plane of a test's own", () => {
  it("survives an apiserver restart with its data, and stops without leaving processes", async () => {
    const started = Date.now();
    const plane = await ControlPlane.start();
    console.log(
      `etcd + kube-apiserver ${plane.versions.kubeApiServer} started in ${Date.now() - started} ms`,
    );
    const pids = plane.pids();
    expect(pids).toHaveLength(2);
    try {
      const core = client(plane);
      await core.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name: "kept" }, data: { value: "before-restart" } },
      });
      const oldPid = pids[1];
      await plane.restartApiServer();
      expect(plane.running("kube-apiserver")).toBe(true);
      expect(plane.pids()).not.toContain(oldPid);
      const read = await core.readNamespacedConfigMap({ namespace: "default", name: "kept" });
      expect(read.data?.value).toBe("before-restart");

      await plane.stopComponent("kube-apiserver", "kill");
      // Pointed at nothing, the client fails: no request quietly "succeeds".
      await expect(
        core.readNamespacedConfigMap({ namespace: "default", name: "kept" }),
      ).rejects.toMatchObject({
        cause: { code: "ECONNREFUSED" },
      });
      await plane.startApiServer();
    } finally {
      await plane.stop();
    }
    for (const pid of [...pids, ...plane.pids()]) expect(alive(pid)).toBe(false);
  });

  it("dies with the process that started it, even on SIGKILL", async () => {
    const cli = spawn(process.execPath, [join(import.meta.dirname, "control-plane-cli.ts"), "--json"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: cli.stdout }).once("line", resolve);
      cli.once("exit", (code) =>
        reject(new Error(`control-plane-cli exited with ${code} before it was ready`)),
      );
    });
    const { pids, kubeconfig } = JSON.parse(firstLine) as { pids: number[]; kubeconfig: string };
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    cli.kill("SIGKILL");
    await waitUntil(
      "the orphaned control plane processes exit",
      async () => pids.every((pid) => !alive(pid)),
      { timeoutMs: 15_000 },
    );
    rmSync(dirname(kubeconfig), { recursive: true, force: true });
  });
});
