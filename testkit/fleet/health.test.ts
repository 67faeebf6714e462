// The real `talosctl health --server=false` against a simulated fleet: every check it runs from the
// client passes on a healthy fleet, and "no diagnostics" fails when a node reports a diagnostic.
// The fleet joins a Kubernetes cluster of its own (etcd, kube-apiserver, the real controllers and
// scheduler): talosctl requires the cluster's Nodes to be exactly the fleet's, and the bootstrap
// manifests (kube-proxy, CoreDNS) have fixed names in kube-system.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "../control-plane/control-plane.ts";
import { tool } from "../control-plane/tools.ts";
import { waitUntil } from "../control-plane/wait.ts";
import { Fleet } from "./fleet.ts";
import { Kubelets } from "./kubelet.ts";

const run = promisify(execFile);

/** Every check of talosctl v1.13's DefaultClusterChecks, in the order it runs them. */
const checks = [
  "etcd to be healthy",
  "etcd members to be consistent across nodes",
  "etcd members to be control plane nodes",
  "apid to be ready",
  "all nodes memory sizes",
  "all nodes disk sizes",
  "no diagnostics",
  "kubelet to be healthy",
  "all nodes to finish boot sequence",
  "all k8s nodes to report",
  "all control plane static pods to be running",
  "all control plane components to be ready",
  "all k8s nodes to report ready",
  "kube-proxy to report ready",
  "coredns to report ready",
  "all k8s nodes to report schedulable",
];

describe("talosctl health --server=false against the fleet simulator", () => {
  const talosctl = tool("talosctl", "talosctl");
  let plane: ControlPlane;
  let fleet: Fleet;
  let kubelets: Kubelets;

  const health = (waitTimeout: string) =>
    run(
      talosctl,
      [
        "--talosconfig",
        fleet.talosconfig.admin,
        "health",
        "--server=false",
        `--control-plane-nodes=${fleet
          .controlPlanes()
          .map((n) => n.address)
          .join(",")}`,
        `--worker-nodes=${fleet
          .workers()
          .map((n) => n.address)
          .join(",")}`,
        `--wait-timeout=${waitTimeout}`,
      ],
      { timeout: 60_000 },
    );

  beforeAll(async () => {
    plane = await ControlPlane.start({ controllers: true });
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    fleet = await Fleet.start({
      controlPlanes: 3,
      workers: 1,
      talosVersion: "v1.13.0",
      kubernetesVersion: "v1.35.2",
      manifests: true,
    });
    kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 1_000, podReadyMs: 50 });
    await fleet.bootstrapManifests(kc);
    const apps = kc.makeApiClient(AppsV1Api);
    await waitUntil(
      "kube-proxy and CoreDNS are rolled out",
      async () => {
        const proxy = await apps.readNamespacedDaemonSet({ namespace: "kube-system", name: "kube-proxy" });
        const dns = await apps.readNamespacedDeployment({ namespace: "kube-system", name: "coredns" });
        return proxy.status?.numberReady === fleet.nodes().length && dns.status?.readyReplicas === 2;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 120_000);

  afterAll(async () => {
    await kubelets?.stop();
    await fleet?.stop();
    await plane?.stop();
  });

  it("passes every check on a healthy fleet: 3 control planes, 1 worker, kube-proxy and CoreDNS", async () => {
    const { stderr } = await health("60s");
    for (const check of checks) expect(stderr).toContain(`waiting for ${check}: OK`);
  });

  it("fails on no diagnostics while a node reports one, naming the node and its message", async () => {
    const worker = fleet.workers()[0];
    if (!worker) throw new Error("no worker");
    const message = "host and Kubernetes pod/service CIDR addresses overlap";
    fleet.inject(worker.hostname, {
      diagnostics: [
        {
          id: "address-overlap",
          message,
          details: ['host routed addresses: ["10.244.0.0/16"]', 'Kubernetes pod CIDRs: ["10.244.0.0/16"]'],
        },
      ],
    });
    try {
      const listed = await run(talosctl, [
        "--talosconfig",
        fleet.talosconfig.reader,
        "-n",
        worker.address,
        "get",
        "diagnostics",
      ]);
      expect(listed.stdout).toMatch(new RegExp(`Diagnostic\\s+address-overlap\\s+\\d+\\s+${message}`));
      const failed = await health("10s").then(
        () => undefined,
        (error: { stderr: string }) => error,
      );
      expect(failed?.stderr).toContain(
        `waiting for no diagnostics: active diagnostics: ${worker.address}: ${message}`,
      );
      expect(failed?.stderr).not.toContain("waiting for kubelet to be healthy");
    } finally {
      fleet.inject(worker.hostname, { diagnostics: [] });
    }
    await health("30s");
  });
});
