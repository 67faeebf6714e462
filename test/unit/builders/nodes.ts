// Builders for the nodes an observation holds (NodeView: the operator's view of a Node and its
// machine), with the defaults of plans.ts: role by name, Talos v1.11.6, plan `production`.
import type { KubeComponent } from "../../../src/api/v1alpha1/kubernetes-status.ts";
import type { KubernetesFacts, NodeView } from "../../../src/model/observation.ts";
import { planName, previousVersion, roleOf, targetVersion, vanillaImage } from "./plans.ts";

/**
 * A Ready, schedulable node whose Talos API answers, with every default spelled out below.
 * `overrides` replaces any field; `version` sets the Talos version (the `talos` block's, unless
 * `talos` names its own); `talos` is merged over the default Talos facts.
 */
export function aNode(name: string, overrides: Partial<NodeView> & { version?: string } = {}): NodeView {
  const { version = previousVersion, talos, ...rest } = overrides;
  return {
    name,
    // Role by name: `cp…` is a control plane (pass `role` to say otherwise).
    role: roleOf(name),
    // An address per name length (cp-1 → 10.0.0.4, worker-1 → 10.0.0.8): actions name it.
    address: `10.0.0.${name.length}`,
    labels: { "kubernetes.io/hostname": name },
    ready: true,
    unschedulable: false,
    // A node given as cordoned is cordoned by the default plan; delete cordonedBy for a person's cordon.
    ...(overrides.unschedulable ? { cordonedBy: planName } : {}),
    evictablePods: 0,
    // The default plan's installer is already pulled, so that a test starts at the cordon; pass
    // `pulls: {}` to see the pull first.
    pulls: { [vanillaImage(targetVersion)]: {} },
    mirrorPods: {},
    talos: {
      reachable: true,
      version,
      // The boot the node is on; an upgrade's reboot takes it to another.
      bootId: `${name}-boot-0`,
      stage: "RUNNING",
      ready: true,
      platform: "metal",
      ...talos,
    },
    ...rest,
  };
}

/** The static pods of a control plane, in `talosctl upgrade-k8s` order. */
export const staticComponents: KubeComponent[] = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
];

/** Where each Kubernetes component's image comes from by default, as Talos writes them. */
export const kubeRepositories: Record<KubeComponent, string> = {
  "kube-apiserver": "registry.k8s.io/kube-apiserver",
  "kube-controller-manager": "registry.k8s.io/kube-controller-manager",
  "kube-scheduler": "registry.k8s.io/kube-scheduler",
  "kube-proxy": "registry.k8s.io/kube-proxy",
  kubelet: "ghcr.io/siderolabs/kubelet",
};

/** A component's default image at `version`. */
export const kubeImage = (component: KubeComponent, version: string) =>
  `${kubeRepositories[component]}:${version}`;

/**
 * A node done with the Talos phase (on v1.12.4, the default target) whose Kubernetes components all
 * run `k8s`, read through the Talos API: a control plane (by name, `roleOf`) runs every component
 * with its static pods rendered (config version 1) and Ready mirror pods; a worker runs the
 * kubelet only. Nothing pulled yet. `extra` replaces any field.
 */
export function aK8sNode(name: string, k8s: string, extra: Parameters<typeof aNode>[1] = {}): NodeView {
  const cp = roleOf(name) === "controlplane";
  const facts: KubernetesFacts = {
    reachable: true,
    images: cp
      ? Object.fromEntries(
          (Object.keys(kubeRepositories) as KubeComponent[]).map((c) => [c, kubeImage(c, k8s)]),
        )
      : { kubelet: kubeImage("kubelet", k8s) },
    proxyDisabled: false,
    rendered: cp
      ? Object.fromEntries(staticComponents.map((c) => [c, { image: kubeImage(c, k8s), version: "1" }]))
      : {},
    kubeletImage: kubeImage("kubelet", k8s),
    kubeletArgs: [],
    kubeletHealthy: true,
    staticPodArgs: {},
  };
  return aNode(name, {
    version: targetVersion,
    kubeletVersion: k8s,
    mirrorPods: cp
      ? Object.fromEntries(
          staticComponents.map((c) => [c, { image: kubeImage(c, k8s), configVersion: "1", ready: true }]),
        )
      : {},
    kubernetes: facts,
    pulls: {},
    ...extra,
  });
}
