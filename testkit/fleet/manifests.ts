// The bootstrap manifests a simulated control plane renders (Manifests.kubernetes.talos.dev in the
// controlplane namespace), by resource ID as Talos names them, from the machine's Talos version and
// its machine configuration: flannel, kube-proxy, CoreDNS and its Service, Talos' node RBAC. Object
// names and labels follow Talos' templates; the two rules that change the set with the Kubernetes
// version (the kube-proxy image's tag) are the simulator's own, for tests of a manifest sync:
// ConfigMap kube-system/kube-proxy-legacy exists only below v1.36.0 (a sync to v1.36 prunes it), and
// from v1.37.0 the kube-proxy DaemonSet's selector, an immutable field, gains `tier: node`.

import { clusterSwitches, componentImages, imageTag } from "./machine-config.ts";
import { compareVersions } from "./versions.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type ManifestObject = { [key: string]: Json };

export interface ManifestInput {
  talosVersion: string;
  /** The machine configuration (multi-document YAML): the proxy image and the disable switches. */
  machineConfig: string;
  /**
   * Labels the pods' Nodes must carry. Fleets that share one apiserver in tests keep their
   * DaemonSet and Deployment pods on their own Nodes; a real cluster has only its own.
   */
  nodeSelector?: Record<string, string>;
}

const byMinor = (version: string, table: [string, string][]): string =>
  [...table].reverse().find(([floor]) => compareVersions(version, floor) >= 0)?.[1] ??
  (table[0]?.[1] as string);

const coreDnsTags: [string, string][] = [
  ["v1.0.0", "v1.12.1"],
  ["v1.12.0", "v1.12.3"],
  ["v1.13.0", "v1.13.1"],
  ["v1.14.0", "v1.13.2"],
];
const flannelTags: [string, string][] = [
  ["v1.0.0", "v0.26.7"],
  ["v1.12.0", "v0.27.1"],
  ["v1.13.0", "v0.27.4"],
  ["v1.14.0", "v0.28.0"],
];

/** The CoreDNS and flannel images a Talos version renders by default. */
export const coreDnsImage = (talosVersion: string) =>
  `registry.k8s.io/coredns/coredns:${byMinor(talosVersion, coreDnsTags)}`;
export const flannelImage = (talosVersion: string) =>
  `ghcr.io/siderolabs/flannel:${byMinor(talosVersion, flannelTags)}`;

const rbac = "rbac.authorization.k8s.io";

const meta = (name: string, namespace?: string, labels?: Record<string, string>): ManifestObject => ({
  name,
  ...(namespace ? { namespace } : {}),
  ...(labels ? { labels } : {}),
});

const serviceAccount = (name: string): ManifestObject => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: meta(name, "kube-system"),
});

const clusterRoleBinding = (
  name: string,
  role: string,
  subject: { kind: "ServiceAccount" | "Group"; name: string },
): ManifestObject => ({
  apiVersion: `${rbac}/v1`,
  kind: "ClusterRoleBinding",
  metadata: meta(name),
  roleRef: { apiGroup: rbac, kind: "ClusterRole", name: role },
  subjects: [
    subject.kind === "ServiceAccount"
      ? { ...subject, namespace: "kube-system" }
      : { apiGroup: rbac, ...subject },
  ],
});

function daemonSet(
  name: string,
  labels: Record<string, string>,
  image: string,
  account: string,
  nodeSelector: Record<string, string>,
): ManifestObject {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta(name, "kube-system", labels),
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: account,
          hostNetwork: true,
          priorityClassName: "system-node-critical",
          nodeSelector,
          tolerations: [
            { effect: "NoSchedule", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ],
          containers: [{ name, image }],
        },
      },
    },
  };
}

