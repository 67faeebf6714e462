// One node's way through an upgrade, as a pure step: given its status entry and what is observed
// now, the next entry and the actions to take. Work is started elsewhere (decide.ts); this moves
// a started node forward: Draining → Upgrading → Rebooting → Verifying → Soaking → Done, or Failed.

import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import type { NodeView } from "../model/observation.ts";
import type { HookGate } from "./hooks.ts";
import { imageTarget, installerFor, upgradeApi } from "./image-targets.ts";

type TalosSpec = NonNullable<PlanSpec["talos"]>;
type UpgradeCall = Extract<Action, { kind: "upgrade" }>;

interface StepResult {
  entry: NodeStatus;
  actions: Action[];
  events: PlanEvent[];
  /** A deadline that a later pass must look at even if nothing else happens. */
  wakeAt?: number;
}

/** The node's hooks, run by the plan's ledger. */
export interface NodeHooks {
  has(stage: "BeforeNode" | "AfterNode"): boolean;
  /** `boot`: the boot the node's upgrade call goes from, which names the step its runs belong to. */
  run(stage: "BeforeNode" | "AfterNode", entry: NodeStatus, boot: string): HookGate;
}

const noHooks: NodeHooks = { has: () => false, run: () => ({ kind: "done" }) };

export const activeStates = new Set<NodeStatus["state"]>([
  "Draining",
  "Upgrading",
  "Rebooting",
  "Verifying",
  "Soaking",
]);

/**
 * Whether a pass needs the node's image facts (extensions, SecureBoot, schematic, kernel arguments):
 * to plan it (not listed yet, or pending), to call its upgrade (the API depends on them), or to
 * compare its running schematic with the one its rule names. A node under way after the call, or
 * settled, under a rule that names none has nothing to check them against.
 */
export function imageFactsWanted(
  entry: NodeStatus | undefined,
  labels: Record<string, string>,
  talosSpec: PlanSpec["talos"],
): boolean {
  if (entry === undefined || entry.state === "Pending" || talosSpec === undefined) return true;
  if (activeStates.has(entry.state) && entry.upgradeCalledAt === undefined) return true;
  return imageTarget(labels, talosSpec).schematic !== undefined;
}

/** Nothing left to do for the node in the Talos phase: verified, or left alone ahead of the target. */
export const settledStates = new Set<NodeStatus["state"]>(["Done", "Skipped"]);

/** How soon a drain whose round of evictions is under way is looked at again. */
const drainRetryMs = 1_000;

const elapsedSince = (iso: string | undefined, now: Date) => (iso ? now.getTime() - Date.parse(iso) : 0);

/** The rule of a plan whose Talos part was removed while a node was in flight: Talos' defaults. */
const talosDefaults = (version: string): TalosSpec => ({
  version,
  rebootMode: "Default",
  allowDowngrade: false,
  intermediateVersions: [],
  overrides: [],
  stage: false,
  api: "Auto",
});

export function upgradeAction(node: NodeView, entry: NodeStatus, spec: PlanSpec): UpgradeCall {
  const version = entry.version ?? "";
  const talosSpec = spec.talos ?? talosDefaults(version);
  const from = node.talos.version ?? entry.fromVersion ?? version;
  const api = upgradeApi(from, node.talos.image, talosSpec).api;
  return {
    kind: "upgrade",
    node: node.name,
    address: node.address ?? "",
    image: entry.image ?? installerFor(node, talosSpec, version),
    version,
    // The pre-flight refuses a node with no API that keeps what it needs; this is its fallback.
    api: api === "none" ? "lifecycle" : api,
    stage: api === "legacy" && talosSpec.stage,
    rebootMode: talosSpec.rebootMode,
    bootIdBefore: entry.bootIdBefore ?? node.talos.bootId ?? "",
  };
}

/** Pulling the installer a node will boot, ahead of its cordon: a missing image fails nothing. */
export function installerPull(node: NodeView, upgrade: UpgradeCall): Action {
  return {
    kind: "prepull",
    node: node.name,
    address: upgrade.address,
    image: upgrade.image,
    api: upgrade.api,
    namespace: "NS_SYSTEM",
  };
}

