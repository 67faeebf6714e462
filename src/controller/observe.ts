// observe(): the one place that reads the world for a decision. It turns the watched plans, Nodes
// and Pods, the Talos API and the health checks into an immutable Observation.
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import type { S3Destination } from "../api/v1alpha1/etcd-backup.ts";
import type { KubeComponent } from "../api/v1alpha1/kubernetes-status.ts";
import { excluded, type Plan, retryAnnotation } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import { drainPlan, type PodRef } from "../core/drain-policy.ts";
import { removedBetween } from "../core/kubernetes-compat.ts";
import {
  countedVersions,
  kubernetesNodes,
  manifestsWanted,
  nodesToInspect,
  runningVersions,
} from "../core/kubernetes-phase.ts";
import { activeStates, imageFactsWanted } from "../core/node-steps.ts";
import { matchesSelector } from "../core/selection.ts";
import { nextToStart } from "../core/start-nodes.ts";
import { controlPlaneCheck, etcdCheck, machineProblems, nodesCheck } from "../health/builtin.ts";
import { evaluateCel } from "../health/cel.ts";
import { evaluatePrometheus } from "../health/prometheus.ts";
import { ManifestSync } from "../kube/manifest-sync.ts";
import { cordonedBy } from "../kube/nodes.ts";
import { removedApiUse } from "../kube/removed-apis.ts";
import { usesServerSideApply } from "../model/manifests.ts";
import type {
  EtcdSnapshotRun,
  EtcdView,
  GateResult,
  HookJobState,
  KubernetesFacts,
  ManifestsView,
  MirrorPod,
  NodeView,
  Observation,
  SilenceOutcome,
  TalosFacts,
} from "../model/observation.ts";
import { type TalosClient, TalosError } from "../talos/client.ts";
import { etcdView, facts, imageFacts, kubernetesFacts } from "../talos/machine.ts";
import { sameBootStatus, type WatchedMachine } from "../talos/machine-status.ts";
import { renderedManifests } from "../talos/manifests.ts";
import type { SequenceVerdict } from "../talos/sequence-events.ts";

/** A machine's facts as last read, when, and on which of its watch streams (if one was open). */
interface KnownFacts {
  at: number;
  facts: TalosFacts;
  stream?: number;
}

/** A round of evictions under way off the pass; released once its node is no longer to be emptied. */
export interface DrainRound {
  released: boolean;
}

/** What the shell remembers between passes: outcomes of its own calls that the world does not show. */
export interface ShellMemory {
  /** Why a node's last round of evictions left pods on it (a budget's refusal), per node. */
  drainBlocked: Map<string, string>;
  /** Rounds of evictions under way per node (run off the pass). */
  draining: Map<string, DrainRound>;
  /** Images pulled per node: the name Talos gave the image, or the error of a failed pull. */
  pulls: Map<string, Map<string, { error?: string; name?: string }>>;
  /** Pulls under way per node (run off the pass), by image. */
  pulling: Map<string, Set<string>>;
  /** Installs ahead of the reboot (Talos ≥ 1.13) per node: the last one, its boot and its error. */
  installs: Map<string, { image: string; bootId: string; error?: string }>;
  /** Installs under way per node (run off the pass): the image. */
  installing: Map<string, string>;
  upgradeErrors: Map<string, string>;
  /** The installer written into each node's machine.install.image by this process. */
  installImages: Map<string, string>;
  /** An installer Talos refused to write into a node's configuration, and why. */
  installImageRefusals: Map<string, { image: string; message: string }>;
  /** Configuration patches Talos refused, per node and component. */
  patchErrors: Map<string, Map<KubeComponent, string>>;
  /** Facts last read per node, and the machine watch's stream that was open when they were read. */
  facts: Map<string, KnownFacts>;
  /** The nodes the plan's next starts take, as the last pass saw them: their machines are watched too. */
  startsNext: Set<string>;
  /** The last etcd view read, when, and each control plane's state it was read in. */
  etcd?: { at: number; seen: Record<string, string>; view: EtcdView };
  /** Upgrade calls this process made, by node: the boot ID they were made from. */
  upgradeCalls: Map<string, string>;
  /** Hook Jobs the apiserver refused to create, by Job name: the run fails with its message. */
  hookErrors: Map<string, string>;
  /** What this process last did with the plan's Alertmanager silence. */
  silence?: SilenceOutcome;
  /** The plan's etcd snapshot run: under way, or how it ended. */
  etcdSnapshot?: EtcdSnapshotRun;
  /** Why the last manifest sync failed; cleared by a sync that succeeds. */
  manifestSyncError?: string;
  /** The retry annotation value the errors above were last cleared for. */
  retry?: string;
  /** Notifications delivered that the plan's status may still list. */
  delivered: Set<string>;
  /** Per receiver, why its last notification could not be delivered; cleared by its next delivery. */
  notifyErrors: Map<string, string>;
}

