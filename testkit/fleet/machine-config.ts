// The simulated machines' configuration: the multi-document YAML Talos keeps, what it renders at
// first, and the component images read back from it (v1alpha1 fields, or the v1.14 documents).
import { parseAllDocuments } from "yaml";
import type { InstallOptions, NodeIdentity } from "./node.ts";

export interface ComponentImages {
  kubelet: string;
  apiServer?: string;
  controllerManager?: string;
  scheduler?: string;
  proxy?: string;
}

export interface ClusterSwitches {
  /** cluster.proxy.disabled, or a KubeProxyConfig document's `disabled`. */
  proxyDisabled: boolean;
  /** cluster.coreDNS.disabled. */
  coreDNSDisabled: boolean;
  /** cluster.network.cni.name: Talos renders flannel only for "flannel", the default. */
  cni: string;
}

/**
 * The first machine configuration of a node. Without `manifests` Talos is told to render no CoreDNS
 * and no CNI (the real switches say why there are none), but kube-proxy stays enabled: talosctl and
 * the operator both upgrade cluster.proxy.image, and the operator skips that step when kube-proxy is
 * disabled, so the fleet option alone withholds its manifest (see Fleet.manifests).
 * `machine.install.extraKernelArgs` and `grubUseUKICmdline` are rendered only when given.
 */
export function renderMachineConfig(
  node: NodeIdentity,
  talosVersion: string,
  kubernetesVersion: string,
  options: { manifests: boolean; kernelArgs?: string[]; grubUseUKICmdline?: boolean },
): string {
  const controlPlane = node.role === "controlplane";
  const kernelArgs = options.kernelArgs ?? [];
  return [
    "version: v1alpha1",
    "machine:",
    `  type: ${controlPlane ? "controlplane" : "worker"}`,
    "  kubelet:",
    `    image: ghcr.io/siderolabs/kubelet:${kubernetesVersion}`,
    "  install:",
    "    disk: /dev/sda",
    `    image: factory.talos.dev/${node.platform}-installer/${node.schematic}:${talosVersion}`,
    ...(kernelArgs.length > 0
      ? ["    extraKernelArgs:", ...kernelArgs.map((arg) => `      - ${JSON.stringify(arg)}`)]
      : []),
    ...(options.grubUseUKICmdline === undefined
      ? []
      : [`    grubUseUKICmdline: ${options.grubUseUKICmdline}`]),
    "cluster:",
    "  controlPlane:",
    "    endpoint: https://127.0.0.1:6443",
    ...(controlPlane
      ? [
          "  apiServer:",
          `    image: registry.k8s.io/kube-apiserver:${kubernetesVersion}`,
          "  controllerManager:",
          `    image: registry.k8s.io/kube-controller-manager:${kubernetesVersion}`,
          "  scheduler:",
          `    image: registry.k8s.io/kube-scheduler:${kubernetesVersion}`,
          "  proxy:",
          `    image: registry.k8s.io/kube-proxy:${kubernetesVersion}`,
        ]
      : []),
    ...(options.manifests
      ? []
      : ["  network:", "    cni:", "      name: none", "  coreDNS:", "    disabled: true"]),
    "",
  ].join("\n");
}

type Doc = Record<string, unknown>;

function valueAt(doc: Doc | undefined, ...path: string[]): unknown {
  let value: unknown = doc;
  for (const key of path) value = (value as Doc | undefined)?.[key];
  return value;
}

function at(doc: Doc | undefined, ...path: string[]): string | undefined {
  const value = valueAt(doc, ...path);
  return typeof value === "string" ? value : undefined;
}

/** Component images, a v1.14 document (e.g. KubeAPIServerConfig) winning over the v1alpha1 field. */
export function componentImages(config: string): ComponentImages {
  const docs = parseAllDocuments(config).map((d) => (d.toJS() ?? {}) as Doc);
  const v1alpha1 = docs.find((d) => d.version === "v1alpha1");
  const kind = (name: string) =>
    at(
      docs.find((d) => d.kind === name),
      "image",
    );
  return {
    kubelet: kind("KubeletConfig") ?? at(v1alpha1, "machine", "kubelet", "image") ?? "",
    apiServer: kind("KubeAPIServerConfig") ?? at(v1alpha1, "cluster", "apiServer", "image"),
    controllerManager:
      kind("KubeControllerManagerConfig") ?? at(v1alpha1, "cluster", "controllerManager", "image"),
    scheduler: kind("KubeSchedulerConfig") ?? at(v1alpha1, "cluster", "scheduler", "image"),
    proxy: kind("KubeProxyConfig") ?? at(v1alpha1, "cluster", "proxy", "image"),
  };
}