/** Waiting for the installer a retargeted node boots: pulled once, asked for again only when no pull runs. */
function pullStep(entry: NodeStatus, node: NodeView, upgrade: UpgradeCall): StepResult {
  return {
    entry: { ...entry, message: `pulling ${upgrade.image}` },
    actions: node.pulling?.includes(upgrade.image) ? [] : [installerPull(node, upgrade)],
    events: [],
  };
}

/**
 * Talos ≥ 1.13 (the lifecycle API) installs the new boot entry without rebooting, so the install
 * comes first, while the node still serves: pull, install, then cordon, drain and the reboot. Says
 * what the node waits on until its installer is installed from its present boot; undefined once
 * it is, or where the install is left to the upgrade call (the legacy API, or a node already
 * cordoned: one that a crash left cordoned loses nothing by installing after its drain).
 */
export function installStep(
  entry: NodeStatus,
  node: NodeView,
  upgrade: UpgradeCall,
  now: Date,
): StepResult | undefined {
  if (upgrade.api !== "lifecycle" || node.unschedulable) return undefined;
  const talos = node.talos;
  const installed = node.installed;
  const here = installed?.image === upgrade.image && installed.bootId === talos.bootId;
  if (here && installed?.error === undefined) return undefined;
  if (here && installed?.error !== undefined)
    return fail(
      entry,
      now,
      Reason.UpgradeRefused,
      `Talos refused to install ${upgrade.image}: ${installed.error}`,
    );
  const waiting = (message: string, actions: Action[] = []): StepResult => ({
    entry: { ...entry, message },
    actions,
    events: [],
  });
  if (!talos.reachable || !talos.bootId)
    return waiting(`waiting for the Talos API: ${talos.error ?? "unreachable"}`);
  // A node retargeted since its start pulls the new installer first.
  if (!node.pulls[upgrade.image]) return pullStep(entry, node, upgrade);
  const message = `installing ${upgrade.image} while the node serves`;
  if (node.installing === upgrade.image) return waiting(message);
  const install: Action = {
    kind: "install",
    node: node.name,
    address: upgrade.address,
    image: upgrade.image,
    bootId: talos.bootId,
  };
  return waiting(message, [install]);
}

/**
 * A node the plan no longer upgrades whose installer for the old target was installed for its
 * next boot: the installer of the version it runs is installed again (an install pulls what it
 * lacks), and the node is released once Talos has done so from the boot it runs. One that rebooted
 * meanwhile booted whatever it booted: released, the plan takes it from there.
 */
function restoreStep(entry: NodeStatus, image: string, node: NodeView, now: Date): StepResult {
  const talos = node.talos;
  const { restoreImage: _restore, image: installedImage, installedAt: _at, ...released } = entry;
  const waiting = (message: string, actions: Action[] = []): StepResult => ({
    entry: { ...entry, message },
    actions,
    events: [],
  });
  if (!talos.reachable || !talos.bootId || !talos.version)
    return waiting(`waiting for the Talos API to restore its boot entry: ${talos.error ?? "unreachable"}`);
  if (talos.version !== entry.version)
    return {
      entry: {
        ...released,
        state: "Done",
        version: talos.version,
        message: `rebooted into ${talos.version} before its boot entry was restored`,
      },
      actions: [],
      events: [],
    };
  const installed = node.installed;
  const here = installed?.image === image && installed.bootId === talos.bootId;
  if (here && installed?.error !== undefined)
    return fail(
      entry,
      now,
      Reason.BootEntryNotRestored,
      `the plan no longer upgrades it, and Talos refused to install ${image} again: ${installed.error}`,
    );
  if (here)
    return {
      entry: {
        ...released,
        state: "Done",
        message: `the target changed: already at ${talos.version}; ${installedImage ?? "the other installer"} no longer installed for its next boot`,
      },
      actions: [],
      events: [],
    };
  const message = restoreMessage(talos.version, image, installedImage);
  if (node.installing === image) return waiting(message);
  return waiting(message, [
    { kind: "install", node: node.name, address: node.address ?? "", image, bootId: talos.bootId },
  ]);
}

/** What a node restoring its boot entry says while its own installer is installed again. */
export function restoreMessage(version: string, own: string, installed: string | undefined): string {
  return `the target changed: already at ${version}; installing ${own} again, so that no reboot starts ${installed ?? "the other installer"}`;
}

