// `npm run fleet -- --control-planes 3 --workers 5 --talos v1.12.4 --kubernetes v1.35.2`: runs a
// simulated Talos fleet until Ctrl-C and prints how to point talosctl at it.
import { parseArgs } from "node:util";
import { Fleet } from "./fleet.ts";

const { values } = parseArgs({
  options: {
    "control-planes": { type: "string", default: "3" },
    workers: { type: "string", default: "5" },
    talos: { type: "string", default: "v1.12.4" },
    kubernetes: { type: "string", default: "v1.35.2" },
    "reboot-ms": { type: "string", default: "2000" },
  },
});

const started = Date.now();
const fleet = await Fleet.start({
  controlPlanes: Number(values["control-planes"]),
  workers: Number(values.workers),
  talosVersion: values.talos,
  kubernetesVersion: values.kubernetes,
  timing: { rebootMs: Number(values["reboot-ms"]) },
});
const lines = fleet
  .nodes()
  .map((n) => `  ${n.hostname.padEnd(10)} ${n.identity.role.padEnd(13)} ${n.address}  ${n.version}`);
console.log(`${fleet.nodes().length} simulated Talos nodes up in ${Date.now() - started} ms:
${lines.join("\n")}

  export TALOSCONFIG=${fleet.talosconfig.admin}
  talosctl version
  talosctl -n ${fleet.workers()[0]?.address ?? fleet.nodes()[0]?.address} service

Reader and operator talosconfigs: ${fleet.talosconfig.reader}, ${fleet.talosconfig.operator}. Ctrl-C stops.`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void fleet.stop().then(() => process.exit(0));
  });
}