export function clusterSwitches(config: string): ClusterSwitches {
  const docs = parseAllDocuments(config).map((d) => (d.toJS() ?? {}) as Doc);
  const v1alpha1 = docs.find((d) => d.version === "v1alpha1");
  const flag = (doc: Doc | undefined, ...path: string[]) => valueAt(doc, ...path) === true;
  return {
    proxyDisabled:
      flag(
        docs.find((d) => d.kind === "KubeProxyConfig"),
        "disabled",
      ) || flag(v1alpha1, "cluster", "proxy", "disabled"),
    coreDNSDisabled: flag(v1alpha1, "cluster", "coreDNS", "disabled"),
    cni: at(v1alpha1, "cluster", "network", "cni", "name") ?? "flannel",
  };
}

/** machine.install.extraKernelArgs and machine.install.grubUseUKICmdline (false when unset). */
export function installOptions(config: string): InstallOptions {
  const v1alpha1 = parseAllDocuments(config)
    .map((d) => (d.toJS() ?? {}) as Doc)
    .find((d) => d.version === "v1alpha1");
  const args = valueAt(v1alpha1, "machine", "install", "extraKernelArgs");
  return {
    extraKernelArgs: Array.isArray(args) ? args.map(String) : [],
    grubUseUKICmdline: valueAt(v1alpha1, "machine", "install", "grubUseUKICmdline") === true,
  };
}

/** machine.install.image: the installer a reinstall or reset boots. */
export function installImage(config: string): string | undefined {
  const v1alpha1 = parseAllDocuments(config)
    .map((d) => (d.toJS() ?? {}) as Doc)
    .find((d) => d.version === "v1alpha1");
  const image = valueAt(v1alpha1, "machine", "install", "image");
  return typeof image === "string" ? image : undefined;
}

/** Talos' validation of machine.install: the errors it refuses a configuration with. */
export function installErrors(options: InstallOptions): string[] {
  return options.extraKernelArgs.length > 0 && options.grubUseUKICmdline
    ? ["install.extraKernelArgs and install.grubUseUKICmdline can't be used together"]
    : [];
}

/** cluster.controlPlane.endpoint: the Kubernetes API URL the cluster's components use. */
export function clusterEndpoint(config: string): string {
  const v1alpha1 = parseAllDocuments(config)
    .map((d) => (d.toJS() ?? {}) as Doc)
    .find((d) => d.version === "v1alpha1");
  return at(v1alpha1, "cluster", "controlPlane", "endpoint") ?? "";
}

/** The tag of an image reference ("registry.k8s.io/kube-apiserver:v1.35.2" → "v1.35.2"). */
export function imageTag(image: string | undefined): string | undefined {
  const match = /:([^:/@]+)(?:@sha256:[0-9a-f]+)?$/.exec(image ?? "");
  return match?.[1];
}

/** v1.35.2 from a kubelet image tag such as v1.35.2-fat or v1.35.2-slim. */
export function kubeletVersion(image: string): string {
  return (imageTag(image) ?? "v0.0.0").replace(/-(fat|slim)$/, "");
}

/** Extra command line flags the configuration gives each component (machine.kubelet.extraArgs, cluster.apiServer.extraArgs, ...). */
export function extraArgs(config: string, component: keyof ComponentImages): string[] {
  const v1alpha1 = parseAllDocuments(config)
    .map((d) => (d.toJS() ?? {}) as Doc)
    .find((d) => d.version === "v1alpha1");
  const section =
    component === "kubelet"
      ? ((v1alpha1?.machine as Doc | undefined)?.kubelet as Doc | undefined)
      : ((v1alpha1?.cluster as Doc | undefined)?.[component] as Doc | undefined);
  const args = (section?.extraArgs ?? {}) as Record<string, string | string[]>;
  return Object.entries(args).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => `--${name}=${v}`),
  );
}