function fail(entry: NodeStatus, now: Date, reason: string, failure: string): StepResult {
  // Installed ahead (Talos ≥ 1.13), its boot entry written: whatever reboots it next boots the
  // installer, so the failure says so rather than leave a half-upgraded node unsaid.
  const pending =
    entry.state === "Draining" && entry.installedAt !== undefined && entry.image
      ? `; ${entry.image} is installed for its next boot: a reboot starts it`
      : "";
  const message = `${failure}${pending}`;
  return {
    entry: { ...entry, state: "Failed", finishedAt: now.toISOString(), reason, message },
    actions: [],
    events: [{ type: "Warning", reason, message: `${entry.name}: ${message}` }],
  };
}

/** Advances a started node by one step. Pending and terminal entries come back unchanged. */
export function stepNode(
  entry: NodeStatus,
  node: NodeView | undefined,
  spec: PlanSpec,
  now: Date,
  hooks: NodeHooks = noHooks,
): StepResult {
  if (!activeStates.has(entry.state)) return { entry, actions: [], events: [] };
  if (!node) {
    const message =
      "the Kubernetes Node was deleted during its upgrade (its machine may still be rebooting); retry once it is back";
    return fail(entry, now, Reason.NodeGone, message);
  }
  switch (entry.state) {
    case "Draining":
      return stepDraining(entry, node, spec, now, hooks);
    case "Upgrading":
    case "Rebooting":
      return stepUpgrading(entry, node, spec, now, hooks);
    case "Verifying":
      return stepVerifying(entry, node, spec, now, hooks);
    default:
      return stepSoaking(entry, node, spec, now, hooks);
  }
}

/**
 * On Talos ≥ 1.13 the install first; then cordon, the beforeNode hooks, drain, pull the installer
 * if the target moved, and the upgrade call, its intent written first.
 */
function stepDraining(
  started: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  hooks: NodeHooks,
): StepResult {
  if (started.restoreImage !== undefined) return restoreStep(started, started.restoreImage, node, now);
  const talos = node.talos;
  const upgrade = upgradeAction(node, started, spec);
  const installing = installStep(started, node, upgrade, now);
  if (installing) return installing;
  // Installed while serving: the cordon comes now, and the drain's time starts with it.
  const installedFirst = upgrade.api === "lifecycle" && !node.unschedulable && !started.installedAt;
  const entry = installedFirst ? { ...started, installedAt: now.toISOString() } : started;
  const actions: Action[] = node.unschedulable ? [] : [{ kind: "cordon", node: node.name }];
  // The hooks run on a cordoned node: nothing new lands on it while they prepare for the drain.
  if (!node.unschedulable && hooks.has("BeforeNode"))
    return { entry: { ...entry, message: "cordoning" }, actions, events: [] };
  // The step is the boot the call will go from: unknown while the Talos API does not answer.
  if (hooks.has("BeforeNode") && !talos.bootId)
    return {
      entry: { ...entry, message: `waiting for the Talos API: ${talos.error ?? "unreachable"}` },
      actions,
      events: [],
    };
  const before = hooks.run("BeforeNode", entry, talos.bootId ?? "");
  if (before.kind === "failed") return fail(entry, now, before.reason, before.message);
  if (before.kind === "running")
    return {
      entry: { ...entry, message: before.message },
      actions: [...actions, ...before.actions],
      events: [],
      ...(before.wakeAt !== undefined ? { wakeAt: before.wakeAt } : {}),
    };
  // The drain's time starts once the node is installed and its hooks are done: a slow install or
  // hook does not eat into it.
  const drainFrom = [entry.startedAt, entry.installedAt, before.finishedAt]
    .filter((t) => t !== undefined)
    .sort()
    .at(-1);
  const drained = drainStep(entry, node, spec, now, drainFrom, actions);
  if (drained) return drained;
  if (!node.unschedulable || !talos.reachable || !talos.bootId) {
    return {
      entry: {
        ...entry,
        message: talos.reachable ? "cordoning" : `waiting for the Talos API: ${talos.error ?? "unreachable"}`,
      },
      actions,
      events: [],
    };
  }
  // A node retargeted while draining boots the new installer: it is pulled before the call.
  if (!entry.image && !node.pulls[upgrade.image]) return pullStep(entry, node, upgrade);
  // The intent, with the boot ID seen before the call, is written to status before the call is made.
  const next: NodeStatus = {
    ...entry,
    state: "Upgrading",
    bootIdBefore: talos.bootId,
    attempts: entry.attempts + 1,
    message: `upgrading to ${entry.version}`,
  };
  delete next.upgradeCalledAt;
  delete next.callNotStartedOn;
  return {
    entry: { ...next, image: upgrade.image },
    actions: [upgrade],
    events: [
      {
        type: "Normal",
        reason: Reason.NodeUpgradeStarted,
        message:
          entry.fromVersion === entry.version && entry.schematic
            ? `${node.name}: installing schematic ${entry.schematic} on Talos ${entry.version}`
            : `${node.name}: upgrading Talos ${entry.fromVersion ?? "?"} → ${entry.version}`,
      },
    ],
  };
}

