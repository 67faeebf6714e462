// What a Kubernetes upgrade must respect: which Kubernetes minors each Talos release runs, and what
// each Kubernetes minor removed (flags, feature gates, admission plugins, served API versions), so
// that a cluster still using one is stopped before anything is patched.
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import { parseVersion } from "../api/v1alpha1/version.ts";

/** Kubernetes minors (of 1.x) each Talos minor (of 1.x) supports, from Talos' compatibility tables. */
const supportedByTalos: Record<number, { min: number; max: number }> = {
  7: { min: 25, max: 30 },
  8: { min: 26, max: 31 },
  9: { min: 27, max: 32 },
  10: { min: 28, max: 33 },
  11: { min: 29, max: 34 },
  12: { min: 30, max: 35 },
  13: { min: 31, max: 36 },
  14: { min: 32, max: 37 },
  15: { min: 33, max: 38 },
};

/** Why Talos `talosVersion` cannot run Kubernetes `kubernetesVersion`, or undefined when it can. */
export function unsupportedCombination(talosVersion: string, kubernetesVersion: string): string | undefined {
  const t = parseVersion(talosVersion);
  const k = parseVersion(kubernetesVersion);
  const range = t.major === 1 ? supportedByTalos[t.minor] : undefined;
  if (!range) return `Talos ${talosVersion} is not in this operator's support table (Talos v1.7 to v1.15)`;
  if (k.major !== 1 || k.minor < range.min || k.minor > range.max)
    return `Talos ${talosVersion} supports Kubernetes v1.${range.min} to v1.${range.max}, not ${kubernetesVersion}`;
  return undefined;
}

interface RemovedItems {
  featureGates: string[];
  kubeletFlags: string[];
  apiServerFlags: string[];
  controllerManagerFlags: string[];
  admissionPlugins: string[];
  /** Served API versions that are gone, as resource.version.group. */
  apiResources: string[];
}

const none: RemovedItems = {
  featureGates: [],
  kubeletFlags: [],
  apiServerFlags: [],
  controllerManagerFlags: [],
  admissionPlugins: [],
  apiResources: [],
};

const changelog = (minor: number) => `Kubernetes CHANGELOG-1.${minor}.md (upstream), removals section`;

/**
 * What the Kubernetes minor (of 1.x) named by the key removed, with where each row comes from: the
 * upstream changelog or announcement, as Talos' own pre-upgrade checks (siderolabs/go-kubernetes,
 * kubernetes/upgrade) list them. Every minor a supported Talos can run, 1.25 → 1.37, is covered.
 */
