// Typed Talos operations the operator needs, over TalosClient: node facts (version, boot ID,
// machine status, schematic), both upgrade APIs, and the etcd view for control plane gating.
import { compareVersions } from "../api/v1alpha1/version.ts";
import { nameList } from "../model/messages.ts";
import type { EtcdView, ImageFacts, KubernetesFacts, TalosFacts } from "../model/observation.ts";
import type { TalosClient } from "./client.ts";
import { TalosError } from "./client.ts";
import type { Data__Output } from "./generated/common/Data.ts";
import type { GetResponse__Output } from "./generated/cosi/resource/GetResponse.ts";
import type { ListResponse__Output } from "./generated/cosi/resource/ListResponse.ts";
import type { Resource__Output } from "./generated/cosi/resource/Resource.ts";
import type { EtcdMemberListResponse__Output } from "./generated/machine/EtcdMemberListResponse.ts";
import type { EtcdStatusResponse__Output } from "./generated/machine/EtcdStatusResponse.ts";
import type { ImageServicePullResponse__Output } from "./generated/machine/ImageServicePullResponse.ts";
import type { LifecycleServiceUpgradeResponse__Output } from "./generated/machine/LifecycleServiceUpgradeResponse.ts";
import type { RebootResponse__Output } from "./generated/machine/RebootResponse.ts";
import type { UpgradeResponse__Output } from "./generated/machine/UpgradeResponse.ts";
import type { VersionResponse__Output } from "./generated/machine/VersionResponse.ts";
import { configImages, installKernelArgs } from "./machine-config.ts";
import { type MachineStatusView, machineStatusOf, type WatchedMachine } from "./machine-status.ts";
import { decodeMessage, structToJson } from "./proto.ts";
import { schematicFromExtensions } from "./schematic.ts";

const containerd = { driver: "CRI", namespace: "NS_SYSTEM" };

function specOf(resource: Resource__Output | null, protoType: string): Record<string, unknown> {
  return decodeMessage(protoType, resource?.spec?.protoSpec ?? Buffer.alloc(0));
}

export async function version(client: TalosClient, node: string): Promise<{ tag: string; platform: string }> {
  const response = await client.unary<VersionResponse__Output>("machine", "Version", {}, node);
  const message = response.messages[0];
  return { tag: message?.version?.tag ?? "", platform: message?.platform?.name ?? "" };
}

async function bootId(client: TalosClient, node: string): Promise<string> {
  const chunks: Buffer[] = [];
  await client.stream<Data__Output>(
    "machine",
    "Read",
    { path: "/proc/sys/kernel/random/boot_id" },
    node,
    (m) => chunks.push(m.bytes),
  );
  return Buffer.concat(chunks).toString("utf8").trim();
}

async function machineStatus(client: TalosClient, node: string): Promise<MachineStatusView> {
  const response = await client.unary<GetResponse__Output>(
    "state",
    "Get",
    { namespace: "runtime", type: "MachineStatuses.runtime.talos.dev", id: "machine" },
    node,
  );
  return machineStatusOf(response.resource);
}

/** Every resource of a COSI type in the runtime namespace, as its ID and decoded spec. */
async function runtimeList(
  client: TalosClient,
  node: string,
  type: string,
  protoType: string,
): Promise<{ id: string; spec: Record<string, unknown> }[]> {
  const found: { id: string; spec: Record<string, unknown> }[] = [];
  await client.stream<ListResponse__Output>("state", "List", { namespace: "runtime", type }, node, (m) => {
    found.push({ id: m.resource?.metadata?.id ?? "", spec: specOf(m.resource, protoType) });
  });
  return found;
}

/** A resource that an older Talos does not keep (NotFound, PermissionDenied, Unimplemented): undefined. */
async function optional<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof TalosError && [5, 7, 12].includes(error.code)) return undefined;
    throw error;
  }
}

/**
 * Whether the machine runs `version` or later; true when its version is not known (not asked, or
 * its read failed: settled here at once, the caller reports that failure, never left unhandled).
 */