/** Evictions until no evictable pod is left, within the drain's timeout; undefined once drained. */
function drainStep(
  entry: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  drainFrom: string | undefined,
  actions: Action[],
): StepResult | undefined {
  if (!spec.drain.enabled || node.evictablePods === 0) return undefined;
  const drainTimeout = parseDuration(spec.drain.timeout);
  if (elapsedSince(drainFrom, now) > drainTimeout) {
    const blocked = node.drainBlockedBy ? `: ${node.drainBlockedBy}` : "";
    return fail(
      entry,
      now,
      Reason.DrainTimeout,
      `drain did not finish within ${spec.drain.timeout}, ${node.evictablePods} pod(s) left${blocked}`,
    );
  }
  return {
    entry: {
      ...entry,
      message: `draining, ${node.evictablePods} pod(s) left${node.drainBlockedBy ? ` (${node.drainBlockedBy})` : ""}`,
    },
    actions: node.draining ? actions : [...actions, { kind: "drain", node: node.name }],
    events: [],
    // A round under way is looked at again a second later: its end changes no pod when its
    // evictions were refused, so no pod's event would wake the plan for the next round.
    wakeAt: Math.min(
      Date.parse(drainFrom ?? now.toISOString()) + drainTimeout,
      node.draining ? now.getTime() + drainRetryMs : Number.POSITIVE_INFINITY,
    ),
  };
}

