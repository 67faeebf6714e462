// The COSI resources a simulated machine exposes, computed from its state and machine config:
// type, namespace, the ResourceDefinition talosctl resolves aliases with, and each spec both as a
// proto message and as YAML. Versions bump whenever a spec's content changes, as in COSI.
import { stringify } from "yaml";
import type { FleetView } from "./handlers.ts";
import { clusterEndpoint, clusterSwitches, componentImages, extraArgs, imageTag } from "./machine-config.ts";
import { coreDnsImage, flannelImage } from "./manifests.ts";
import { hardware, type SimNode } from "./node.ts";
import { compareVersions } from "./versions.ts";

export interface Spec {
  proto: Record<string, unknown>;
  /** The spec as YAML text (yaml_spec). */
  yaml: string;
}

export interface ResourceKind {
  type: string;
  namespace: string;
  protoType: string;
  aliases: string[];
  printColumns: { name: string; jsonPath: string }[];
  /** Sensitive kinds need os:admin even to read. */
  sensitive(node: SimNode): boolean;
  /** Kinds that a node of this version does not have. */
  exists?(node: SimNode): boolean;
  specs(node: SimNode, fleet: FleetView): Record<string, Spec>;
}

const yamlOf = (value: unknown) => stringify(value, { lineWidth: 0 });
const spec = (proto: Record<string, unknown>, yaml: unknown): Spec => ({ proto, yaml: yamlOf(yaml) });
const since = (floor: string) => (node: SimNode) => compareVersions(node.version, floor) >= 0;
const never = () => false;
const always = () => true;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** google.protobuf.Struct from plain JSON, as protobufjs expects it. */
export function toStruct(value: { [key: string]: Json }): Record<string, unknown> {
  const toValue = (v: Json): Record<string, unknown> => {
    if (v === null) return { nullValue: "NULL_VALUE" };
    if (typeof v === "boolean") return { boolValue: v };
    if (typeof v === "number") return { numberValue: v };
    if (typeof v === "string") return { stringValue: v };
    if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
    return { structValue: toStruct(v) };
  };
  return { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toValue(v)])) };
}

const stages: Record<string, string> = {
  BOOTING: "booting",
  RUNNING: "running",
  REBOOTING: "rebooting",
  UPGRADING: "upgrading",
  SHUTTING_DOWN: "shutting down",
};

const components = [
  { id: "kube-apiserver", type: "APIServerConfigs.kubernetes.talos.dev", key: "apiServer" },
  {
    id: "kube-controller-manager",
    type: "ControllerManagerConfigs.kubernetes.talos.dev",
    key: "controllerManager",
  },
  { id: "kube-scheduler", type: "SchedulerConfigs.kubernetes.talos.dev", key: "scheduler" },
] as const;

type ComponentId = (typeof components)[number]["id"];

function componentConfig(
  node: SimNode,
  fleet: FleetView,
  id: (typeof components)[number]["id"],
): Spec | undefined {
  const entry = components.find((c) => c.id === id);
  const image = entry && componentImages(fleet.machineConfig(node))[entry.key];
  if (!node.isControlPlane || !image) return undefined;
  if (id === "kube-apiserver") {
    return spec(
      {
        image,
        controlPlaneEndpoint: "https://127.0.0.1:6443",
        localPort: "6443",
        advertisedAddress: node.address,
      },
      {
        image,
        controlPlaneEndpoint: "https://127.0.0.1:6443",
        localPort: 6443,
        advertisedAddress: node.address,
      },
    );
  }
  return spec({ enabled: true, image }, { enabled: true, image });
}

/** The resource version of a component's config: what the mirror pod's talos.dev/config-version says. */
export function staticPodConfigVersion(node: SimNode, fleet: FleetView, id: ComponentId): string {
  const entry = components.find((c) => c.id === id);
  const config = componentConfig(node, fleet, id);
  return entry && config ? String(fleet.resourceVersion(node, `${entry.type}/${id}`, config.yaml)) : "0";
}

export function staticPodImage(node: SimNode, fleet: FleetView, id: ComponentId): string {
  return String(componentConfig(node, fleet, id)?.proto.image ?? "");
}

function staticPod(node: SimNode, fleet: FleetView, id: ComponentId): { [key: string]: Json } {
  const image = staticPodImage(node, fleet, id);
  const key = components.find((c) => c.id === id)?.key ?? "apiServer";
  const command = [`/usr/local/bin/${id}`, ...extraArgs(fleet.machineConfig(node), key)];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: id,
      namespace: "kube-system",
      labels: { "k8s-app": id, tier: "control-plane" },
      annotations: { "talos.dev/config-version": staticPodConfigVersion(node, fleet, id) },
    },
    spec: {
      hostNetwork: true,
      priorityClassName: "system-cluster-critical",
      containers: [{ name: id, image, command }],
    },
  };
}