const runsAtLeast = (runs: Promise<string> | undefined, version: string): Promise<boolean> =>
  runs
    ? runs.then(
        (v) => compareVersions(v, version) >= 0,
        () => true,
      )
    : Promise.resolve(true);

/**
 * What the machine's installer is made of. `runs`, the machine's Talos version when known: below
 * v1.13 it upgrades through the legacy API, which keeps kernel arguments, so its configuration is
 * not read for them.
 */
export async function imageFacts(
  client: TalosClient,
  node: string,
  runs?: Promise<string>,
  booted?: ImageFacts,
): Promise<ImageFacts> {
  const lifecycleAsked = runsAtLeast(runs, "v1.13.0");
  const boot = booted ? bootImage(booted) : await bootImageFacts(client, node, runs);
  // On GRUB, the kernel arguments the configuration adds decide which upgrade API keeps them; the
  // configuration changes without a reboot, so it is read each time.
  const config =
    boot.bootedWithUKI === false && (await lifecycleAsked)
      ? await optional(machineConfig(client, node))
      : undefined;
  const kernel = config !== undefined ? installKernelArgs(config) : undefined;
  return { ...boot, ...(kernel ?? {}) };
}

/** The parts of the image facts a boot fixes: everything but the configuration's kernel arguments. */
function bootImage({ kernelArgs: _args, grubUseUKICmdline: _uki, ...boot }: ImageFacts): ImageFacts {
  return boot;
}

/**
 * What the running boot is made of: extensions, SecureBoot, the schematic and its factory. A
 * machine known to run a Talos before v1.14 keeps no ImageFactorySchematic: it is not asked for one.
 */
async function bootImageFacts(
  client: TalosClient,
  node: string,
  runs?: Promise<string>,
): Promise<ImageFacts> {
  const factoryKept = runsAtLeast(runs, "v1.14.0-alpha.0");
  const [layers, security, factorySchematic] = await Promise.all([
    runtimeList(
      client,
      node,
      "ExtensionStatuses.runtime.talos.dev",
      "talos.resource.definitions.extensions.Layer",
    ),
    optional(cosiGet(client, node, "runtime", "SecurityStates.talos.dev", "securitystate")),
    factoryKept.then((kept) =>
      kept
        ? optional(
            cosiGet(
              client,
              node,
              "runtime",
              "ImageFactorySchematics.runtime.talos.dev",
              "image-factory-schematic",
            ),
          )
        : undefined,
    ),
  ]);
  const extensions = layers.map(({ spec }) => {
    const { metadata } = spec as { metadata?: { name?: string; version?: string; author?: string } };
    return { name: metadata?.name ?? "", version: metadata?.version ?? "", author: metadata?.author ?? "" };
  });
  const schematic = schematicFromExtensions(extensions);
  const securityState = security
    ? (specOf(security.resource, "talos.resource.definitions.runtime.SecurityStateSpec") as {
        secureBoot?: boolean;
        bootedWithUki?: boolean;
      })
    : undefined;
  const secureBoot = securityState ? securityState.secureBoot === true : undefined;
  const bootedWithUKI = securityState ? securityState.bootedWithUki === true : undefined;
  const apiUrl = factorySchematic
    ? (
        specOf(factorySchematic.resource, "talos.resource.definitions.runtime.ImageFactorySchematicSpec") as {
          apiurl?: string;
        }
      ).apiurl
    : undefined;
  // Before v1.14 the factory is named only in the schematic extension's author: "Image Factory (<url>)".
  const author = extensions.find((e) => e.name === "schematic")?.author ?? "";
  const authorUrl = /^Image Factory \((https?:\/\/[^)\s]+)\)$/.exec(author)?.[1];
  const factory = apiUrl || authorUrl ? factoryHost(apiUrl || authorUrl || "") : undefined;
  return {
    extensions: extensions.map((e) => e.name).filter((name) => name !== "schematic"),
    ...(schematic ? { schematic } : {}),
    ...(secureBoot !== undefined ? { secureBoot } : {}),
    ...(factory ? { factory } : {}),
    ...(bootedWithUKI !== undefined ? { bootedWithUKI } : {}),
  };
}