/** After the call: wait for the new boot, on the target (else rolled back), within nodeTimeout. */
function stepUpgrading(
  given: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  hooks: NodeHooks,
): StepResult {
  const talos = node.talos;
  const nodeTimeout = parseDuration(spec.rollout.nodeTimeout);
  const rebooted = talos.reachable && talos.bootId !== undefined && talos.bootId !== given.bootIdBefore;
  // A boot other than the one the intent names means Talos took the call, also where a crash lost
  // the confirmation before its write: confirmed from the first pass that sees it, so the timeout
  // runs from there (not from the drain's start) and the installer is written once the node is Done.
  const entry =
    rebooted && given.upgradeCalledAt === undefined
      ? { ...given, upgradeCalledAt: now.toISOString() }
      : given;
  const elapsed = elapsedSince(entry.upgradeCalledAt ?? entry.startedAt, now);
  const wakeAt = Date.parse(entry.upgradeCalledAt ?? entry.startedAt ?? now.toISOString()) + nodeTimeout;
  const verdict = node.sequenceVerdict;
  // Talos' events said the sequence failed (machined stays up on its boot, its stage REBOOTING):
  // said now, not at nodeTimeout.
  if (verdict?.outcome === "failed" && !rebooted)
    return fail(entry, now, Reason.UpgradeFailed, `Talos failed the upgrade: ${verdict.message}`);
  // Acked, never started: another sequence held machined's lock (someone's reboot or upgrade), and
  // nothing was installed. Unless that sequence booted the target, the call is made again, a new
  // attempt, from the boot the machine runs once it is back to RUNNING. The events are read once;
  // the status keeps what they said for a restart.
  const notStarted =
    verdict?.outcome === "locked" ||
    (entry.callNotStartedOn !== undefined && entry.callNotStartedOn === entry.bootIdBefore);
  if (
    notStarted &&
    entry.upgradeCalledAt !== undefined &&
    elapsed <= nodeTimeout &&
    !(rebooted && talos.version === entry.version)
  )
    return lockedStep(entry, node, spec, now, wakeAt);
  // A schematic to verify waits for the image facts of the new boot.
  const imageKnown = entry.schematic === undefined || talos.image !== undefined;
  if (rebooted && talos.stage === "RUNNING" && talos.ready && imageKnown) {
    if (talos.version !== entry.version) {
      return fail(
        entry,
        now,
        Reason.RolledBack,
        `rolled back by Talos: the node booted ${talos.version ?? "an unknown version"} instead of ${entry.version}`,
      );
    }
    const problem = schematicProblem(entry, node, spec);
    if (problem) return fail(entry, now, Reason.SchematicNotBooted, problem);
    return stepNode({ ...entry, state: "Verifying", message: "verifying" }, node, spec, now, hooks);
  }
  if (elapsed > nodeTimeout) {
    // Talos' own sequence, past the operator's patience, may still finish, reboot and all.
    const running =
      talos.stage === "UPGRADING" && !rebooted
        ? `; its upgrade sequence still runs and may yet reboot it into ${entry.version}`
        : "";
    const seen = talos.reachable
      ? `last seen ${talos.stage ?? "?"} on ${talos.version ?? "?"}${talos.ready === false ? ", not ready" : ""}${running}`
      : `unreachable: ${talos.error ?? "no answer"}`;
    return fail(
      entry,
      now,
      Reason.NodeTimeout,
      `not back on ${entry.version} within ${spec.rollout.nodeTimeout} (${seen})`,
    );
  }
  // A machine that does not answer before any call was seen accepted is not taken for rebooting:
  // the call may never have reached it, and it is made once the machine answers on the same boot.
  if (!talos.reachable && entry.state === "Upgrading" && !entry.upgradeCalledAt) {
    return {
      entry: { ...entry, message: `waiting for the Talos API: ${talos.error ?? "unreachable"}` },
      actions: [],
      events: [],
      wakeAt,
    };
  }
  // REBOOTING on the intent's boot is also what a failed sequence leaves (Talos stays up): on the
  // legacy API a call not confirmed is made there too, and machined's lock decides (act()).
  const uncalled = entry.state === "Upgrading" && !entry.upgradeCalledAt;
  const afterFailedSequence =
    uncalled &&
    talos.reachable &&
    !rebooted &&
    talos.stage === "REBOOTING" &&
    upgradeAction(node, entry, spec).api === "legacy";
  const underway =
    !afterFailedSequence &&
    (!talos.reachable || rebooted || (talos.stage !== undefined && talos.stage !== "RUNNING"));
  if (underway) {
    return {
      entry: {
        ...entry,
        state: "Rebooting",
        message: talos.reachable ? `booting (${talos.stage})` : "rebooting",
      },
      actions: [],
      events: [],
      wakeAt,
    };
  }
  if (uncalled && node.upgradeError) {
    return fail(entry, now, Reason.UpgradeRefused, `Talos refused the upgrade: ${node.upgradeError}`);
  }
  if (uncalled) {
    // The intent is recorded but the call was never confirmed: make it (again). The boot ID has not
    // changed and the machine is running (or left REBOOTING by a failed sequence), so no upgrade is
    // under way that this could repeat.
    return { entry, actions: [upgradeAction(node, entry, spec)], events: [], wakeAt };
  }
  return {
    entry: { ...entry, message: "upgrade accepted, waiting for the reboot" },
    actions: [],
    events: [],
    wakeAt,
  };
}

/** A call Talos did not start fails the node once this many calls have been made (its attempts). */
const lockedCallsAllowed = 3;

