// `npm run demo`: the product's main job on an embedded default. A local Kubernetes control plane,
// a simulated fleet of 3 control planes and 3 workers on Talos v1.11.6, the operator as a process,
// and deploy/examples/talos-upgrade.yaml applied with kubectl; progress is printed until the plan
// completes. Everything keeps running for a look around until Ctrl-C (or exits with --once).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";
import { buildTools } from "./control-plane/build-tools.ts";
import { ControlPlane } from "./control-plane/control-plane.ts";
import { startOperator } from "./e2e/operator-process.ts";
import { Fleet } from "./fleet/fleet.ts";
import { Kubelets } from "./fleet/kubelet.ts";

const root = join(import.meta.dirname, "..");
const once = process.argv.includes("--once");
const say = (line: string) => process.stdout.write(`${line}\n`);

buildTools(["kube"]);
say("Starting a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler)...");
const plane = await ControlPlane.start({ controllers: true });
const kubectl = (...args: string[]) =>
  execFileSync("kubectl", ["--kubeconfig", plane.kubeconfigPath, ...args], { encoding: "utf8" });
kubectl(
  "apply",
  "--server-side",
  "-f",
  join(root, "deploy", "crds", "upgrade.talos-operator.dev_talosupgradeplans.yaml"),
);
kubectl("wait", "--for=condition=Established", "crd/talosupgradeplans.upgrade.talos-operator.dev");

say("Starting a simulated Talos fleet: 3 control planes and 3 workers on v1.11.6...");
const fleet = await Fleet.start({
  controlPlanes: 3,
  workers: 3,
  talosVersion: "v1.11.6",
  timing: { rebootMs: 3_000 },
  // `talosctl etcd snapshot` on a control plane streams a live snapshot of the local etcd.
  etcdUrl: plane.etcdUrl,
});
const kc = new KubeConfig();
kc.loadFromFile(plane.kubeconfigPath);
const kubelets = await Kubelets.start(fleet, kc, { leaseRenewMs: 5_000 });

say("Starting the operator...");
const operator = startOperator({
  kubeconfig: plane.kubeconfigPath,
  talosconfig: fleet.talosconfig.admin,
  planSelector: "",
});
const example = join(root, "deploy", "examples", "talos-upgrade.yaml");
const name = (parse(readFileSync(example, "utf8")) as { metadata: { name: string } }).metadata.name;
kubectl("apply", "-f", example);

say(`
Applied ${example}. Watch it yourself with:
  export KUBECONFIG=${plane.kubeconfigPath}
  export TALOSCONFIG=${fleet.talosconfig.admin}
  kubectl get tup -w
  talosctl -n ${fleet.node("worker-1").address} version
`);

const plans = kc.makeApiClient(CustomObjectsApi);
let last = "";
let done = false;
while (!done) {
  const plan = (await plans.getClusterCustomObject({
    group: "upgrade.talos-operator.dev",
    version: "v1alpha1",
    plural: "talosupgradeplans",
    name,
  })) as {
    status?: {
      phase?: string;
      progress?: string;
      nodes?: { name: string; state: string; message: string }[];
      conditions?: { type: string; status: string; message: string }[];
    };
  };
  const status = plan.status;
  const nodes = (status?.nodes ?? []).map((n) => `${n.name}:${n.state}`).join("  ");
  const line = `${new Date().toISOString().slice(11, 19)}  ${status?.phase ?? "Pending"} ${status?.progress ?? ""}  ${nodes}`;
  if (line.slice(10) !== last) say(line);
  last = line.slice(10);
  if (status?.phase === "Completed" || status?.phase === "Failed") {
    const ready = status.conditions?.find((c) => c.type === "Ready");
    say(`\nThe plan is ${status.phase}: ${ready?.message ?? ""}`);
    say(
      `Talos versions now: ${fleet
        .nodes()
        .map((n) => `${n.hostname}=${n.version}`)
        .join(", ")}`,
    );
    done = true;
  } else {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const stop = async () => {
  await operator.stop();
  await kubelets.stop();
  await fleet.stop();
  await plane.stop();
};
if (once) {
  await stop();
} else {
  say("\nEverything keeps running for a look around; Ctrl-C stops it and removes the temporary files.");
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void stop().then(() => process.exit(0)));
}
