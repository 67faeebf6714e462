// What talosctl health reads from a simulated machine, decoded from the wire as talosctl decodes it:
// Diagnostics from the injected fault, the EPHEMERAL volume's size, BootstrapManifestsConfig from the
// machine config (its cniName decides whether the node-ready and CoreDNS checks run).
import { decodeMessage } from "../../src/talos/proto.ts";
import { defaultTiming, publicFactoryUrl } from "./fleet.ts";
import type { FleetView } from "./handlers.ts";
import { renderMachineConfig } from "./machine-config.ts";
import { type NodeIdentity, SimNode } from "./node.ts";
import { encodeSpec } from "./proto.ts";
import { resourceKinds } from "./resources.ts";

const identity = (role: NodeIdentity["role"]): NodeIdentity => ({
  hostname: role === "controlplane" ? "cp-1" : "worker-1",
  address: role === "controlplane" ? "127.0.0.2" : "127.0.0.3",
  role,
  platform: "metal",
  schematic: "vanilla",
  extensions: [],
  secureBoot: false,
  factoryUrl: publicFactoryUrl,
});

function served(type: string, node: SimNode, config = "") {
  const kind = resourceKinds.find((k) => k.type === type);
  if (!kind) throw new Error(`no kind ${type}`);
  const fleet = { machineConfig: () => config } as unknown as FleetView;
  return Object.fromEntries(
    Object.entries(kind.specs(node, fleet)).map(([id, spec]) => [
      id,
      { bytes: encodeSpec(kind.protoType, spec.proto), yaml: spec.yaml },
    ]),
  );
}

describe("the simulated resources talosctl health reads", () => {
  const cp = new SimNode(identity("controlplane"), "v1.13.0", defaultTiming);
  const worker = new SimNode(identity("worker"), "v1.13.0", defaultTiming);
  afterAll(() => {
    cp.stop();
    worker.stop();
  });

  it("Diagnostics: one per injected diagnostic, by its ID, as DiagnosticSpec; none without the fault", () => {
    expect(served("Diagnostics.runtime.talos.dev", worker)).toEqual({});
    worker.faults.diagnostics = [
      { id: "kubelet-csr", message: "CSR is not approved", details: ["pending CSRs: csr-1"] },
      { id: "address-overlap", message: "addresses overlap" },
    ];
    const diagnostics = served("Diagnostics.runtime.talos.dev", worker);
    expect(Object.keys(diagnostics)).toEqual(["kubelet-csr", "address-overlap"]);
    const decode = (id: string) =>
      decodeMessage(
        "talos.resource.definitions.runtime.DiagnosticSpec",
        diagnostics[id]?.bytes ?? Buffer.alloc(0),
      );
    expect(decode("kubelet-csr")).toEqual({
      message: "CSR is not approved",
      details: ["pending CSRs: csr-1"],
    });
    expect(decode("address-overlap")).toEqual({ message: "addresses overlap", details: [] });
    expect(diagnostics["address-overlap"]?.yaml).toBe("message: addresses overlap\ndetails: []\n");
  });

  it("VolumeStatus EPHEMERAL: Talos' field numbers, a size above talosctl's 6 GiB disk minimum", () => {
    const bytes = served("VolumeStatuses.block.talos.dev", cp).EPHEMERAL?.bytes ?? Buffer.alloc(0);
    // Field 1 (phase) = 6 (ready), field 9 (size) a varint of 100 GiB, field 16 (type) = 0 (partition, not sent).
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x08, 6]));
    const size = bytes.indexOf(0x48);
    expect(size).toBeGreaterThan(0);
    let value = 0n;
    for (let i = size + 1, shift = 0n; ; i++, shift += 7n) {
      const byte = BigInt(bytes[i] ?? 0);
      value |= (byte & 0x7fn) << shift;
      if (byte < 0x80n) break;
    }
    expect(value).toBe(100n * 1024n ** 3n);
  });

  it("BootstrapManifestsConfig: on control planes only; cniName none without manifests, flannel with", () => {
    const type = "BootstrapManifestsConfigs.kubernetes.talos.dev";
    const config = (manifests: boolean) =>
      renderMachineConfig(cp.identity, "v1.13.0", "v1.35.2", { manifests });
    expect(served(type, worker, config(true))).toEqual({});
    expect(served(type, cp, config(false)).manifests?.yaml).toMatch(
      /coreDNSEnabled: false[\s\S]*cniName: none/,
    );
    const yaml = served(type, cp, config(true)).manifests?.yaml ?? "";
    expect(yaml).toMatch(/^string: https:\/\/127\.0\.0\.1:6443$/m);
    expect(yaml).toMatch(/flannelEnabled: true[\s\S]*cniName: flannel/);
  });

  it("BootstrapManifestsConfig: kube-proxy flags as Talos builds them, extra args written over, sorted", () => {
    const withArgs = (args: string) =>
      renderMachineConfig(cp.identity, "v1.13.0", "v1.30.4", { manifests: true }).replace(
        "  proxy:\n",
        `  proxy:\n    extraArgs:\n${args}`,
      );
    const type = "BootstrapManifestsConfigs.kubernetes.talos.dev";
    const yaml = served(type, cp, withArgs("      proxy-mode: ipvs\n      v: '2'\n")).manifests?.yaml ?? "";
    expect(yaml).toContain(
      [
        "proxyArgs:",
        "  - --cluster-cidr=10.244.0.0/16",
        "  - --conntrack-max-per-core=0",
        "  - --hostname-override=$(NODE_NAME)",
        "  - --kubeconfig=/etc/kubernetes/kubeconfig",
        "  - --proxy-mode=ipvs",
        "  - --v=2",
      ].join("\n"),
    );
    // Talos refuses a kubeconfig of one's own ("extra arg is not allowed"): the controller writes nothing.
    expect(served(type, cp, withArgs("      kubeconfig: /elsewhere\n"))).toEqual({});
  });
});