/** After a call whose sequence Talos never started: call again once the machine runs, or wait. */
function lockedStep(
  entry: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  wakeAt: number,
): StepResult {
  const talos = node.talos;
  const why = "another sequence held the machine (someone's reboot or upgrade)";
  if (!talos.reachable || talos.stage !== "RUNNING" || talos.bootId === undefined) {
    return {
      entry: {
        ...entry,
        ...(entry.bootIdBefore ? { callNotStartedOn: entry.bootIdBefore } : {}),
        message: `Talos did not start the upgrade: ${why}; calling again once it runs`,
      },
      actions: [],
      events: [],
      wakeAt,
    };
  }
  if (entry.attempts >= lockedCallsAllowed)
    return fail(
      entry,
      now,
      Reason.UpgradeNotStarted,
      `Talos did not start the upgrade in ${entry.attempts} calls: ${why} each time`,
    );
  const next: NodeStatus = {
    ...entry,
    state: "Upgrading",
    bootIdBefore: talos.bootId,
    attempts: entry.attempts + 1,
    message: `upgrading to ${entry.version}: called again, Talos did not start the last call`,
  };
  delete next.upgradeCalledAt;
  delete next.callNotStartedOn;
  return {
    entry: next,
    actions: [upgradeAction(node, next, spec)],
    events: [
      {
        type: "Warning",
        reason: Reason.UpgradeNotStarted,
        message: `${node.name}: Talos did not start the upgrade, ${why}; calling again`,
      },
    ],
  };
}

/**
 * What the new boot lacks of the schematic the node was taken to: another schematic running, or
 * (when the plan declares the schematic) an extension Talos does not report.
 */
function schematicProblem(entry: NodeStatus, node: NodeView, spec: PlanSpec): string | undefined {
  const running = node.talos.image;
  if (entry.schematic === undefined || running === undefined) return undefined;
  if (running.schematic !== entry.schematic)
    return `booted ${entry.version} with schematic ${running.schematic ?? "none"} instead of ${entry.schematic}`;
  const target = spec.talos ? imageTarget(node.labels, spec.talos) : undefined;
  if (target?.schematic !== entry.schematic) return undefined;
  const missing = target.extensions.filter((e) => !running.extensions.includes(e));
  return missing.length > 0
    ? `booted schematic ${entry.schematic} without the extensions it declares: ${missing.join(", ")}`
    : undefined;
}

/** The Node Ready, as the kubelet reports it from the new boot. */
function stepVerifying(
  entry: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  hooks: NodeHooks,
): StepResult {
  const talos = node.talos;
  const nodeTimeout = parseDuration(spec.rollout.nodeTimeout);
  // Ready from before the reboot does not count: the kubelet must report from the new boot.
  const stale = node.kubeletBootId !== undefined && node.kubeletBootId !== talos.bootId;
  if (!node.ready || stale) {
    const elapsed = elapsedSince(entry.upgradeCalledAt ?? entry.startedAt, now);
    if (elapsed > nodeTimeout)
      return fail(
        entry,
        now,
        Reason.NodeTimeout,
        stale
          ? `the kubelet did not report from the new boot within ${spec.rollout.nodeTimeout}`
          : `the Kubernetes Node is not Ready within ${spec.rollout.nodeTimeout}`,
      );
    const waiting = stale ? "the kubelet to report since the reboot" : "the Kubernetes Node to be Ready";
    return {
      entry: { ...entry, message: `waiting for ${waiting}` },
      actions: [],
      events: [],
      wakeAt: Date.parse(entry.upgradeCalledAt ?? now.toISOString()) + nodeTimeout,
    };
  }
  return stepNode(
    { ...entry, state: "Soaking", finishedAt: now.toISOString(), message: `running ${entry.version}` },
    node,
    spec,
    now,
    hooks,
  );
}

/**
 * Uncordon (a cordon this operator placed), then the afterNode hooks alongside the soak, before
 * the node counts as Done.
 */
