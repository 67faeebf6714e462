// A simulated Talos cluster: an OS CA, N machines each serving apid on its own loopback address
// (127.x.y.z:50000), the image registry, and talosconfigs for each role.
//
// An independent model of Talos: the simulator takes from src/ only the wire (the protos) and the
// version grammar, never the operator's decisions (src/core/, src/controller/). What it must know
// of Talos (upgrade sequences, etcd checks, images, manifests) it implements again, from Talos'
// behaviour, so that a mistake in src/ cannot hide in the simulator by agreeing with itself.
// test/unit/layers.test.ts holds it to that.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadServices, type ServiceName, serviceDefinition } from "../../src/talos/proto.ts";
import { type Authority, createAuthority, issueCertificate } from "../control-plane/pki.ts";
import { Apid, type ServedService } from "./apid.ts";
import { cosiState } from "./cosi-state.ts";
import type { FleetView } from "./handlers.ts";
import { factoryExtensions } from "./install.ts";
import { fleetLabel } from "./kubelet.ts";
import { imageService, lifecycleService } from "./lifecycle-service.ts";
import { componentImages, installErrors, renderMachineConfig } from "./machine-config.ts";
import { machineService } from "./machine-service.ts";
import { applyBootstrapManifests, inventoryKey, removeBootstrapManifests } from "./manifest-apply.ts";
import { bootstrapManifests, type ManifestObject } from "./manifests.ts";
import {
  type Bootloader,
  bootCmdline,
  bootloaderOf,
  type Faults,
  type NodeIdentity,
  type Role,
  SimNode,
  type Timing,
} from "./node.ts";
import { machineServiceExtras } from "./proto.ts";
import type { TalosRole } from "./rbac.ts";
import { ImageRegistry, officialExtensionName, vanillaSchematic } from "./registry.ts";
import { resourceKinds } from "./resources.ts";
import { writeTalosconfig } from "./talosconfig.ts";
import { compareVersions } from "./versions.ts";

export interface FleetOptions {
  controlPlanes: number;
  workers: number;
  talosVersion: string;
  kubernetesVersion?: string;
  /** Per-node Talos versions by hostname, for mixed fleets. */
  versions?: Record<string, string>;
  platform?: string;
  schematic?: string;
  timing?: Partial<Timing>;
  registry?: ImageRegistry;
  apidPort?: number;
  /** Serve the gRPC services from the protos in this folder instead of proto/ (conformance self-tests). */
  protoRoot?: string;
  /** System extensions on every node (ExtensionStatuses). */
  extensions?: NodeIdentity["extensions"];
  /**
   * Per-node image identity by hostname, for mixed fleets: platform, schematic (with its
   * extensions), SecureBoot and the Image Factory that built it. Every schematic a node starts
   * with is made known to the registry's Image Factory, with the extensions that node reports.
   *
   * And how the machine boots: `bootloader` (default sd-boot with SecureBoot, else grub; SecureBoot
   * needs sd-boot), `kernelArgs` (`machine.install.extraKernelArgs`) and `grubUseUKICmdline`
   * (`machine.install.grubUseUKICmdline`), both rendered in the machine config only when given,
   * and never together (Talos refuses that configuration). The kernel command line the machine
   * booted with (`SimNode.cmdline`) has Talos' parameters, plus `kernelArgs` on GRUB without the
   * UKI command line; sd-boot ignores them, as Talos does.
   */
  images?: Record<
    string,
    Partial<Pick<NodeIdentity, "platform" | "schematic" | "secureBoot" | "factoryUrl">> & {
      extensions?: NodeIdentity["extensions"];
      bootloader?: Bootloader;
      kernelArgs?: string[];
      grubUseUKICmdline?: boolean;
    }
  >;
  /** Prefix of every hostname, so that fleets sharing one Kubernetes cluster do not collide. */
  namePrefix?: string;
  /**
   * Control planes render Talos' bootstrap manifests (flannel, kube-proxy, CoreDNS, node RBAC).
   * Off by default: they render none, and the machine config has no CNI and CoreDNS disabled.
   * Their objects have Talos' names in kube-system: one such fleet at a time per cluster.
   */
  manifests?: boolean;
  /**
   * The client URL (plain http) of a real etcd, such as the test control plane's
   * (`ControlPlane.etcdUrl`): MachineService.EtcdSnapshot on a control plane streams a live
   * snapshot of it. Without it, EtcdSnapshot fails: the simulator has no etcd to snapshot.
   */
  etcdUrl?: string;
}