function flannel(talosVersion: string, nodeSelector: Record<string, string>): ManifestObject[] {
  const labels = { "k8s-app": "flannel", tier: "node" };
  const image = flannelImage(talosVersion);
  return [
    {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRole",
      metadata: meta("flannel", undefined, { "k8s-app": "flannel" }),
      rules: [
        { apiGroups: [""], resources: ["pods", "nodes", "namespaces"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
      ],
    },
    clusterRoleBinding("flannel", "flannel", { kind: "ServiceAccount", name: "flannel" }),
    serviceAccount("flannel"),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("kube-flannel-cfg", "kube-system", labels),
      data: { "net-conf.json": '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' },
    },
    daemonSet("kube-flannel", labels, image, "flannel", nodeSelector),
  ];
}

function kubeProxy(image: string, nodeSelector: Record<string, string>): ManifestObject[] {
  const version = imageTag(image) ?? "v0.0.0";
  const labels: Record<string, string> =
    compareVersions(version, "v1.37.0") >= 0
      ? { "k8s-app": "kube-proxy", tier: "node" }
      : { "k8s-app": "kube-proxy" };
  const legacy: ManifestObject[] =
    compareVersions(version, "v1.36.0") < 0
      ? [
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: meta("kube-proxy-legacy", "kube-system", { "k8s-app": "kube-proxy" }),
            data: { mode: "iptables" },
          },
        ]
      : [];
  return [
    ...legacy,
    daemonSet("kube-proxy", labels, image, "kube-proxy", nodeSelector),
    serviceAccount("kube-proxy"),
    clusterRoleBinding("kube-proxy", "system:node-proxier", { kind: "ServiceAccount", name: "kube-proxy" }),
  ];
}

function coreDns(talosVersion: string, nodeSelector: Record<string, string>): ManifestObject[] {
  const labels = { "k8s-app": "kube-dns" };
  const image = coreDnsImage(talosVersion);
  return [
    serviceAccount("coredns"),
    {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRole",
      metadata: meta("system:coredns", undefined, { "kubernetes.io/bootstrapping": "rbac-defaults" }),
      rules: [
        {
          apiGroups: [""],
          resources: ["endpoints", "services", "pods", "namespaces"],
          verbs: ["list", "watch"],
        },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    clusterRoleBinding("system:coredns", "system:coredns", { kind: "ServiceAccount", name: "coredns" }),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("coredns", "kube-system"),
      data: {
        Corefile:
          ".:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n}\n",
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("coredns", "kube-system", { ...labels, "kubernetes.io/name": "CoreDNS" }),
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            priorityClassName: "system-cluster-critical",
            dnsPolicy: "Default",
            nodeSelector,
            tolerations: [
              { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
            ],
            containers: [{ name: "coredns", image, args: ["-conf", "/etc/coredns/Corefile"] }],
          },
        },
      },
    },
  ];
}

/** kube-dns without a clusterIP: the apiserver allocates one from whatever range the test cluster has. */
const coreDnsService: ManifestObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: meta("kube-dns", "kube-system", { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" }),
  spec: {
    selector: { "k8s-app": "kube-dns" },
    ports: [
      { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
      { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
    ],
  },
};

const talosNodeRbac: ManifestObject[] = [
  clusterRoleBinding("system:talos-nodes", "system:talos-nodes", { kind: "Group", name: "system:nodes" }),
  {
    apiVersion: `${rbac}/v1`,
    kind: "ClusterRole",
    metadata: meta("system:talos-nodes", undefined, { "kubernetes.io/bootstrapping": "rbac-defaults" }),
    rules: [
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    ],
  },
];

/** The manifests by resource ID, each a list of Kubernetes objects, as a control plane renders them. */
export function bootstrapManifests(input: ManifestInput): Record<string, ManifestObject[]> {
  const switches = clusterSwitches(input.machineConfig);
  const proxyImage = componentImages(input.machineConfig).proxy;
  const nodeSelector = { "kubernetes.io/os": "linux", ...input.nodeSelector };
  return {
    ...(switches.cni !== "flannel" ? {} : { "05-flannel": flannel(input.talosVersion, nodeSelector) }),
    ...(switches.proxyDisabled || !proxyImage
      ? {}
      : { "10-kube-proxy": kubeProxy(proxyImage, nodeSelector) }),
    ...(switches.coreDNSDisabled
      ? {}
      : {
          "11-core-dns": coreDns(input.talosVersion, nodeSelector),
          "11-core-dns-svc": [coreDnsService],
        }),
    "11-talos-node-rbac-template": talosNodeRbac,
  };
}