/** The registry host of an Image Factory API URL ("https://factory.example.com:8080/" → "factory.example.com:8080"). */
function factoryHost(apiUrl: string): string | undefined {
  try {
    return new URL(apiUrl).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The machine's active diagnostics ("id: message"), as talosctl health lists them; a Talos that
 * keeps none (too old, or refuses the read) has none to show.
 */
async function diagnostics(client: TalosClient, node: string): Promise<string[]> {
  try {
    const active = await runtimeList(
      client,
      node,
      "Diagnostics.runtime.talos.dev",
      "talos.resource.definitions.runtime.DiagnosticSpec",
    );
    return active.map(({ id, spec }) => `${id}: ${(spec as { message?: string }).message ?? ""}`).sort();
  } catch (error) {
    // NotFound (an unknown type), PermissionDenied, Unimplemented: not kept on this machine.
    if (error instanceof TalosError && [5, 7, 12].includes(error.code)) return [];
    throw error;
  }
}

/** Everything decide() needs to know about a node's machine; an unreachable node says why. */
interface FactsRead {
  /**
   * Image facts: the boot's parts once per finished boot, with the configuration's kernel arguments
   * read again ("fresh") or kept ("perBoot"); left out by default.
   */
  image?: "fresh" | "perBoot";
  /** The facts last read: what cannot change without a reboot is kept while the boot is the same. */
  known?: TalosFacts;
  /** Diagnostics are read again on the same boot only when asked (the health gate's nodes). */
  diagnostics?: boolean;
  /** The machine's status as an open MachineStatus watch last delivered it, if one is open. */
  watched?: () => WatchedMachine | undefined;
  /**
   * The machine is still on the boot `known` was read on: a watch stream open since that read (a
   * reboot would have ended it), or one showing the MachineStatus created when `known`'s was,
   * proves it. The boot ID is not read again.
   */
  sameBoot?: boolean;
  /**
   * With `sameBoot`, the status `known` has stands too: a machine at rest, RUNNING when last read,
   * whose kubelet still reports that boot and is Ready, has not begun a sequence that does not end
   * in a reboot. Only its diagnostics are read again.
   */
  statusKept?: boolean;
}

/**
 * The machine's status from its open watch when the stream outlasts the boot ID's read (a reboot
 * ends it, so both are of one boot); otherwise read.
 */
async function statusAlong(
  client: TalosClient,
  node: string,
  boot: Promise<string>,
  watched: FactsRead["watched"],
): Promise<MachineStatusView & { stream?: number }> {
  const before = watched?.();
  if (!before) return machineStatus(client, node);
  await boot;
  const after = watched?.();
  return after?.stream === before.stream ? after : machineStatus(client, node);
}

/**
 * The machine as the plan needs it. The boot ID and the machine status are read, unless an open
 * watch shows them; the version,
 * platform and image facts only on a boot not seen before (they cannot change without a reboot).
 * Once per boot means once it finished: extensions load during the boot.
 */
export async function facts(client: TalosClient, node: string, read: FactsRead = {}): Promise<TalosFacts> {
  const { known } = read;
  try {
    const booted =
      read.sameBoot && known?.bootId !== undefined ? Promise.resolve(known.bootId) : bootId(client, node);
    const keptStage = read.sameBoot && read.statusKept ? known?.stage : undefined;
    const status: Promise<MachineStatusView> = keptStage
      ? Promise.resolve({
          stage: keptStage,
          ready: known?.ready ?? false,
          ...(known?.statusCreatedAt ? { createdAt: known.statusCreatedAt } : {}),
        })
      : statusAlong(client, node, booted, read.watched);
    const [boot, machine] = await Promise.all([booted, status]);
    const same = known?.reachable === true && known.bootId === boot && known.version !== undefined;
    const running = same
      ? Promise.resolve({ tag: known.version ?? "", platform: known.platform ?? "" })
      : version(client, node);
    // Image facts read on this boot once it finished stand for the boot (extensions load during
    // it): a boot still under way is not asked for them.
    const bootParts = same && known.stage === "RUNNING" ? known.image : undefined;
    const imageRead =
      read.image === "fresh" || (read.image === "perBoot" && !bootParts && machine.stage === "RUNNING")
        ? imageFacts(
            client,
            node,
            running.then((r) => r.tag),
            bootParts,
          )
        : Promise.resolve(same ? known.image : undefined);
    const [v, image, active] = await Promise.all([
      running,
      imageRead,
      same && !read.diagnostics ? Promise.resolve(known.diagnostics ?? []) : diagnostics(client, node),
    ]);
    return {
      reachable: true,
      version: v.tag,
      platform: v.platform,
      bootId: boot,
      stage: machine.stage,
      ready: machine.ready,
      ...(machine.createdAt ? { statusCreatedAt: machine.createdAt } : {}),
      diagnostics: active,
      ...(image ? { image } : {}),
    };
  } catch (error) {
    if (error instanceof TalosError) return { reachable: false, error: error.message };
    throw error;
  }
}

/** Talos' reboot modes; FORCE (v1.12+) exists only for MachineService.Reboot, not the legacy Upgrade. */
type RebootMode = "DEFAULT" | "POWERCYCLE" | "FORCE";

/**
 * MachineService.Upgrade (Talos < 1.13): Talos pulls, checks etcd, installs and reboots itself. The
 * call's actor ID, which the sequence's events carry.
 */
export async function upgradeLegacy(
  client: TalosClient,
  node: string,
  image: string,
  mode: Exclude<RebootMode, "FORCE">,
  stage: boolean,
): Promise<string> {
  const response = await client.unary<UpgradeResponse__Output>(
    "machine",
    "Upgrade",
    { image, preserve: false, stage, force: false, rebootMode: mode },
    node,
    5 * 60_000,
  );
  return response.messages[0]?.actorId ?? "";
}

/** ImageService.Pull (Talos ≥ 1.13) into a CRI namespace; the name containerd keeps the image by. */
export async function imagePull(
  client: TalosClient,
  node: string,
  namespace: "NS_SYSTEM" | "NS_CRI",
  image: string,
): Promise<string | undefined> {
  let name: string | undefined;
  await client.stream<ImageServicePullResponse__Output>(
    "image",
    "Pull",
    { containerd: { driver: "CRI", namespace }, imageRef: image },
    node,
    (m) => {
      if (m.name) name = m.name;
    },
    { deadlineMs: 10 * 60_000 },
  );
  return name;
}

/**
 * Talos ≥ 1.13: install the installer to the other boot entry, without a reboot. `pulled`: the name
 * an earlier ImageService.Pull returned for it; without one, it is pulled first.
 */
export async function installLifecycle(
  client: TalosClient,
  node: string,
  image: string,
  pulled?: string,
): Promise<void> {
  const source = pulled ?? (await imagePull(client, node, "NS_SYSTEM", image)) ?? image;
  let exitCode: number | undefined;
  const messages: string[] = [];
  await client.stream<LifecycleServiceUpgradeResponse__Output>(
    "lifecycle",
    "Upgrade",
    { containerd, source: { imageName: source } },
    node,
    (m) => {
      if (m.progress?.message) messages.push(m.progress.message);
      if (m.progress?.response === "exitCode") exitCode = m.progress.exitCode;
    },
    { deadlineMs: 10 * 60_000 },
  );
  if (exitCode !== 0) {
    throw new TalosError(
      13,
      "LifecycleService.Upgrade",
      node,
      `installer exited with ${exitCode ?? "no code"}: ${messages.at(-1) ?? ""}`,
    );
  }
}

/** Reboots the machine (into the boot entry an install wrote); the call's actor ID. */
export async function reboot(client: TalosClient, node: string, mode: RebootMode): Promise<string> {
  const response = await client.unary<RebootResponse__Output>("machine", "Reboot", { mode }, node);
  return response.messages[0]?.actorId ?? "";
}

/** The host of a peer URL, an IPv6 address without its brackets. */
const peerHost = (url: string) => (URL.canParse(url) ? new URL(url).hostname.replace(/^\[|\]$/g, "") : url);

/**
 * etcd as seen from every control plane: consistent membership, all healthy, no alarm. Quorum is
 * a matter of voters: learners are members that do not vote, so they count in neither `members`
 * nor `healthyMembers`. `expectedDown` are the control planes the plan is upgrading: their silence
 * is expected, not a problem (it would otherwise turn a long reboot into a failing gate).
 */
export async function etcdView(
  client: TalosClient,
  nodes: { address: string; addresses: string[] }[],
  expectedDown: ReadonlySet<string> = new Set(),
): Promise<EtcdView> {
  const controlPlanes = nodes.map((n) => n.address);
  const problems: string[] = [];
  const memberSets = new Set<string>();
  /** Each member's peer address, as the control planes list them, with its hostname. */
  const peers = new Map<string, string>();
  const quiet: string[] = [];
  let voters = 0;
  let healthy = 0;
  // etcd's status carries the cluster's alarms among its errors (each as its AlarmMember text,
  // "memberID:<id> alarm:<type>"), so the members' status reads serve for the alarm list too.
  const alarms = new Set<string>();
  await Promise.all(
    controlPlanes.map(async (node) => {
      try {
        const [list, status] = await Promise.all([
          client.unary<EtcdMemberListResponse__Output>(
            "machine",
            "EtcdMemberList",
            { queryLocal: false },
            node,
          ),
          client.unary<EtcdStatusResponse__Output>("machine", "EtcdStatus", {}, node),
        ]);
        const listed = list.messages[0]?.members ?? [];
        for (const m of listed) for (const url of m.peerUrls) peers.set(peerHost(url), m.hostname);
        memberSets.add(
          listed
            .map((m) => `${m.id}${m.isLearner ? "(learner)" : ""}`)
            .sort()
            .join(","),
        );
        voters = Math.max(voters, listed.filter((m) => !m.isLearner).length);
        const member = status.messages[0]?.memberStatus;
        const errors: string[] = [];
        for (const error of member?.errors ?? []) {
          const alarm = /memberID:(\d+)\s+alarm:([A-Z]+)/.exec(error);
          if (!alarm) errors.push(error);
          else if (alarm[2] !== "NONE") alarms.add(`alarm ${alarm[2]} on member ${alarm[1]}`);
        }
        if (errors.length > 0) problems.push(`${node}: ${errors.join(", ")}`);
        else if (!member?.isLearner) healthy++;
      } catch (error) {
        if (expectedDown.has(node)) quiet.push(node);
        else problems.push(error instanceof Error ? error.message : String(error));
      }
    }),
  );
  if (memberSets.size > 1) problems.push("control planes disagree on the etcd member list");
  // As talosctl health: every member is a control plane node, by its peer address. A member
  // whose machine is gone still counts against quorum, and nothing else would say so.
  const known = new Set(nodes.flatMap((n) => n.addresses));
  const stale = [...peers].filter(([ip]) => !known.has(ip)).map(([ip, host]) => `${host} (${ip})`);
  if (stale.length > 0)
    problems.push(`etcd members that are not control plane nodes: ${nameList(stale.sort())}`);
  problems.push(...alarms);
  if (voters === 0) voters = controlPlanes.length;
  const upgrading = quiet.length > 0 ? `; ${quiet.join(", ")} down for its upgrade` : "";
  return {
    healthy: problems.length === 0,
    members: voters,
    healthyMembers: healthy,
    message: problems.join("; ") || `${healthy}/${voters} voting members healthy${upgrading}`,
    ...(quiet.length > 0 ? { silent: quiet } : {}),
  };
}

const cosiGet = (client: TalosClient, node: string, namespace: string, type: string, id: string) =>
  client.unary<GetResponse__Output>("state", "Get", { namespace, type, id }, node);

/** The raw machine configuration (COSI MachineConfigs; sensitive, needs os:admin). */
export async function machineConfig(client: TalosClient, node: string): Promise<string> {
  const response = await cosiGet(client, node, "config", "MachineConfigs.config.talos.dev", "v1alpha1");
  const spec = specOf(response.resource, "resource.config.MachineConfigSpec") as { yamlMarshalled?: Buffer };
  return Buffer.from(spec.yamlMarshalled ?? []).toString("utf8");
}

/** Replaces the machine configuration without a reboot, as `talosctl patch --mode no-reboot` does. */
export async function applyConfiguration(client: TalosClient, node: string, config: string): Promise<void> {
  await client.unary(
    "machine",
    "ApplyConfiguration",
    { data: Buffer.from(config), mode: "NO_REBOOT", dryRun: false },
    node,
  );
}

const rendered = {
  "kube-apiserver": ["APIServerConfigs", "APIServerConfigSpec"],
  "kube-controller-manager": ["ControllerManagerConfigs", "ControllerManagerConfigSpec"],
  "kube-scheduler": ["SchedulerConfigs", "SchedulerConfigSpec"],
} as const;

const isNotFound = (error: unknown) => error instanceof TalosError && error.code === 5;

/** What the Kubernetes phase needs to know about a node's Kubernetes components, from the Talos API. */
export async function kubernetesFacts(
  client: TalosClient,
  node: string,
  controlPlane: boolean,
): Promise<KubernetesFacts> {
  try {
    const [config, kubelet, service] = await Promise.all([
      machineConfig(client, node),
      cosiGet(client, node, "k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet"),
      cosiGet(client, node, "runtime", "Services.v1alpha1.talos.dev", "kubelet").catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    ]);
    const kubeletSpec = specOf(kubelet.resource, "talos.resource.definitions.k8s.KubeletSpecSpec") as {
      image?: string;
      args?: string[];
    };
    const serviceSpec = service
      ? (specOf(service.resource, "talos.resource.definitions.v1alpha1.ServiceSpec") as {
          running?: boolean;
          healthy?: boolean;
        })
      : {};
    const facts: KubernetesFacts = {
      reachable: true,
      ...configImages(config),
      rendered: {},
      kubeletArgs: kubeletSpec.args ?? [],
      kubeletHealthy: (serviceSpec.running ?? false) && (serviceSpec.healthy ?? false),
      staticPodArgs: {},
      ...(kubeletSpec.image ? { kubeletImage: kubeletSpec.image } : {}),
    };
    if (controlPlane) {
      await Promise.all(
        (Object.keys(rendered) as (keyof typeof rendered)[]).map(async (component) => {
          const [type, proto] = rendered[component];
          const [config, pod] = await Promise.all([
            cosiGet(client, node, "controlplane", `${type}.kubernetes.talos.dev`, component),
            cosiGet(client, node, "k8s", "StaticPods.kubernetes.talos.dev", component),
          ]);
          const spec = specOf(config.resource, `talos.resource.definitions.k8s.${proto}`) as {
            image?: string;
          };
          facts.rendered[component] = {
            image: spec.image ?? "",
            version: config.resource?.metadata?.version ?? "",
          };
          facts.staticPodArgs[component] = commandLine(pod.resource);
        }),
      );
    }
    return facts;
  } catch (error) {
    if (error instanceof TalosError) return { ...unreachableKubernetes, error: error.message };
    throw error;
  }
}

const unreachableKubernetes: KubernetesFacts = {
  reachable: false,
  images: {},
  proxyDisabled: false,
  rendered: {},
  kubeletArgs: [],
  kubeletHealthy: false,
  staticPodArgs: {},
};

/** The first container's command and args of a static pod. */
function commandLine(resource: Resource__Output | null): string[] {
  const spec = specOf(resource, "talos.resource.definitions.k8s.StaticPodSpec") as {
    pod?: Parameters<typeof structToJson>[0];
  };
  const pod = structToJson(spec.pod) as { spec?: { containers?: { command?: string[]; args?: string[] }[] } };
  const container = pod.spec?.containers?.[0];
  return [...(container?.command ?? []), ...(container?.args ?? [])];
}