export const defaultTiming: Timing = {
  rebootMs: 200,
  installMs: 50,
  stepMs: 5,
  kubeletRestartMs: 100,
  sequenceDelayMs: 20,
  pullMs: 0,
};

/** The public Image Factory's API URL, where a node's schematic comes from unless said otherwise. */
export const publicFactoryUrl = "https://factory.talos.dev";

export { vanillaSchematic };

/** One machine of no fleet, for tests of its own sequences: a bare-metal worker of no factory. */
export const loneWorker = (version: string, timing: Timing): SimNode =>
  new SimNode(
    {
      hostname: "w",
      address: "127.0.0.2",
      role: "worker",
      platform: "metal",
      schematic: "",
      extensions: [],
      secureBoot: false,
      factoryUrl: publicFactoryUrl,
    },
    version,
    timing,
  );

/**
 * A fleet's loopback block, 127.<block>.<n / 250>.<n % 250 + 2>: one /16 per fleet, picked at
 * random, and picked again if another process already serves there (see Fleet.start).
 */
function addressFor(block: number, nodeIndex: number): string {
  return `127.${block}.${Math.floor(nodeIndex / 250)}.${(nodeIndex % 250) + 2}`;
}

const randomBlock = () => 20 + Math.floor(Math.random() * 230);

export class Fleet implements FleetView {
  readonly dir: string;
  readonly registry: ImageRegistry;
  readonly ca: Authority;
  /** talosconfig paths by role; endpoints are the control plane addresses. */
  readonly talosconfig: { admin: string; operator: string; reader: string };
  readonly timing: Timing;
  /** The name prefix, or "fleet": what the kubelet stand-in labels this fleet's Nodes with. */
  readonly name: string;
  /** Set by the kubelet stand-in when the fleet joins a Kubernetes cluster. */
  kubeconfig?: string;
  readonly etcdDrift: { stale: string[]; removed: string[] } = { stale: [], removed: [] };
  readonly rendersManifests: boolean;
  readonly etcdUrl: string | undefined;
  private readonly members: SimNode[];
  private readonly apids: Apid[];
  private readonly configs = new Map<SimNode, string>();
  private readonly versions = new Map<SimNode, Map<string, { yaml: string; version: number }>>();
  /** Every object any control plane has rendered, by inventory key: what a sync may have applied. */
  private readonly rendered = new Map<string, ManifestObject>();

  private constructor(init: {
    dir: string;
    registry: ImageRegistry;
    ca: Authority;
    nodes: SimNode[];
    apids: Apid[];
    talosconfig: Fleet["talosconfig"];
    timing: Timing;
    name: string;
    rendersManifests: boolean;
    etcdUrl: string | undefined;
  }) {
    this.rendersManifests = init.rendersManifests;
    this.etcdUrl = init.etcdUrl;
    this.timing = init.timing;
    this.name = init.name;
    this.dir = init.dir;
    this.registry = init.registry;
    this.ca = init.ca;
    this.members = init.nodes;
    this.apids = init.apids;
    this.talosconfig = init.talosconfig;
  }