function stepSoaking(
  entry: NodeStatus,
  node: NodeView,
  spec: PlanSpec,
  now: Date,
  hooks: NodeHooks,
): StepResult {
  const ours = node.unschedulable && node.cordonedBy !== undefined;
  const actions: Action[] = ours ? [{ kind: "uncordon", node: node.name }] : [];
  const soak = parseDuration(spec.rollout.soakTime);
  const soakedAt = Date.parse(entry.finishedAt ?? now.toISOString()) + soak;
  // The hooks run on the uncordoned node, so that a smoke test can schedule on it: not asked for
  // while this operator's cordon is still on. With none to run, the node is done as its cordon
  // goes (a pass carries out its uncordons before anything else).
  const after: HookGate | undefined = !ours
    ? hooks.run("AfterNode", entry, entry.bootIdBefore ?? "")
    : hooks.has("AfterNode")
      ? undefined
      : { kind: "done" };
  if (after?.kind === "failed") return fail(entry, now, after.reason, after.message);
  if (now.getTime() >= soakedAt && after?.kind === "done") {
    return {
      // The state and the version say it, on each of thousands of Done entries.
      entry: { ...entry, state: "Done", message: "" },
      actions,
      events: [
        {
          type: "Normal",
          reason: Reason.NodeUpgraded,
          message: `${node.name}: upgraded to Talos ${entry.version}`,
        },
      ],
    };
  }
  const running = after?.kind === "running" ? after : undefined;
  const wakeAt = running?.wakeAt !== undefined ? Math.min(running.wakeAt, soakedAt) : soakedAt;
  return {
    entry: {
      ...entry,
      message: running ? running.message : now.getTime() < soakedAt ? "soaking" : "uncordoning",
    },
    actions: [...actions, ...(running?.actions ?? [])],
    events: [],
    wakeAt,
  };
}

type InFlightFields =
  | "restoreImage"
  | "bootIdBefore"
  | "schematic"
  | "installedAt"
  | "image"
  | "upgradeCalledAt"
  | "callNotStartedOn";

/**
 * The installer a Done node still has to have named in its machine.install.image: only a node this
 * plan upgraded, its call confirmed, has one.
 */
export function unwrittenInstaller(
  entry: Pick<NodeStatus, "state" | "image" | "upgradeCalledAt">,
): { image: string; upgradeCalledAt: string } | undefined {
  const { state, image, upgradeCalledAt } = entry;
  return state === "Done" && image && upgradeCalledAt ? { image, upgradeCalledAt } : undefined;
}

/** A settled entry in its final form: without anything only a node in flight, or its installer's write, reads. */
export function settledForm<T extends Partial<Pick<NodeStatus, InFlightFields>>>(
  entry: T,
): Omit<T, InFlightFields> {
  const {
    restoreImage: _restore,
    bootIdBefore: _boot,
    schematic: _schematic,
    installedAt: _installed,
    image: _image,
    upgradeCalledAt: _called,
    callNotStartedOn: _notStarted,
    ...settled
  } = entry;
  return settled;
}

/**
 * Settled entries as status keeps them: without what only a node in flight reads, so that one plan
 * of 5000 nodes stays well under etcd's limit on an object. The boot ID before the call and the
 * schematic (the spec's, for the pool `override` names) go at once; the installer and the call's
 * time stay on a Done entry until that installer is named in the node's machine.install.image (so
 * that a later reinstall or reset boots this version), which is asked for on every pass until this
 * process has written it or Talos refused it (said once in a Warning Event). Not while the plan
 * is going away.
 */
export function settleEntries(
  entries: NodeStatus[],
  byName: Map<string, NodeView>,
  deleting: boolean,
): { entries: NodeStatus[]; actions: Action[]; events: PlanEvent[] } {
  const actions: Action[] = [];
  const events: PlanEvent[] = [];
  const settled = entries.map((entry) => {
    if (!settledStates.has(entry.state)) return entry;
    const { bootIdBefore: _boot, schematic: _schematic, installedAt: _installed, ...kept } = entry;
    const written = settledForm(entry);
    const image = unwrittenInstaller(entry)?.image;
    if (!image) return written;
    const node = byName.get(entry.name);
    if (!node?.address || !node.talos.reachable) return kept;
    if (node.installImagePatched === image) return written;
    // Refused: said once, in the entry's reason (written at once) and a Warning, and not asked again.
    const refused = node.installImageRefused;
    if (refused?.image === image) {
      events.push({
        type: "Warning",
        reason: Reason.ConfigPatchRefused,
        message: `${entry.name}: Talos refused to name ${image} in machine.install.image (${refused.message}); a reinstall or reset boots the installer its configuration names`,
      });
      return {
        ...written,
        reason: Reason.ConfigPatchRefused,
        message: "Talos refused to write its installer into machine.install.image",
      };
    }
    if (!deleting)
      actions.push({ kind: "patchInstallImage", node: entry.name, address: node.address, image });
    return kept;
  });
  return { entries: settled, actions, events };
}
