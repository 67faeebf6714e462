// The simulator's bootstrap manifests, rendered from a Talos version and a machine config: Talos'
// resource IDs, the kube-proxy image taken as it is, the disable switches, and the two rules the
// Kubernetes version drives (an object pruned from v1.36, an immutable selector changed from v1.37).
import { publicFactoryUrl } from "./fleet.ts";
import { renderMachineConfig } from "./machine-config.ts";
import { inventoryKey } from "./manifest-apply.ts";
import { bootstrapManifests, type ManifestObject } from "./manifests.ts";
import type { NodeIdentity } from "./node.ts";

const controlPlane: NodeIdentity = {
  hostname: "cp-1",
  address: "127.0.0.2",
  role: "controlplane",
  platform: "metal",
  schematic: "vanilla",
  extensions: [],
  secureBoot: false,
  factoryUrl: publicFactoryUrl,
};

const config = (kubernetesVersion: string, manifests = true) =>
  renderMachineConfig(controlPlane, "v1.13.0", kubernetesVersion, { manifests });
const render = (machineConfig: string, talosVersion = "v1.13.0") =>
  bootstrapManifests({ talosVersion, machineConfig });

const find = (objects: ManifestObject[] | undefined, kind: string, name: string) =>
  objects?.find((o) => o.kind === kind && (o.metadata as { name: string }).name === name) as
    | { spec: Record<string, never>; metadata: Record<string, never> }
    | undefined;
const proxyDaemonSet = (kubernetesVersion: string) =>
  find(render(config(kubernetesVersion))["10-kube-proxy"], "DaemonSet", "kube-proxy");

describe("the simulated bootstrap manifests", () => {
  it("render Talos' resource IDs, kube-proxy with the configured image exactly", () => {
    const manifests = render(config("v1.35.2"));
    expect(Object.keys(manifests)).toEqual([
      "05-flannel",
      "10-kube-proxy",
      "11-core-dns",
      "11-core-dns-svc",
      "11-talos-node-rbac-template",
    ]);
    const proxy = proxyDaemonSet("v1.35.2");
    expect(proxy?.metadata).toMatchObject({ namespace: "kube-system", labels: { "k8s-app": "kube-proxy" } });
    expect(proxy?.spec).toMatchObject({
      template: { spec: { containers: [{ image: "registry.k8s.io/kube-proxy:v1.35.2" }] } },
    });
    const patched = config("v1.35.2").replace(
      "registry.k8s.io/kube-proxy:v1.35.2",
      "mirror.example/kube-proxy:v1.35.3@sha256:abc",
    );
    expect(find(render(patched)["10-kube-proxy"], "DaemonSet", "kube-proxy")?.spec.template).toMatchObject({
      spec: { containers: [{ image: "mirror.example/kube-proxy:v1.35.3@sha256:abc" }] },
    });
  });

  it("render CoreDNS with two replicas, a selector that stays, and an image by Talos minor; kube-dns without a clusterIP", () => {
    const dns = (talos: string) =>
      find(render(config("v1.35.2"), talos)["11-core-dns"], "Deployment", "coredns");
    expect(dns("v1.12.4")?.spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { "k8s-app": "kube-dns" } },
    });
    expect(dns("v1.14.0")?.spec.selector).toEqual(dns("v1.12.4")?.spec.selector);
    const image = (talos: string) => JSON.stringify(dns(talos)?.spec.template);
    expect(image("v1.12.4")).toContain("registry.k8s.io/coredns/coredns:v1.12.3");
    expect(image("v1.14.0")).toContain("registry.k8s.io/coredns/coredns:v1.13.2");
    const service = find(render(config("v1.35.2"))["11-core-dns-svc"], "Service", "kube-dns");
    expect(service?.spec).not.toHaveProperty("clusterIP");
  });

  it.each([
    ["v1.35.9", true],
    ["v1.36.0-alpha.1", true],
    ["v1.36.0", false],
    ["v1.37.1", false],
  ])("with kube-proxy %s, the ConfigMap kube-proxy-legacy is rendered: %s", (version, rendered) => {
    const objects = render(config(version))["10-kube-proxy"];
    expect(Boolean(find(objects, "ConfigMap", "kube-proxy-legacy"))).toBe(rendered);
  });

  it.each([
    ["v1.36.4", { "k8s-app": "kube-proxy" }],
    ["v1.37.0", { "k8s-app": "kube-proxy", tier: "node" }],
  ])("with kube-proxy %s, the DaemonSet selects %j, and its pods carry those labels", (version, labels) => {
    const spec = proxyDaemonSet(version)?.spec as unknown as {
      selector: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(spec.selector.matchLabels).toEqual(labels);
    expect(spec.template.metadata.labels).toEqual(labels);
  });

  it("honour the machine config switches: no CNI, CoreDNS or kube-proxy when turned off", () => {
    // What a fleet without manifests configures: kube-proxy stays on (see renderMachineConfig).
    expect(Object.keys(render(config("v1.35.2", false)))).toEqual([
      "10-kube-proxy",
      "11-talos-node-rbac-template",
    ]);
    const proxyOff = `${config("v1.35.2")}`.replace(
      "    image: registry.k8s.io/kube-proxy:v1.35.2",
      "    image: registry.k8s.io/kube-proxy:v1.35.2\n    disabled: true",
    );
    expect(Object.keys(render(proxyOff))).not.toContain("10-kube-proxy");
    const proxyDocumentOff = `${config("v1.35.2")}---\napiVersion: v1alpha1\nkind: KubeProxyConfig\ndisabled: true\n`;
    expect(Object.keys(render(proxyDocumentOff))).not.toContain("10-kube-proxy");
  });

  it("keep their pods on the Nodes the selector names, next to kubernetes.io/os", () => {
    const manifests = bootstrapManifests({
      talosVersion: "v1.13.0",
      machineConfig: config("v1.35.2"),
      nodeSelector: { fleet: "a" },
    });
    for (const [id, kind, name] of [
      ["05-flannel", "DaemonSet", "kube-flannel"],
      ["10-kube-proxy", "DaemonSet", "kube-proxy"],
      ["11-core-dns", "Deployment", "coredns"],
    ] as const) {
      expect(find(manifests[id], kind, name)?.spec.template).toMatchObject({
        spec: { nodeSelector: { "kubernetes.io/os": "linux", fleet: "a" } },
      });
    }
  });

  it("are recorded in the inventory as cli-utils writes object references", () => {
    const keys = Object.values(render(config("v1.35.2")))
      .flat()
      .map(inventoryKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        "kube-system_kube-proxy_apps_DaemonSet",
        "kube-system_kube-proxy-legacy__ConfigMap",
        "kube-system_kube-dns__Service",
        "_kube-proxy_rbac.authorization.k8s.io_ClusterRoleBinding",
        "_system__coredns_rbac.authorization.k8s.io_ClusterRole",
        "_system__talos-nodes_rbac.authorization.k8s.io_ClusterRoleBinding",
      ]),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});