  static async start(options: FleetOptions): Promise<Fleet> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Fleet.startIn(randomBlock(), options);
      } catch (error) {
        if (attempt >= 5 || !String(error).includes("EADDRINUSE")) throw error;
      }
    }
  }

  private static async startIn(block: number, options: FleetOptions): Promise<Fleet> {
    const dir = mkdtempSync(join(tmpdir(), "tuo-fleet-"));
    const registry = options.registry ?? new ImageRegistry();
    const timing = { ...defaultTiming, ...options.timing };
    const kubernetesVersion = options.kubernetesVersion ?? "v1.35.2";
    const ca = await createAuthority("talos", "ed25519");
    const identities: NodeIdentity[] = [];
    const boots = new Map<string, { kernelArgs?: string[]; grubUseUKICmdline?: boolean }>();
    const schematic = options.schematic ?? vanillaSchematic;
    for (let i = 0; i < options.controlPlanes + options.workers; i++) {
      const role: Role = i < options.controlPlanes ? "controlplane" : "worker";
      const prefix = options.namePrefix ?? "";
      const hostname = `${prefix}${role === "controlplane" ? `cp-${i + 1}` : `worker-${i - options.controlPlanes + 1}`}`;
      const own = options.images?.[hostname] ?? {};
      const nodeSchematic = own.schematic ?? schematic;
      const factoryUrl = own.factoryUrl ?? publicFactoryUrl;
      const secureBoot = own.secureBoot ?? false;
      if (secureBoot && own.bootloader === "grub") {
        throw new Error(`${hostname}: SecureBoot boots UKIs with sd-boot, not GRUB`);
      }
      const problems = installErrors({
        extraKernelArgs: own.kernelArgs ?? [],
        grubUseUKICmdline: own.grubUseUKICmdline ?? false,
      });
      if (problems.length > 0) throw new Error(`${hostname}: ${problems.join("; ")}`);
      boots.set(hostname, { kernelArgs: own.kernelArgs, grubUseUKICmdline: own.grubUseUKICmdline });
      identities.push({
        hostname,
        address: addressFor(block, i),
        role,
        platform: own.platform ?? options.platform ?? "metal",
        schematic: nodeSchematic,
        // Image Factory images carry their schematic ID as the "schematic" extension, as Talos reports it.
        extensions: [
          ...(own.extensions ?? options.extensions ?? []),
          ...factoryExtensions(nodeSchematic, [], factoryUrl, () => ""),
        ],
        secureBoot,
        factoryUrl,
        ...(own.bootloader ? { bootloader: own.bootloader } : {}),
      });
    }
    for (const identity of identities) {
      registry.addFactory(new URL(identity.factoryUrl).host);
      // The factory knows every schematic a node was built from, with the extensions it reports.
      if (identity.schematic !== vanillaSchematic && identity.schematic !== "") {
        registry.addSchematic(
          identity.schematic,
          identity.extensions.filter((e) => e.name !== "schematic").map((e) => officialExtensionName(e.name)),
        );
      }
    }
    const nodes = identities.map((identity) => {
      const boot = boots.get(identity.hostname) ?? {};
      const install = {
        extraKernelArgs: boot.kernelArgs ?? [],
        grubUseUKICmdline: boot.grubUseUKICmdline ?? false,
      };
      const version = options.versions?.[identity.hostname] ?? options.talosVersion;
      const cmdline = bootCmdline(identity.platform, bootloaderOf(identity), install, "legacy");
      return new SimNode(identity, version, timing, cmdline);
    });
    const clients = Object.fromEntries(
      await Promise.all(
        (["admin", "operator", "reader"] as const).map(async (role) => {
          const cert = await issueCertificate(ca, {
            commonName: role,
            organizations: [`os:${role}`],
            usage: "client",
          });
          const path = join(dir, `talosconfig-${role}`);
          const endpoints = nodes.filter((n) => n.isControlPlane).map((n) => n.address);
          writeTalosconfig(path, {
            name: "simulated",
            endpoints,
            nodes: endpoints.slice(0, 1),
            caPem: ca.certPem,
            ...cert,
          });
          return [role, path];
        }),
      ),
    ) as Fleet["talosconfig"];

    const fleet: Fleet = new Fleet({
      dir,
      registry,
      ca,
      nodes,
      apids: [],
      talosconfig: clients,
      timing,
      name: (options.namePrefix ?? "").replace(/-$/, "") || "fleet",
      rendersManifests: options.manifests ?? false,
      etcdUrl: options.etcdUrl,
    });
    for (const node of nodes) {
      fleet.configs.set(
        node,
        renderMachineConfig(node.identity, node.version, kubernetesVersion, {
          manifests: fleet.rendersManifests,
          ...boots.get(node.hostname),
        }),
      );
      fleet.observeResources(node);
      node.listen({
        down: (down) => {
          for (const apid of fleet.apids) apid.abortCalls(down);
        },
      });
    }
    const alternative = options.protoRoot ? loadServices(options.protoRoot) : undefined;
    const definitions = (name: ServiceName) =>
      alternative ? alternative[name].service : serviceDefinition(name);
    const services: ServedService[] = [
      { name: "machine", definition: definitions("machine"), implementation: machineService },
      // The rpcs only talosctl needs (Memory), on the same machine.MachineService path.
      { name: "machine", definition: machineServiceExtras(), implementation: machineService },
      { name: "lifecycle", definition: definitions("lifecycle"), implementation: lifecycleService },
      { name: "image", definition: definitions("image"), implementation: imageService },
      { name: "state", definition: definitions("state"), implementation: cosiState },
    ];
    await Promise.all(
      nodes.map(async (node) => {
        const serving = await issueCertificate(ca, {
          commonName: node.hostname,
          sans: [node.address, node.hostname, "talos", "talos.default", "localhost"],
          usage: "server",
        });
        const apid = new Apid(node, fleet, { caPem: ca.certPem, ...serving }, services);
        fleet.apids.push(apid);
        await apid.start(options.apidPort ?? 50000);
      }),
    ).catch(async (error: unknown) => {
      await fleet.stop();
      throw error;
    });
    return fleet;
  }

  /**
   * An extra talosconfig whose certificate names `caller`, to tell clients apart in `calls`; its
   * roles are os:admin unless given (e.g. `["os:etcd:backup"]`).
   */
  async talosconfigFor(caller: string, roles: TalosRole[] = ["os:admin"]): Promise<string> {
    const cert = await issueCertificate(this.ca, {
      commonName: caller,
      organizations: roles,
      usage: "client",
    });
    const endpoints = this.controlPlanes().map((n) => n.address);
    const path = join(this.dir, `talosconfig-${caller}`);
    writeTalosconfig(path, {
      name: "simulated",
      endpoints,
      nodes: endpoints.slice(0, 1),
      caPem: this.ca.certPem,
      ...cert,
    });
    return path;
  }

  nodes(): SimNode[] {
    return this.members;
  }

  node(hostname: string): SimNode {
    const node = this.members.find((n) => n.hostname === hostname);
    if (!node) throw new Error(`no node ${hostname} in the fleet`);
    return node;
  }

  byAddress(address: string): SimNode | undefined {
    return this.members.find((n) => n.address === address || n.hostname === address);
  }

  controlPlanes(): SimNode[] {
    return this.members.filter((n) => n.isControlPlane);
  }

  workers(): SimNode[] {
    return this.members.filter((n) => !n.isControlPlane);
  }

  inject(hostname: string, faults: Faults): void {
    const node = this.node(hostname);
    Object.assign(node.faults, faults);
    node.stateChanged();
  }

  memberId(node: SimNode): string {
    return createHash("sha256").update(node.hostname).digest("hex").slice(0, 16);
  }

  machineConfig(node: SimNode): string {
    return this.configs.get(node) ?? "";
  }

  setMachineConfig(node: SimNode, yaml: string): void {
    const before = componentImages(this.machineConfig(node));
    this.configs.set(node, yaml);
    const after = componentImages(yaml);
    if (JSON.stringify(after) !== JSON.stringify(before)) node.componentPatches.push(Date.now());
    if (after.kubelet !== before.kubelet) node.restartService("kubelet", this.timing.kubeletRestartMs);
    node.configChanged();
  }

  manifests(node: SimNode): Record<string, ManifestObject[]> {
    if (!this.rendersManifests || !node.isControlPlane) return {};
    const manifests = bootstrapManifests({
      talosVersion: node.version,
      machineConfig: this.machineConfig(node),
      nodeSelector: { [fleetLabel]: this.name },
    });
    for (const object of Object.values(manifests).flat()) this.rendered.set(inventoryKey(object), object);
    return manifests;
  }

  /**
   * As machined's ManifestApplyController does on a fresh cluster: creates the objects the control
   * planes that are up render and the cluster lacks, and from Talos v1.13 records them in the inventory.
   */
  async bootstrapManifests(kubeconfig: KubeConfig): Promise<void> {
    const up = this.controlPlanes().filter((n) => n.up);
    const lowest = up.map((n) => n.version).sort(compareVersions)[0] ?? "v0.0.0";
    await applyBootstrapManifests(
      kubeconfig,
      up.map((n) => this.manifests(n)),
      lowest,
    );
  }

  /** Deletes every object the control planes ever rendered, and the inventory, and waits for their pods to go. */
  async removeManifests(kubeconfig: KubeConfig): Promise<void> {
    await removeBootstrapManifests(kubeconfig, [...this.rendered.values()]);
  }

  /** Records every resource's current spec, so that versions count changes from the start. */
  observeResources(node: SimNode): void {
    for (const kind of resourceKinds) {
      for (const [id, spec] of Object.entries(kind.specs(node, this))) {
        this.resourceVersion(node, `${kind.type}/${id}`, spec.yaml);
      }
    }
  }

  resourceVersion(node: SimNode, key: string, yaml: string): number {
    const perNode = this.versions.get(node) ?? new Map<string, { yaml: string; version: number }>();
    this.versions.set(node, perNode);
    const known = perNode.get(key);
    const version = !known ? 1 : known.yaml === yaml ? known.version : known.version + 1;
    perNode.set(key, { yaml, version });
    return version;
  }

  async stop(): Promise<void> {
    for (const node of this.members) node.stop();
    for (const apid of this.apids) apid.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
