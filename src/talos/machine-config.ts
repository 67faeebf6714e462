// The Kubernetes images in a Talos machine configuration, read and patched in place: the v1alpha1
// fields (cluster.apiServer.image, machine.kubelet.image, ...) or, where a cluster has them, the
// Talos ≥ 1.14 documents (KubeAPIServerConfig, KubeletConfig, ...). A patch replaces the text of
// one scalar and leaves the rest, comments and layout included, as it was.
import { type Document, isMap, isScalar, isSeq, parseAllDocuments } from "yaml";
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";

const places: Record<KubeComponent, { kind: string; path: string[] }> = {
  "kube-apiserver": { kind: "KubeAPIServerConfig", path: ["cluster", "apiServer", "image"] },
  "kube-controller-manager": {
    kind: "KubeControllerManagerConfig",
    path: ["cluster", "controllerManager", "image"],
  },
  "kube-scheduler": { kind: "KubeSchedulerConfig", path: ["cluster", "scheduler", "image"] },
  "kube-proxy": { kind: "KubeProxyConfig", path: ["cluster", "proxy", "image"] },
  kubelet: { kind: "KubeletConfig", path: ["machine", "kubelet", "image"] },
};

function documents(config: string): Document[] {
  const docs = parseAllDocuments(config);
  const failed = docs.find((d) => d.errors.length > 0);
  if (failed) throw new Error(`the machine configuration is not valid YAML: ${failed.errors[0]?.message}`);
  return docs.filter((d) => isMap(d.contents));
}

/** The document that holds a component's image: its own kind when present, else v1alpha1. */
function holder(docs: Document[], component: KubeComponent): { doc: Document; path: string[] } | undefined {
  const place = places[component];
  const own = docs.find((d) => d.get("kind") === place.kind);
  if (own) return { doc: own, path: ["image"] };
  const v1alpha1 = docs.find((d) => d.get("version") === "v1alpha1");
  return v1alpha1 ? { doc: v1alpha1, path: place.path } : undefined;
}

interface ConfigImages {
  images: Partial<Record<KubeComponent, string>>;
  /** kube-proxy is turned off (cluster.proxy.disabled, or KubeProxyConfig disabled). */
  proxyDisabled: boolean;
}

export function configImages(config: string): ConfigImages {
  const docs = documents(config);
  const images: Partial<Record<KubeComponent, string>> = {};
  for (const component of Object.keys(places) as KubeComponent[]) {
    const found = holder(docs, component);
    const image = found?.doc.getIn(found.path);
    if (typeof image === "string" && image !== "") images[component] = image;
  }
  const proxyDoc = docs.find((d) => d.get("kind") === places["kube-proxy"].kind);
  const v1alpha1 = docs.find((d) => d.get("version") === "v1alpha1");
  const proxyDisabled =
    proxyDoc?.get("disabled") === true || v1alpha1?.getIn(["cluster", "proxy", "disabled"]) === true;
  return { images, proxyDisabled };
}

/** machine.install's kernel arguments and whether GRUB takes its command line from the UKI. */
export function installKernelArgs(config: string): { kernelArgs: string[]; grubUseUKICmdline: boolean } {
  const v1alpha1 = documents(config).find((d) => d.get("version") === "v1alpha1");
  const args = v1alpha1?.getIn(["machine", "install", "extraKernelArgs"]);
  const list = isSeq(args) ? args.items.map((item) => (isScalar(item) ? String(item.value) : "")) : [];
  return {
    kernelArgs: list.filter((a) => a !== ""),
    grubUseUKICmdline: v1alpha1?.getIn(["machine", "install", "grubUseUKICmdline"]) === true,
  };
}

/** The configuration with machine.install.image set; the same text when it already is, or has no install section. */
export function withInstallImage(config: string, image: string): string {
  const docs = documents(config);
  const v1alpha1 = docs.find((d) => d.get("version") === "v1alpha1");
  const node = v1alpha1?.getIn(["machine", "install", "image"], true);
  // Only an install image that is there is replaced: a machine installed without one keeps none.
  if (!isScalar(node) || !node.range || node.value === image) return config;
  return config.slice(0, node.range[0]) + image + config.slice(node.range[1]);
}

/** The configuration with one component's image set; the same text when it already is. */
export function withComponentImage(config: string, component: KubeComponent, image: string): string {
  const docs = documents(config);
  const found = holder(docs, component);
  if (!found) throw new Error("the machine configuration has no v1alpha1 document");
  const node = found.doc.getIn(found.path, true);
  if (isScalar(node) && node.value === image) return config;
  // The scalar is there: replace its text and nothing else.
  if (isScalar(node) && node.range)
    return config.slice(0, node.range[0]) + image + config.slice(node.range[1]);
  // The field is missing: add it, letting the library lay the documents out again.
  found.doc.setIn(found.path, image);
  return docs.map((d) => d.toString({ lineWidth: 0 })).join("");
}