/**
 * kube-proxy's flags as Talos derives them (getProxyArgs): its defaults with the extra args written
 * over them, sorted by name; undefined when the extra args set --kubeconfig, which Talos refuses.
 */
function proxyArgs(config: string): string[] | undefined {
  const version = imageTag(componentImages(config).proxy) ?? "v0.0.0";
  const args = new Map<string, string[]>([
    ["cluster-cidr", ["10.244.0.0/16"]],
    ["hostname-override", ["$(NODE_NAME)"]],
    ["kubeconfig", ["/etc/kubernetes/kubeconfig"]],
    ["proxy-mode", [compareVersions(version, "v1.31.0") >= 0 ? "nftables" : "iptables"]],
    ["conntrack-max-per-core", ["0"]],
  ]);
  const extra = new Map<string, string[]>();
  for (const arg of extraArgs(config, "proxy")) {
    const [name = "", value = ""] = arg.slice(2).split(/=(.*)/s);
    extra.set(name, [...(extra.get(name) ?? []), value]);
  }
  if (extra.has("kubeconfig")) return undefined;
  for (const [name, values] of extra) args.set(name, values);
  return [...args.keys()].sort().flatMap((name) => (args.get(name) ?? []).map((v) => `--${name}=${v}`));
}

/**
 * BootstrapManifestsConfig from the machine config, as ControlPlaneBootstrapManifestsController fills
 * it; none when the controller fails on the config (a --kubeconfig extra arg for kube-proxy).
 */
function bootstrapManifestsConfig(node: SimNode, fleet: FleetView): Spec | undefined {
  const config = fleet.machineConfig(node);
  const switches = clusterSwitches(config);
  const flags = proxyArgs(config);
  if (!flags) return undefined;
  // In the Go struct's order and under its YAML tags (the server is under "string").
  const yaml = {
    // KubePrism is not enabled in the simulated machine config: the cluster endpoint, no flannel host.
    string: clusterEndpoint(config),
    clusterDomain: "cluster.local",
    podCIDRs: ["10.244.0.0/16"],
    proxyEnabled: !switches.proxyDisabled,
    proxyImage: componentImages(config).proxy ?? "",
    proxyArgs: flags,
    coreDNSEnabled: !switches.coreDNSDisabled,
    coreDNSImage: coreDnsImage(node.version),
    dnsServiceIP: "10.96.0.10",
    dnsServiceIPv6: "",
    flannelEnabled: switches.cni === "flannel",
    flannelImage: flannelImage(node.version),
    flannelExtraArgs: [],
    flannelKubeServiceHost: "",
    flannelKubeServicePort: "",
    flannelKubeNetworkPoliciesEnabled: false,
    flannelKubeNetworkPoliciesImage: "registry.k8s.io/networking/kube-network-policies:v1.0.0",
    podSecurityPolicyEnabled: false,
    talosAPIServiceEnabled: false,
    cniName: switches.cni,
  };
  // The proto's camelCase names where they differ from the YAML tags (pod_cid_rs, core_dns_*, ...).
  const { string, podCIDRs, coreDNSEnabled, coreDNSImage, dnsServiceIP, talosAPIServiceEnabled, ...same } =
    yaml;
  const proto = {
    ...same,
    server: string,
    podCidRs: podCIDRs,
    coreDnsEnabled: coreDNSEnabled,
    coreDnsImage: coreDNSImage,
    dnsServiceIp: dnsServiceIP,
    talosApiServiceEnabled: talosAPIServiceEnabled,
  };
  return spec(proto, yaml);
}