/**
 * The machine's watch stream was already open when its facts were read: it has not rebooted since
 * (a reboot ends the stream), so the stream's status stands for its boot and stage.
 */
export const onSameStream = (known: KnownFacts, watched: WatchedMachine): boolean =>
  known.facts.reachable && known.stream === watched.stream;

export function newShellMemory(): ShellMemory {
  return {
    drainBlocked: new Map(),
    draining: new Map(),
    pulls: new Map(),
    pulling: new Map(),
    installs: new Map(),
    installing: new Map(),
    upgradeErrors: new Map(),
    patchErrors: new Map(),
    installImages: new Map(),
    installImageRefusals: new Map(),
    facts: new Map(),
    startsNext: new Set(),
    upgradeCalls: new Map(),
    hookErrors: new Map(),
    delivered: new Set(),
    notifyErrors: new Map(),
  };
}

/** A new retry annotation value wipes what failed before, so that failed steps are tried again. */
function forgetFailures(memory: ShellMemory, plan: Plan): void {
  const retry = plan.metadata.annotations?.[retryAnnotation];
  if (retry === undefined || retry === memory.retry) return;
  memory.retry = retry;
  memory.upgradeErrors.clear();
  // A retried node may be called again from the boot it failed on (an upgrade that never happened).
  // Only the failed ones: another node's call, its confirmation not yet written, stays made.
  for (const entry of plan.status?.nodes ?? [])
    if (entry.state === "Failed") memory.upgradeCalls.delete(entry.name);
  memory.patchErrors.clear();
  memory.installImageRefusals.clear();
  delete memory.manifestSyncError;
  for (const pulls of memory.pulls.values()) {
    for (const [image, pull] of pulls) if (pull.error) pulls.delete(image);
  }
  for (const [node, install] of memory.installs) if (install.error) memory.installs.delete(node);
}

const mirrorLabel = "k8s-app";

