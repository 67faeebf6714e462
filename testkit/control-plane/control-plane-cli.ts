// `npm run control-plane`: starts the local control plane (etcd, kube-apiserver,
// controller-manager, scheduler) and keeps it running until Ctrl-C. With --json it prints one JSON
// line instead of prose (kubeconfig path, server, process ids), for scripts and the harness' tests.
import { buildTools } from "./build-tools.ts";
import { ControlPlane } from "./control-plane.ts";

const json = process.argv.includes("--json");
buildTools(["kube"]);
const started = Date.now();
const plane = await ControlPlane.start({ controllers: true });
if (json) {
  console.log(
    JSON.stringify({
      kubeconfig: plane.kubeconfigPath,
      server: plane.server,
      etcdUrl: plane.etcdUrl,
      pids: plane.pids(),
    }),
  );
} else {
  console.log(`kube-apiserver ${plane.versions.kubeApiServer} and etcd ${plane.versions.etcd} are up (${Date.now() - started} ms), with the real controller-manager and scheduler.

  export KUBECONFIG=${plane.kubeconfigPath}
  kubectl get --raw /version
  kubectl get namespaces

etcd serves clients at ${plane.etcdUrl} (\`npm run fleet -- --etcd-url ${plane.etcdUrl}\` snapshots it).

Logs and certificates are in ${plane.dir}. Ctrl-C stops everything and removes that folder.`);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void plane.stop().then(() => process.exit(0));
  });
}
