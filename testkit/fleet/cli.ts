// `npm run fleet -- --control-planes 3 --workers 5 --talos v1.12.4 --kubernetes v1.35.2
// [--kubeconfig FILE] [--etcd-url URL]`: runs a simulated Talos fleet until Ctrl-C and prints how to
// point talosctl at it; with a kubeconfig (e.g. from `npm run demo`) its machines also become Nodes
// there, and with an etcd client URL (plain http, e.g. from `npm run control-plane`) `talosctl etcd
// snapshot` on a control plane streams a live snapshot of that etcd.
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { Fleet } from "./fleet.ts";
import { Kubelets } from "./kubelet.ts";

const { values } = parseArgs({
  options: {
    "control-planes": { type: "string", default: "3" },
    workers: { type: "string", default: "5" },
    talos: { type: "string", default: "v1.12.4" },
    kubernetes: { type: "string", default: "v1.35.2" },
    "reboot-ms": { type: "string", default: "2000" },
    kubeconfig: { type: "string" },
    "etcd-url": { type: "string" },
  },
});

const started = Date.now();
const fleet = await Fleet.start({
  controlPlanes: Number(values["control-planes"]),
  workers: Number(values.workers),
  talosVersion: values.talos,
  kubernetesVersion: values.kubernetes,
  timing: { rebootMs: Number(values["reboot-ms"]) },
  ...(values["etcd-url"] ? { etcdUrl: values["etcd-url"] } : {}),
});
// With a kubeconfig, each machine also registers as a Node there, run by the kubelet stand-in.
let kubelets: Kubelets | undefined;
if (values.kubeconfig) {
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  kubelets = await Kubelets.start(fleet, kc);
}
const lines = fleet
  .nodes()
  .map((n) => `  ${n.hostname.padEnd(10)} ${n.identity.role.padEnd(13)} ${n.address}  ${n.version}`);
console.log(`${fleet.nodes().length} simulated Talos nodes up in ${Date.now() - started} ms:
${lines.join("\n")}

  export TALOSCONFIG=${fleet.talosconfig.admin}
  talosctl version
  talosctl -n ${fleet.workers()[0]?.address ?? fleet.nodes()[0]?.address} service

${kubelets ? `Nodes registered in ${values.kubeconfig}.\n` : ""}Reader and operator talosconfigs: ${fleet.talosconfig.reader}, ${fleet.talosconfig.operator}. Ctrl-C stops.`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void (kubelets?.stop() ?? Promise.resolve()).then(() => fleet.stop()).then(() => process.exit(0));
  });
}