/** Images of the kube-proxy DaemonSet's pods, by node; pods going away are not counted. */
function proxyImages(pods: V1Pod[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    const image = pod.spec?.containers[0]?.image;
    if (pod.metadata?.namespace !== "kube-system" || pod.metadata.labels?.[mirrorLabel] !== "kube-proxy")
      continue;
    if (!node || !image || pod.metadata.deletionTimestamp) continue;
    if (!pod.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet")) continue;
    out.set(node, [...(out.get(node) ?? []), image]);
  }
  return out;
}

/**
 * The bootstrap manifests as a control plane renders them, and what a sync would change, read
 * from the first control plane that answers (as talosctl reads them from its first). The sync
 * method follows the lowest Talos version of the cluster, as talosctl's does.
 */
async function manifestsView(
  inputs: ObserveInputs,
  talosClient: TalosClient,
  views: NodeView[],
): Promise<ManifestsView> {
  const source = views.find((n) => n.role === "controlplane" && n.talos.reachable && n.address);
  const versions = views.map((n) => n.talos.version).filter((v): v is string => v !== undefined);
  const lowestTalos = versions.sort(compareVersions)[0];
  const method = lowestTalos && !usesServerSideApply(lowestTalos) ? "Legacy" : "ServerSideApply";
  const base: ManifestsView = {
    source: source?.name ?? "",
    method,
    entries: [],
    orphans: [],
    workloads: [],
    ...(inputs.memory.manifestSyncError ? { syncError: inputs.memory.manifestSyncError } : {}),
  };
  if (!source?.address) return { ...base, error: "no control plane node answers on the Talos API" };
  try {
    const rendered = await renderedManifests(talosClient, source.address);
    const inspected = await new ManifestSync(inputs.kubeconfig).inspect(rendered, method);
    return { ...base, ...inspected };
  } catch (error) {
    return { ...base, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Mirror pods of control plane static pods, by node and component. */
function mirrorPods(pods: V1Pod[]): Map<string, Partial<Record<KubeComponent, MirrorPod>>> {
  const out = new Map<string, Partial<Record<KubeComponent, MirrorPod>>>();
  for (const pod of pods) {
    const component = pod.metadata?.labels?.[mirrorLabel] as KubeComponent | undefined;
    const node = pod.spec?.nodeName;
    if (pod.metadata?.namespace !== "kube-system" || !component || !node) continue;
    if (!pod.metadata?.annotations?.["kubernetes.io/config.mirror"]) continue;
    const configVersion = pod.metadata.annotations["talos.dev/config-version"];
    const perNode = out.get(node) ?? {};
    perNode[component] = {
      ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      ...(pod.spec?.containers[0]?.image ? { image: pod.spec.containers[0].image } : {}),
      ...(configVersion ? { configVersion } : {}),
    };
    out.set(node, perNode);
  }
  return out;
}

interface ObserveInputs {
  plan: Plan;
  otherPlans: Plan[];
  nodes: V1Node[];
  /** kube-system's component pods: control plane mirror pods, kube-proxy, CoreDNS. */
  systemPods: V1Pod[];
  /** The pods of a node the plan drains (read for Draining nodes only). */
  podsOf: (node: string) => Promise<V1Pod[]>;
  talosClient: TalosClient | { error: string };
  kubeconfig: KubeConfig;
  memory: ShellMemory;
  now: Date;
  /** How long facts of a node that is not being worked on stay good. */
  factsTtlMs: number;
  /** The status an open machine watch last delivered, for the nodes under way. */
  watched?: (address: string) => WatchedMachine | undefined;
  /** Whether the machine's watch was asked for moments ago and has not delivered yet. */
  watchOpening?: (address: string) => boolean;
  /** The machine answered while its watch was down: the watch is opened again at once. */
  watchNow?: (address: string) => void;
  /** Talos' verdict on the last sequence asked of a machine, from its events. */
  sequenceVerdict?: (address: string) => SequenceVerdict | undefined;
  /** The operator's own pod, which no drain evicts. */
  self?: PodRef;
  /** Lists a plan's hook Jobs (read only for plans with hooks). */
  hookJobs?: (plan: string) => Promise<Map<string, HookJobState>>;
  /** The operator's default etcd snapshot destination. */
  etcdBackupDefault?: S3Destination;
}

/** A plan with hooks, or with runs still recorded: its Jobs are read every pass. */
const hasHooks = (plan: Plan) =>
  Object.values(plan.spec.hooks ?? {}).some((list) => list.length > 0) ||
  (plan.status?.hooks?.runs.length ?? 0) > 0;

/** The plan's hook Jobs, with those the apiserver refused to create as failed. */
async function hookJobsOf(inputs: ObserveInputs): Promise<Map<string, HookJobState> | undefined> {
  if (!inputs.hookJobs || !hasHooks(inputs.plan)) return undefined;
  const jobs = await inputs.hookJobs(inputs.plan.metadata.name);
  for (const [job, message] of inputs.memory.hookErrors)
    if (!jobs.has(job)) jobs.set(job, { state: "Failed", message: `the Job was refused: ${message}` });
  return jobs;
}

/**
 * Whether this pass may start a control plane: one is pending and none is under way. A control
 * plane that settles within the pass lets the next one start only in a later pass (start-nodes
 * asks for a fresh view), so the status written before the pass is enough to tell.
 */
function controlPlaneMayStart(plan: Plan): boolean {
  const controlPlanes = (plan.status?.nodes ?? []).filter((e) => e.role === "controlplane");
  return (
    (plan.status?.nodes ?? []).length === 0 ||
    (controlPlanes.some((e) => e.state === "Pending") &&
      !controlPlanes.some((e) => activeStates.has(e.state)))
  );
}

/**
 * An etcd view this young, read with the control planes as they are, is the pass's own: it may take
 * a control plane down.
 */
const etcdCurrentMs = 2_000;

/** Facts of a machine at rest (healthy, on a boot the kubelet still reports) last this many TTLs. */
const restingTtlFactor = 10;

/** A machine as the Nodes gate wants it, its version known. */
const healthy = (facts: TalosFacts) => facts.version !== undefined && machineProblems("", facts).length === 0;

/** The facts of a machine the plan does not cover: its Talos API is not asked. */
const notCovered = "not covered by the plan: its Talos API is not read";

const internalIp = (node: V1Node) => node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
const isReady = (node: V1Node) =>
  node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const isControlPlane = (node: V1Node) =>
  node.metadata?.labels?.["node-role.kubernetes.io/control-plane"] !== undefined;

/**
 * A plan stalled (for the spec it has now) before it started any node: its own input is wrong (a
 * missing talosconfig, an unknown time zone...) and only a person can fix it, so it holds no place
 * in the queue. Once a node was started it keeps its place: the cluster is mid-upgrade.
 */
function stalledUntouched(p: Plan): boolean {
  const stalled = p.status?.conditions.find((c) => c.type === "Stalled");
  return (
    stalled?.status === "True" &&
    stalled.observedGeneration === p.metadata.generation &&
    !(p.status?.nodes ?? []).some((e) => e.startedAt !== undefined)
  );
}

/** A plan whose selector matches no node: it has nothing to wait for, and holds no place. */
function selectsNothing(p: Plan): boolean {
  const ready = p.status?.conditions.find((c) => c.type === "Ready");
  return ready?.reason === Reason.NoNodesSelected && ready.observedGeneration === p.metadata.generation;
}

/**
 * A plan that has worked on the cluster in its current run. Nodes found at the target already are
 * Done without being touched, so a phase of UpgradingTalos alone says nothing: a plan whose nodes
 * another plan upgraded would otherwise count as progressing and hold that plan back in turn.
 */
function touched(p: Plan): boolean {
  return (
    (p.status?.nodes ?? []).some((e) => e.startedAt !== undefined) ||
    (p.status?.kubernetes?.tasks ?? []).some((t) => t.startedAt !== undefined)
  );
}

/**
 * The plan that goes first when several want to progress: one already progressing, else the oldest.
 * Should two be progressing (both started from a stale view of the other), the older goes on, so
 * that they never wait for each other.
 */
export function blockingPlan(plan: Plan, others: Plan[]): string | undefined {
  const progressing = (p: Plan) =>
    ((p.status?.summary?.inProgress ?? 0) > 0 ||
      ((p.status?.phase === "UpgradingTalos" || p.status?.phase === "UpgradingKubernetes") && touched(p))) &&
    !stalledUntouched(p);
  const waiting = (p: Plan) =>
    !p.spec.paused &&
    !p.spec.dryRun &&
    p.status?.phase !== "Completed" &&
    p.status?.phase !== "Failed" &&
    !stalledUntouched(p) &&
    !selectsNothing(p);
  const age = (p: Plan) => `${p.metadata.creationTimestamp ?? ""}/${p.metadata.name}`;
  const rest = others
    .filter((o) => o.metadata.name !== plan.metadata.name)
    .sort((a, b) => (age(a) < age(b) ? -1 : 1));
  const ahead = rest.filter(progressing);
  if (progressing(plan)) return ahead.find((o) => age(o) < age(plan))?.metadata.name;
  if (ahead.length > 0) return ahead[0]?.metadata.name;
  return rest.find((o) => waiting(o) && age(o) < age(plan))?.metadata.name;
}

/**
 * How long one node's facts stay good: between half the TTL and the TTL, spread by the node's name,
 * so that facts fetched in one pass do not all fall due in one later pass (at 1000 nodes that was
 * some 3,000 Talos calls at once, and a pass is as slow as the slowest of them).
 */
export function factsTtlFor(name: string, ttlMs: number): number {
  // FNV-1a, then a final mix so that names alike but for a number still land far apart.
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return ttlMs / 2 + ((hash % 1024) / 1024) * (ttlMs / 2);
}

export async function observe(inputs: ObserveInputs): Promise<Observation> {
  const { plan, memory, now } = inputs;
  const entries = new Map((plan.status?.nodes ?? []).map((e) => [e.name, e]));
  const talosClient = "error" in inputs.talosClient ? undefined : inputs.talosClient;

  const settled =
    plan.status?.phase === "Completed" && plan.status.observedGeneration === plan.metadata.generation;
  // A plan reads the machines it covers (and those it still lists): a Talos-only plan for one pool
  // does not poll the rest of the cluster. The Kubernetes phase covers every node.
  const covers = (node: V1Node) => {
    const labels = node.metadata?.labels ?? {};
    return (
      plan.spec.kubernetes !== undefined ||
      entries.has(node.metadata?.name ?? "") ||
      (!excluded(labels) && matchesSelector(labels, plan.spec.nodeSelector))
    );
  };
  // Facts cached for a node say whether a start would pass over it; a node never read is read.
  const nodesByName = new Map(inputs.nodes.map((n) => [n.metadata?.name ?? "", n]));
  const skipped = (name: string) => {
    const node = nodesByName.get(name);
    const cached = memory.facts.get(name)?.facts;
    return node === undefined || !isReady(node) || (cached !== undefined && !healthy(cached));
  };
  const startsNext = settled ? new Set<string>() : nextToStart([...entries.values()], plan.spec, skipped);
  const wasNext = memory.startsNext;
  memory.startsNext = startsNext;
  const nodeFacts = async (node: V1Node): Promise<TalosFacts> => {
    const name = node.metadata?.name ?? "";
    if (!covers(node)) return { reachable: false, error: notCovered };
    const address = internalIp(node);
    if (!talosClient || !address)
      return {
        reachable: false,
        error: "error" in inputs.talosClient ? inputs.talosClient.error : "the Node has no InternalIP",
      };
    const entry = entries.get(name);
    const busy = entry !== undefined && activeStates.has(entry.state);
    const imageWanted = imageFactsWanted(entry, node.metadata?.labels ?? {}, plan.spec.talos);
    const cached = memory.facts.get(name);
    // A node at rest whose facts lack the image facts a pass now wants (a plan edited to name a
    // schematic for nodes it had done) is read at once, whatever their age.
    const resting =
      !busy && !(imageWanted && cached?.facts.reachable === true && cached.facts.image === undefined);
    const age = cached ? now.getTime() - cached.at : Number.POSITIVE_INFINITY;
    if (cached && resting && age < factsTtlFor(name, inputs.factsTtlMs)) return cached.facts;
    // A plan done with the spec it has polls no machine: while the kubelet reports the boot the
    // facts were read on, the machine has not rebooted into anything else. A new node, a reboot
    // or an edited plan reads Talos again.
    const sameBoot =
      cached?.facts.bootId !== undefined && node.status?.nodeInfo?.bootID === cached.facts.bootId;
    if (cached && resting && settled && sameBoot) return cached.facts;
    // A machine at rest that was healthy on this boot, whose Node is Ready, is not asked again
    // before a start may take it: polling every idle node each TTL cost a rollout calls in
    // proportion to its length times the fleet. A longer TTL still lets the Nodes gate see a
    // diagnostic that appears on one; a machine with a problem is read every TTL.
    // One the next starts take just now is read once this pass has asked for its watch: the
    // stream's first event wakes the plan, and a read then takes the status from the stream, its
    // boot proven by the MachineStatus' creation time, and serves the upgrade call, which then
    // reads nothing of its own.
    const watchAsked =
      wasNext.has(name) || inputs.watched?.(address) !== undefined || inputs.watchOpening?.(address) === true;
    const atRest = cached !== undefined && resting && sameBoot && isReady(node) && healthy(cached.facts);
    if (
      atRest &&
      (!startsNext.has(name) || !watchAsked) &&
      age < factsTtlFor(name, inputs.factsTtlMs * restingTtlFactor)
    )
      return cached.facts;
    // Past that, such a machine not about to start has its diagnostics read: its kubelet, Ready on
    // the boot its facts were read on, says the boot and the status still stand.
    const restingRead = atRest && !startsNext.has(name);
    // A machine whose watch stream was already open when its facts were last read has not
    // rebooted since (a reboot ends the stream). Under way, on a finished boot, the stream's status
    // stands in for reading boot and status again, within the same TTL; otherwise the boot is kept.
    const watched = inputs.watched?.(address);
    const onStream = cached !== undefined && watched !== undefined && onSameStream(cached, watched);
    if (
      onStream &&
      busy &&
      cached.facts.stage === "RUNNING" &&
      (cached.facts.image !== undefined || !imageWanted) &&
      now.getTime() - cached.at < factsTtlFor(name, inputs.factsTtlMs)
    )
      return { ...cached.facts, stage: watched.stage, ready: watched.ready };
    // A watch asked for moments ago is waited for (its first event wakes the plan): read now, the
    // status would be asked for, and the boot read again once the stream is open.
    if (cached && inputs.watchOpening?.(address)) return cached.facts;
    // Image facts (schematic, extensions, SecureBoot, kernel arguments) are read while a node may
    // still start or is under way and wants them (a schematic to verify on the new boot); a later
    // read keeps the last ones while the machine stays on the boot they were read on.
    const fresh = await facts(talosClient, address, {
      // Read again for a node that may still start; once per boot for one under way.
      ...(entry?.state === "Pending" || entry === undefined
        ? { image: "fresh" }
        : busy && imageWanted
          ? { image: "perBoot" }
          : {}),
      ...(cached ? { known: cached.facts } : {}),
      // The health gate reads diagnostics of the nodes not under way.
      diagnostics: !busy,
      watched: () => inputs.watched?.(address),
      // Or a stream opened since, whose MachineStatus is the one the facts were read with.
      sameBoot: restingRead || onStream || (cached !== undefined && sameBootStatus(cached.facts, watched)),
      ...(restingRead ? { statusKept: true } : {}),
    });
    const kept = cached?.facts.image;
    const rebooted = fresh.reachable && kept !== undefined && cached?.facts.bootId !== fresh.bootId;
    // A Talos error leaves them unknown (no schematic rollout starts on unknown facts); anything else is a fault.
    const reread = () =>
      imageFacts(talosClient, address).catch((error: unknown) => {
        if (error instanceof TalosError) return undefined;
        throw error;
      });
    // A node under way on a boot not finished has none yet: they are read once it runs. Those of
    // a boot left behind are not kept; where they are wanted, they are read again, as they are
    // where none are kept (a plan edited to name a schematic wants those of nodes it left alone).
    const booting = busy && fresh.reachable && fresh.stage !== "RUNNING";
    const ofThisBoot = async () => {
      if (booting) return undefined;
      if (!imageWanted) return rebooted ? undefined : kept;
      return rebooted || (fresh.reachable && kept === undefined) ? reread() : kept;
    };
    const image = fresh.image ?? (await ofThisBoot());
    const merged = { ...fresh, ...(image ? { image } : {}) };
    if (fresh.reachable && watched === undefined) inputs.watchNow?.(address);
    memory.facts.set(name, {
      at: now.getTime(),
      facts: merged,
      ...(watched ? { stream: watched.stream } : {}),
    });
    return merged;
  };

  forgetFailures(memory, plan);
  const mirrors = mirrorPods(inputs.systemPods);
  const proxies = proxyImages(inputs.systemPods);
  const inspect = nodesToInspect(plan);
  const kubernetesOf = async (node: V1Node): Promise<KubernetesFacts | undefined> => {
    const name = node.metadata?.name ?? "";
    const address = internalIp(node);
    if (!talosClient || !address || (inspect !== "all" && !inspect.has(name))) return undefined;
    return kubernetesFacts(talosClient, address, isControlPlane(node));
  };
  // Health gates matter where new work may start: a pending node, or a Kubernetes task to come.
  const kubernetesPending =
    inspect === "all" || (plan.status?.kubernetes?.tasks.some((t) => t.state === "Pending") ?? false);
  const pending =
    [...entries.values()].some((e) => e.state === "Pending") || entries.size === 0 || kubernetesPending;
  const busy = new Set([
    ...[...entries.values()].filter((e) => activeStates.has(e.state)).map((e) => e.name),
    ...(plan.status?.kubernetes?.tasks ?? []).filter((t) => t.state === "Applying").map((t) => t.node),
  ]);
  const controlPlanes = inputs.nodes.filter(isControlPlane);
  // etcd and the plan's own checks are asked while the nodes' facts are gathered: a pass waits
  // for the slowest of them, not for their sum.
  const gating = pending && talosClient !== undefined;
  // The view is read again each pass that may take a control plane down, unless a pass read it
  // moments ago with every control plane as it is now (a status write and a Node event wake passes
  // milliseconds apart). Otherwise one read serves for a TTL (each read is two Talos calls per
  // control plane): it feeds only the Etcd gate then. A control plane not under way that changed
  // since (cordoned, rebooted, Ready, its upgrade over) reads it again; one under way does not: its
  // cordon, reboot and return are its upgrade, and the pass that may start the next one reads afresh.
  const etcdSeen = Object.fromEntries(
    controlPlanes.map((n) => {
      const name = n.metadata?.name ?? "";
      const state = [busy.has(name), n.status?.nodeInfo?.bootID, isReady(n), n.spec?.unschedulable ?? false];
      return [name, JSON.stringify(state)];
    }),
  );
  const previousEtcd = memory.etcd;
  const etcdAge = previousEtcd === undefined ? Number.POSITIVE_INFINITY : now.getTime() - previousEtcd.at;
  const sameControlPlanes = (all: boolean) =>
    previousEtcd !== undefined &&
    Object.keys(previousEtcd.seen).length === controlPlanes.length &&
    Object.entries(etcdSeen).every(
      ([name, state]) =>
        previousEtcd.seen[name] !== undefined &&
        ((!all && busy.has(name)) || previousEtcd.seen[name] === state),
    );
  const currentEtcd = etcdAge < etcdCurrentMs && sameControlPlanes(true);
  const reuseEtcd =
    currentEtcd || (!controlPlaneMayStart(plan) && etcdAge < inputs.factsTtlMs && sameControlPlanes(false));
  /** Control planes under way: their silence is taken for their upgrade. */
  const upgrading = controlPlanes
    .filter((n) => busy.has(n.metadata?.name ?? ""))
    .map(internalIp)
    .filter((a): a is string => a !== undefined);
  const readEtcd = (client: TalosClient, expectedDown: ReadonlySet<string>) =>
    etcdView(
      client,
      controlPlanes.flatMap((n) => {
        const address = internalIp(n);
        const addresses = (n.status?.addresses ?? [])
          .filter((a) => a.type !== "Hostname")
          .map((a) => a.address);
        return address ? [{ address, addresses }] : [];
      }),
      expectedDown,
    ).then((view) => {
      memory.etcd = { at: now.getTime(), seen: etcdSeen, view };
      return view;
    });
  const etcdAsked: Promise<EtcdView | undefined> = !gating
    ? Promise.resolve(undefined)
    : reuseEtcd && previousEtcd
      ? Promise.resolve(currentEtcd ? previousEtcd.view : { ...previousEtcd.view, earlier: true })
      : readEtcd(talosClient, new Set(upgrading));
  const celAsked = gating
    ? Promise.all(plan.spec.healthChecks.cel.map((check) => celGate(inputs.kubeconfig, check)))
    : Promise.resolve([]);
  const prometheusAsked = gating
    ? Promise.all(plan.spec.healthChecks.prometheus.map((check) => evaluatePrometheus(check)))
    : Promise.resolve([]);
  const viewsAsked: Promise<NodeView[]> = Promise.all(
    inputs.nodes.map(async (node): Promise<NodeView> => {
      const name = node.metadata?.name ?? "";
      // Only a draining node's pods are read: no other step looks at them.
      const drain =
        entries.get(name)?.state === "Draining"
          ? drainPlan(await inputs.podsOf(name), name, plan.spec.drain, inputs.self)
          : { evict: [], terminating: [], blocked: [] };
      const blocked = [
        ...drain.blocked,
        ...(memory.drainBlocked.has(name) ? [memory.drainBlocked.get(name) as string] : []),
      ];
      const upgradeError = memory.upgradeErrors.get(name);
      const installImagePatched = memory.installImages.get(name);
      const installImageRefused = memory.installImageRefusals.get(name);
      const patchErrors = memory.patchErrors.get(name);
      const address = internalIp(node);
      // A verdict on the call made from the boot the intent names; an older call's is not this one's.
      const verdict = address ? inputs.sequenceVerdict?.(address) : undefined;
      const sequenceVerdict = verdict?.bootId === entries.get(name)?.bootIdBefore ? verdict : undefined;
      const [talosFacts, kubernetes] = await Promise.all([nodeFacts(node), kubernetesOf(node)]);
      const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
      const kubeletBootId = node.status?.nodeInfo?.bootID;
      const pulling = [...(memory.pulling.get(name) ?? [])];
      const installed = memory.installs.get(name);
      const installing = memory.installing.get(name);
      return {
        name,
        role: isControlPlane(node) ? "controlplane" : "worker",
        ...(address ? { address } : {}),
        labels: node.metadata?.labels ?? {},
        ready: isReady(node),
        ...(kubeletBootId ? { kubeletBootId } : {}),
        unschedulable: node.spec?.unschedulable ?? false,
        ...(cordonedBy(node) !== undefined ? { cordonedBy: cordonedBy(node) } : {}),
        talos: talosFacts,
        evictablePods: drain.evict.length + drain.terminating.length + drain.blocked.length,
        pulls: Object.fromEntries(memory.pulls.get(name) ?? []),
        ...(pulling.length > 0 ? { pulling } : {}),
        ...(installed ? { installed } : {}),
        ...(installing ? { installing } : {}),
        mirrorPods: mirrors.get(name) ?? {},
        ...(proxies.has(name) ? { proxyImages: proxies.get(name) } : {}),
        ...(blocked.length > 0 ? { drainBlockedBy: blocked.join("; ") } : {}),
        ...(memory.draining.has(name) ? { draining: true } : {}),
        ...(upgradeError ? { upgradeError } : {}),
        ...(sequenceVerdict ? { sequenceVerdict } : {}),
        ...(installImagePatched ? { installImagePatched } : {}),
        ...(installImageRefused ? { installImageRefused } : {}),
        ...(kubeletVersion ? { kubeletVersion } : {}),
        ...(kubernetes ? { kubernetes } : {}),
        ...(patchErrors ? { patchErrors: Object.fromEntries(patchErrors) } : {}),
      };
    }),
  );

  // One await over all of them: a rejection of one leaves none of the others unhandled.
  const [views, asked, cel, prometheus] = await Promise.all([
    viewsAsked,
    etcdAsked,
    celAsked,
    prometheusAsked,
  ]);
  // A control plane whose silence the view took for its upgrade, and which this pass finds back,
  // was never read: the pass may finish its upgrade and start the next node, so etcd is read again,
  // its silence now a problem (with one control plane, that view had checked nothing).
  const back = (address: string) =>
    views.some((v) => v.address === address && v.talos.reachable && v.talos.stage === "RUNNING");
  const etcd =
    asked?.silent?.some(back) && talosClient !== undefined
      ? await readEtcd(talosClient, new Set(upgrading.filter((a) => !back(a))))
      : asked;
  const gates: GateResult[] = [];
  if (gating) {
    const builtin = plan.spec.healthChecks.builtin;
    if (builtin.includes("Nodes"))
      gates.push(
        nodesCheck(
          inputs.nodes,
          busy,
          new Map(views.filter((v) => v.talos.error !== notCovered).map((v) => [v.name, v.talos])),
        ),
      );
    if (builtin.includes("Etcd")) gates.push(etcdCheck(etcd));
    if (builtin.includes("ControlPlane")) {
      gates.push(
        controlPlaneCheck(
          controlPlanes.map((n) => n.metadata?.name ?? ""),
          inputs.systemPods,
          busy,
        ),
      );
    }
    gates.push(...cel, ...prometheus);
  }

  let removedApis: Observation["removedApis"];
  const target = plan.spec.kubernetes?.version;
  const counted = plan.spec.kubernetes
    ? countedVersions(plan.spec.kubernetes)
    : { kubelets: true, proxies: false };
  const from = runningVersions(kubernetesNodes(views), counted).sort(compareVersions)[0];
  if (inspect === "all" && target && from) {
    removedApis = await removedApiUse(inputs.kubeconfig, removedBetween(from, target).apiResources);
  }

  const manifests =
    talosClient && manifestsWanted(plan) ? await manifestsView(inputs, talosClient, views) : undefined;

  const blocking = blockingPlan(plan, inputs.otherPlans);
  const hookJobs = await hookJobsOf(inputs);
  return {
    now,
    plan,
    nodes: views,
    gates,
    ...(etcd ? { etcd } : {}),
    ...(blocking ? { blockingPlan: blocking } : {}),
    ...(removedApis ? { removedApis } : {}),
    ...(manifests ? { manifests } : {}),
    ...("error" in inputs.talosClient ? { talosConfigError: inputs.talosClient.error } : {}),
    ...(hookJobs ? { hookJobs } : {}),
    ...(memory.silence ? { silence: memory.silence } : {}),
    ...(memory.etcdSnapshot ? { etcdSnapshot: { ...memory.etcdSnapshot } } : {}),
    ...(inputs.etcdBackupDefault ? { etcdBackupDefault: inputs.etcdBackupDefault } : {}),
    notifications: {
      delivered: [...memory.delivered],
      ...(memory.notifyErrors.size > 0 ? { error: [...memory.notifyErrors.values()].join("; ") } : {}),
    },
  };
}

async function celGate(
  kc: KubeConfig,
  check: Plan["spec"]["healthChecks"]["cel"][number],
): Promise<GateResult> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  try {
    const object = await api.read<KubernetesObject>({
      apiVersion: check.resource.apiVersion,
      kind: check.resource.kind,
      metadata: {
        name: check.resource.name,
        ...(check.resource.namespace ? { namespace: check.resource.namespace } : {}),
      },
    });
    return evaluateCel(check, object);
  } catch (error) {
    const code = (error as { code?: number }).code;
    const message =
      code === 404
        ? `${check.resource.kind} ${check.resource.name} not found`
        : `cannot read ${check.resource.kind} ${check.resource.name}: ${(error as Error).message}`;
    return evaluateCel(check, undefined, message);
  }
}