export const removedIn: Record<number, Partial<RemovedItems> & { source: string }> = {
  26: {
    source: "Kubernetes deprecated API migration guide and CHANGELOG-1.26.md (upstream)",
    featureGates: ["DynamicKubeletConfig"],
    apiServerFlags: ["master-service-namespace"],
  },
  27: {
    source: "Kubernetes blog, 2023-03-17, upcoming changes in Kubernetes v1.27 (upstream)",
    featureGates: [
      "CSIInlineVolume",
      "CSIMigration",
      "ControllerManagerLeaderMigration",
      "DaemonSetUpdateSurge",
      "EphemeralContainers",
      "ExpandCSIVolumes",
      "ExpandInUsePersistentVolumes",
      "ExpandPersistentVolumes",
      "IdentifyPodOS",
      "LocalStorageCapacityIsolation",
      "NetworkPolicyEndPort",
      "StatefulSetMinReadySeconds",
    ],
    controllerManagerFlags: ["enable-taint-manager", "pod-eviction-timeout"],
    kubeletFlags: ["container-runtime", "master-service-namespace"],
  },
  28: {
    source: changelog(28),
    featureGates: [
      "AdvancedAuditing",
      "CSIMigrationGCE",
      "CSIStorageCapacity",
      "DelegateFSGroupToCSIDriver",
      "DevicePlugins",
      "DisableAcceleratorUsageMetrics",
      "EndpointSliceTerminatingCondition",
      "KubeletCredentialProviders",
      "MixedProtocolLBService",
      "ServiceIPStaticSubrange",
      "ServiceInternalTrafficPolicy",
      "WindowsHostProcessContainers",
    ],
  },
  29: {
    source: changelog(29),
    apiResources: ["clustercidrs.v1alpha1.networking.k8s.io"],
  },
  30: {
    source: changelog(30),
    featureGates: [
      "ExpandedDNSConfig",
      "ExperimentalHostUserNamespaceDefaultingGate",
      "IPTablesOwnershipCleanup",
      "KubeletPodResources",
      "KubeletPodResourcesGetAllocatable",
      "MinimizeIPTablesRestore",
      "ProxyTerminatingEndpoints",
      "RemoveSelfLink",
    ],
    admissionPlugins: ["SecurityContextDeny"],
  },
  31: {
    source: changelog(31),
    featureGates: [
      "APIPriorityAndFairness",
      "CSINodeExpandSecret",
      "ConsistentHTTPGetHandlers",
      "DefaultHostNetworkHostPortsInPodTemplates",
      "ServiceNodePortStaticSubrange",
      "SkipReadOnlyValidationGCE",
    ],
    kubeletFlags: ["keep-terminated-pod-volumes", "iptables-masquerade-bit", "iptables-drop-bit"],
    controllerManagerFlags: [
      "volume-host-cidr-denylist",
      "volume-host-allow-local-loopback",
      "horizontal-pod-autoscaler-upscale-delay",
      "horizontal-pod-autoscaler-downscale-delay",
    ],
  },
  32: {
    source: changelog(32),
    featureGates: [
      "AllowServiceLBStatusOnNonLB",
      "CloudDualStackNodeIPs",
      "DRAControlPlaneController",
      "HPAContainerMetrics",
      "KMSv2",
      "KMSv2KDF",
      "LegacyServiceAccountTokenCleanUp",
      "MinDomainsInPodTopologySpread",
      "NewVolumeManagerReconstruction",
      "NodeOutOfServiceVolumeDetach",
      "ServerSideApply",
      "ServerSideFieldValidation",
      "StableLoadBalancerNodeSet",
      "ValidatingAdmissionPolicy",
      "ZeroLimitedNominalConcurrencyShares",
    ],
    apiResources: ["podschedulingcontexts.v1alpha3.resource.k8s.io"],
  },
  33: {
    source: changelog(33),
    featureGates: [
      "AppArmor",
      "AppArmorFields",
      "CPUManager",
      "DisableCloudProviders",
      "DisableKubeletCloudCredentialProviders",
      "JobPodFailurePolicy",
      "KubeProxyDrainingTerminatingNodes",
      "PDBUnhealthyPodEvictionPolicy",
      "PersistentVolumeLastPhaseTransitionTime",
      "VolumeCapacityPriority",
    ],
    apiServerFlags: ["cloud-config"],
  },
  34: {
    source: changelog(34),
    featureGates: ["DevicePluginCDIDevices", "LegacySidecarContainers", "PodDisruptionConditions"],
    kubeletFlags: ["cloud-config"],
  },
  35: {
    source: changelog(35),
    featureGates: ["SizeMemoryBackedVolumes", "UserNamespacesHostNetworkSupport"],
    kubeletFlags: ["pod-infra-container-image"],
  },
  36: {
    source: `${changelog(36)}; still provisional upstream of Talos' checks`,
    featureGates: [
      "CSIMigrationPortworx",
      "HonorPVReclaimPolicy",
      "InTreePluginPortworxUnregister",
      "WatchFromStorageWithoutResourceVersion",
    ],
  },
  37: {
    source: `${changelog(37)}; still provisional upstream of Talos' checks`,
    featureGates: [
      "AnyVolumeDataSource",
      "DeclarativeValidationTakeover",
      "GangScheduling",
      "PreventStaticPodAPIReferences",
      "WorkloadAwarePreemption",
    ],
    // The kubelet's cAdvisor flags, all removed together.
    kubeletFlags: [
      "application-metrics-count-limit",
      "boot-id-file",
      "container-hints",
      "containerd",
      "containerd-namespace",
      "enable-load-reader",
      "event-storage-age-limit",
      "event-storage-event-limit",
      "global-housekeeping-interval",
      "log-cadvisor-usage",
      "machine-id-file",
      "storage-driver-buffer-duration",
      "storage-driver-db",
      "storage-driver-host",
      "storage-driver-password",
      "storage-driver-secure",
      "storage-driver-table",
      "storage-driver-user",
    ],
    apiResources: ["podgroups.v1alpha2.scheduling.k8s.io", "workloads.v1alpha2.scheduling.k8s.io"],
  },
};

/** What moving from `from` to `to` removes: the union over every minor passed. */
export function removedBetween(from: string, to: string): RemovedItems {
  const a = parseVersion(from).minor;
  const b = parseVersion(to).minor;
  const out: RemovedItems = structuredClone(none);
  for (let minor = a + 1; minor <= b; minor++) {
    const items: Partial<RemovedItems> = removedIn[minor] ?? {};
    for (const key of Object.keys(none) as (keyof RemovedItems)[]) out[key].push(...(items[key] ?? []));
  }
  return out;
}

/** Removed flags, feature gates and admission plugins still set in a component's command line. */
export function removedInArgs(args: string[], component: KubeComponent, removed: RemovedItems): string[] {
  const flags: Record<KubeComponent, string[]> = {
    "kube-apiserver": removed.apiServerFlags,
    "kube-controller-manager": removed.controllerManagerFlags,
    "kube-scheduler": [],
    "kube-proxy": [],
    kubelet: removed.kubeletFlags,
  };
  const found: string[] = [];
  for (const arg of args) {
    const [name = "", value = ""] = arg.replace(/^--?/, "").split(/=(.*)/s);
    if (flags[component].includes(name)) found.push(`flag --${name}`);
    if (name === "feature-gates") {
      for (const gate of value.split(",")) {
        const gateName = gate.split("=")[0] ?? "";
        if (removed.featureGates.includes(gateName)) found.push(`feature gate ${gateName}`);
      }
    }
    if (name === "enable-admission-plugins" && component === "kube-apiserver") {
      for (const plugin of value.split(","))
        if (removed.admissionPlugins.includes(plugin)) found.push(`admission plugin ${plugin}`);
    }
  }
  return found;
}