export const resourceKinds: ResourceKind[] = [
  {
    type: "MachineStatuses.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.MachineStatusSpec",
    aliases: ["machinestatus", "ms"],
    printColumns: [
      { name: "Stage", jsonPath: "{.stage}" },
      { name: "Ready", jsonPath: "{.status.ready}" },
    ],
    sensitive: never,
    specs: (node) => {
      const unmet = node.ready ? [] : [{ name: "nodeReady", reason: "node is not ready" }];
      return {
        machine: spec(
          { stage: `MACHINE_STAGE_${node.stage}`, status: { ready: node.ready, unmetConditions: unmet } },
          { stage: stages[node.stage], status: { ready: node.ready, unmetConditions: unmet } },
        ),
      };
    },
  },
  {
    type: "Diagnostics.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.DiagnosticSpec",
    aliases: ["diagnostic"],
    printColumns: [{ name: "Message", jsonPath: "{.message}" }],
    sensitive: never,
    specs: (node) =>
      Object.fromEntries(
        (node.faults.diagnostics ?? []).map(({ id, message, details = [] }) => [
          id,
          spec({ message, details }, { message, details }),
        ]),
      ),
  },
  {
    type: "VolumeStatuses.block.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.block.VolumeStatusSpec",
    aliases: ["volumestatus", "vs"],
    printColumns: [
      { name: "Type", jsonPath: "{.type}" },
      { name: "Phase", jsonPath: "{.phase}" },
      { name: "Location", jsonPath: "{.location}" },
      { name: "Size", jsonPath: "{.prettySize}" },
    ],
    sensitive: never,
    // Only the EPHEMERAL partition (/var), the volume talosctl health sizes up.
    specs: () => {
      const size = hardware.ephemeralBytes;
      // humanize.Bytes: SI units, no decimals from 10 on.
      const prettySize = `${Math.round(size / 1e9)} GB`;
      const common = { location: "/dev/sda6", mountLocation: "/dev/sda6", parentLocation: "/dev/sda" };
      return {
        EPHEMERAL: spec(
          {
            phase: "VOLUME_PHASE_READY",
            type: "VOLUME_TYPE_PARTITION",
            ...common,
            partitionIndex: 6,
            size: String(size),
            prettySize,
            filesystem: "FILESYSTEM_TYPE_XFS",
          },
          {
            phase: "ready",
            type: "partition",
            ...common,
            partitionIndex: 6,
            size,
            prettySize,
            filesystem: "xfs",
          },
        ),
      };
    },
  },
  {
    type: "Versions.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.VersionSpec",
    aliases: ["version"],
    printColumns: [
      { name: "Name", jsonPath: "{.name}" },
      { name: "Version", jsonPath: "{.version}" },
    ],
    sensitive: never,
    specs: (node) => ({
      version: spec({ version: node.version, name: "Talos" }, { name: "Talos", version: node.version }),
    }),
  },
  {
    type: "Services.v1alpha1.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.v1alpha1.ServiceSpec",
    aliases: ["svc", "service"],
    printColumns: [
      { name: "Running", jsonPath: "{.running}" },
      { name: "Healthy", jsonPath: "{.healthy}" },
      { name: "Health Unknown", jsonPath: "{.unknown}" },
    ],
    sensitive: never,
    specs: (node) =>
      Object.fromEntries(
        node.services().map((s) => {
          const value = { running: s.running, healthy: s.healthy, unknown: false };
          return [s.id, spec(value, value)];
        }),
      ),
  },
  {
    type: "ExtensionStatuses.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.extensions.Layer",
    aliases: ["extensions", "extensionstatus", "es"],
    printColumns: [
      { name: "Name", jsonPath: "{.metadata.name}" },
      { name: "Version", jsonPath: "{.metadata.version}" },
    ],
    sensitive: never,
    specs: (node) =>
      Object.fromEntries(
        node.identity.extensions.map((e, i) => {
          const metadata = { name: e.name, version: e.version, ...(e.author ? { author: e.author } : {}) };
          const value = { image: e.image, metadata };
          return [String(i), spec(value, value)];
        }),
      ),
  },
  {
    // Talos names this type without the runtime group, and keeps it in the runtime namespace.
    type: "SecurityStates.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.SecurityStateSpec",
    aliases: ["securitystate", "securitystates"],
    printColumns: [
      { name: "SecureBoot", jsonPath: "{.secureBoot}" },
      { name: "UKISigningKeyFingerprint", jsonPath: "{.ukiSigningKeyFingerprint}" },
      { name: "PCRSigningKeyFingerprint", jsonPath: "{.pcrSigningKeyFingerprint}" },
      { name: "SELinuxState", jsonPath: "{.selinuxState}" },
      { name: "ModuleSignatureEnforced", jsonPath: "{.moduleSignatureEnforced}" },
    ],
    sensitive: never,
    // bootedWithUKI says the machine booted a UKI, which is sd-boot's way (GRUB boots a kernel).
    specs: (node) => {
      const secure = node.identity.secureBoot;
      const uki = node.bootloader === "sd-boot";
      return {
        securitystate: spec(
          { secureBoot: secure, bootedWithUki: uki },
          { secureBoot: secure, ...(uki ? { bootedWithUKI: true } : {}) },
        ),
      };
    },
  },
  {
    type: "ImageFactorySchematics.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.ImageFactorySchematicSpec",
    aliases: ["imagefactoryschematic", "ifs"],
    printColumns: [
      { name: "Schematic ID", jsonPath: "{.schematicId}" },
      { name: "Flavor", jsonPath: "{.flavor}" },
      { name: "API URL", jsonPath: "{.apiUrl}" },
    ],
    sensitive: never,
    exists: since("v1.14.0-alpha.2"),
    // Talos parses the flavor and URL from the schematic extension's author, "Image Factory (<url>)";
    // an image from no factory has no schematic, and no resource.
    specs: (node): Record<string, Spec> => {
      const { schematic, factoryUrl } = node.identity;
      if (schematic === "") return {};
      return {
        "image-factory-schematic": spec(
          { schematicId: schematic, flavor: "Image Factory", apiurl: factoryUrl },
          { schematicId: schematic, flavor: "Image Factory", apiUrl: factoryUrl },
        ),
      };
    },
  },
  {
    type: "KernelCmdlines.runtime.talos.dev",
    namespace: "runtime",
    protoType: "talos.resource.definitions.runtime.KernelCmdlineSpec",
    aliases: ["cmdline"],
    printColumns: [{ name: "Cmdline", jsonPath: "{.cmdline}" }],
    sensitive: never,
    exists: since("v1.11.0-alpha.0"),
    specs: (node) => {
      const cmdline = node.cmdline.join(" ");
      return { cmdline: spec({ cmdline }, { cmdline }) };
    },
  },
  {
    type: "Nodenames.kubernetes.talos.dev",
    namespace: "k8s",
    protoType: "talos.resource.definitions.k8s.NodenameSpec",
    aliases: ["nodename"],
    printColumns: [{ name: "Nodename", jsonPath: "{.nodename}" }],
    sensitive: never,
    specs: (node) => ({
      nodename: spec(
        { nodename: node.hostname, hostnameVersion: "1", skipNodeRegistration: false },
        { nodename: node.hostname, hostnameVersion: "1", skipNodeRegistration: false },
      ),
    }),
  },
  {
    type: "KubeletSpecs.kubernetes.talos.dev",
    namespace: "k8s",
    protoType: "talos.resource.definitions.k8s.KubeletSpecSpec",
    aliases: ["kubeletspec", "ks"],
    printColumns: [],
    sensitive: since("v1.14.0-alpha.0"),
    specs: (node, fleet) => {
      const image = componentImages(fleet.machineConfig(node)).kubelet;
      const args = [
        `--hostname-override=${node.hostname}`,
        `--node-ip=${node.address}`,
        ...extraArgs(fleet.machineConfig(node), "kubelet"),
      ];
      return {
        kubelet: spec(
          { image, args, expectedNodename: node.hostname },
          { image, args, expectedNodename: node.hostname },
        ),
      };
    },
  },
  ...components.map(
    (c): ResourceKind => ({
      type: c.type,
      namespace: "controlplane",
      protoType: `talos.resource.definitions.k8s.${c.type.split("s.")[0]}Spec`,
      aliases:
        c.id === "kube-apiserver"
          ? ["apiserverconfig", "apisc", "apiscs"]
          : c.id === "kube-scheduler"
            ? ["schedulerconfig", "sc", "scs"]
            : ["controllermanagerconfig", "cmc", "cmcs"],
      printColumns: [],
      sensitive: c.id === "kube-apiserver" ? since("v1.14.0-alpha.0") : never,
      specs: (node, fleet) => {
        const config = componentConfig(node, fleet, c.id);
        return config ? { [c.id]: config } : {};
      },
    }),
  ),
  {
    type: "Manifests.kubernetes.talos.dev",
    namespace: "controlplane",
    protoType: "talos.resource.definitions.k8s.ManifestSpec",
    aliases: ["manifest", "manifests"],
    printColumns: [],
    sensitive: never,
    // Talos' ManifestSpec.MarshalYAML prints the objects as a plain list, each a Go map: keys sorted.
    specs: (node, fleet) =>
      Object.fromEntries(
        Object.entries(fleet.manifests(node)).map(([id, objects]) => [
          id,
          {
            proto: { items: objects.map((object) => ({ object: toStruct(object) })) },
            yaml: stringify(objects, { lineWidth: 0, sortMapEntries: true }),
          },
        ]),
      ),
  },
  {
    type: "BootstrapManifestsConfigs.kubernetes.talos.dev",
    namespace: "controlplane",
    protoType: "talos.resource.definitions.k8s.BootstrapManifestsConfigSpec",
    aliases: ["bootstrapmanifestsconfig", "bmc", "bmcs"],
    printColumns: [],
    sensitive: never,
    specs: (node, fleet): Record<string, Spec> => {
      const config = node.isControlPlane ? bootstrapManifestsConfig(node, fleet) : undefined;
      return config ? { manifests: config } : {};
    },
  },
  {
    type: "StaticPods.kubernetes.talos.dev",
    namespace: "k8s",
    protoType: "talos.resource.definitions.k8s.StaticPodSpec",
    aliases: ["staticpod", "sp"],
    printColumns: [],
    sensitive: never,
    specs: (node, fleet) =>
      node.isControlPlane
        ? Object.fromEntries(
            components.map((c) => {
              const pod = staticPod(node, fleet, c.id);
              return [c.id, spec({ pod: toStruct(pod) }, pod)];
            }),
          )
        : {},
  },
  {
    type: "StaticPodStatuses.kubernetes.talos.dev",
    namespace: "k8s",
    protoType: "talos.resource.definitions.k8s.StaticPodStatusSpec",
    aliases: ["podstatus", "staticpodstatus"],
    printColumns: [{ name: "Ready", jsonPath: '{.conditions[?(@.type=="Ready")].status}' }],
    sensitive: never,
    specs: (node) => {
      if (!node.isControlPlane) return {};
      const ready = node.up && node.ready ? "True" : "False";
      const status = { phase: "Running", conditions: [{ type: "Ready", status: ready }] };
      return Object.fromEntries(
        components.map((c) => [
          `kube-system/${c.id}-${node.hostname}`,
          spec({ podStatus: toStruct(status) }, status),
        ]),
      );
    },
  },
  {
    type: "MachineConfigs.config.talos.dev",
    namespace: "config",
    protoType: "resource.config.MachineConfigSpec",
    aliases: ["machineconfig", "mc", "mcs"],
    printColumns: [],
    sensitive: always,
    specs: (node, fleet) => {
      const config = fleet.machineConfig(node);
      return { v1alpha1: { proto: { yamlMarshalled: Buffer.from(config) }, yaml: config } };
    },
  },
  {
    type: "Members.cluster.talos.dev",
    namespace: "cluster",
    protoType: "talos.resource.definitions.cluster.MemberSpec",
    aliases: ["member"],
    printColumns: [
      { name: "Hostname", jsonPath: "{.hostname}" },
      { name: "Machine Type", jsonPath: "{.machineType}" },
      { name: "OS", jsonPath: "{.operatingSystem}" },
      { name: "Addresses", jsonPath: "{.addresses}" },
    ],
    sensitive: never,
    specs: (_node, fleet) =>
      Object.fromEntries(
        fleet.nodes().map((member) => {
          const type = member.isControlPlane ? "controlplane" : "worker";
          const os = `Talos (${member.version})`;
          const ip = Buffer.from(member.address.split(".").map(Number));
          const proto = {
            nodeId: fleet.memberId(member),
            addresses: [{ ip }],
            hostname: member.hostname,
            machineType: member.isControlPlane ? "TYPE_CONTROL_PLANE" : "TYPE_WORKER",
            operatingSystem: os,
            ...(member.isControlPlane ? { controlPlane: { apiServerPort: "6443" } } : {}),
          };
          const yaml = {
            nodeId: fleet.memberId(member),
            addresses: [member.address],
            hostname: member.hostname,
            machineType: type,
            operatingSystem: os,
            ...(member.isControlPlane ? { controlPlane: { port: 6443 } } : {}),
          };
          return [member.hostname, spec(proto, yaml)];
        }),
      ),
  },
];

/** The ResourceDefinition of a kind, as the COSI runtime fills it in (meta namespace). */
export function resourceDefinition(kind: ResourceKind, node: SimNode): Spec {
  const plural = kind.type.split(".")[0]?.toLowerCase() ?? "";
  const group = kind.type.slice(plural.length + 1).replace(/\.dev$/, "");
  const allAliases = [...kind.aliases, plural, `${plural}.${group.split(".")[0]}`, `${plural}.${group}`];
  const displayType = (kind.type.split(".")[0] ?? "").replace(/(ses|s)$/, (m) => (m === "ses" ? "s" : ""));
  const sensitive = kind.sensitive(node);
  return spec(
    {
      resourceType: kind.type,
      displayType,
      defaultNamespace: kind.namespace,
      aliases: kind.aliases,
      allAliases,
      printColumns: kind.printColumns,
      sensitivity: sensitive ? "SENSITIVE" : "NON_SENSITIVE",
    },
    {
      type: kind.type,
      displayType,
      aliases: kind.aliases,
      allAliases,
      defaultNamespace: kind.namespace,
      printColumns: kind.printColumns,
      ...(sensitive ? { sensitivity: "sensitive" } : {}),
    },
  );
}
