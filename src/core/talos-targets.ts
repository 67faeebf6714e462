// Where each selected node goes in this pass of the Talos phase, and the status entries that say
// so. The fleet moves one step at a time (an intermediate release, then the target); a node's
// place is its last known version, so a node rebooting out of sight keeps the fleet on its step.

import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import { upgradeOrder } from "../api/v1alpha1/node-entries.ts";
import type { PlanSpec, PlanStatus } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions, minorOf } from "../api/v1alpha1/version.ts";
import type { NodeView } from "../model/observation.ts";
import {
  imageTarget,
  installerFor,
  runningInstallerFor,
  schematicDiffers,
  upgradeApi,
} from "./image-targets.ts";
import { activeStates, restoreMessage, unwrittenInstaller } from "./node-steps.ts";
import { currentStep, type PathCheck, upgradePath } from "./version-path.ts";

type TalosSpec = NonNullable<PlanSpec["talos"]>;

/** The node's Talos version as last known: reported now, else what its entry last recorded. */
export function lastKnownVersion(
  node: NodeView | undefined,
  entry: NodeStatus | undefined,
): string | undefined {
  if (node?.talos.version) return node.talos.version;
  if (!entry) return undefined;
  return entry.state === "Done" ? entry.version : entry.fromVersion;
}

/** Newer than the target and not to be taken down: a newer minor always, a newer patch unless allowed. */
function aheadOfTarget(version: string, talosSpec: TalosSpec): boolean {
  if (compareVersions(version, talosSpec.version) <= 0) return false;
  return !talosSpec.allowDowngrade || minorOf(version) !== minorOf(talosSpec.version);
}

/** A node taken down to the target's patch release, which the plan allows. */
const downgradeAllowed = (version: string, talosSpec: TalosSpec) =>
  compareVersions(version, talosSpec.version) > 0 && !aheadOfTarget(version, talosSpec);

export interface TalosPass {
  path: PathCheck;
  /** The step the fleet is on; undefined when every node is at (or allowed beyond) the target. */
  step?: string;
}

/** The fleet's path and current step, from every selected node's last known version. */
export function talosPass(talosSpec: TalosSpec, known: string[]): TalosPass {
  const climbing = known.filter((v) => compareVersions(v, talosSpec.version) <= 0);
  const path = upgradePath("Talos", climbing, talosSpec.version, talosSpec.intermediateVersions);
  if (!path.ok) return { path };
  const step = currentStep(climbing, path.steps);
  const descending = known.some((v) => downgradeAllowed(v, talosSpec));
  return { path, step: step ?? (descending ? talosSpec.version : undefined) };
}

/**
 * What this pass wants of a node at `version`: a release to go to, nothing, or to be left alone.
 * A node on the target that runs another schematic than its rule names goes to the target again.
 */
function wanted(
  node: NodeView,
  version: string,
  step: string | undefined,
  talosSpec: TalosSpec,
): string | "ahead" | undefined {
  if (aheadOfTarget(version, talosSpec)) return "ahead";
  if (step !== undefined && compareVersions(version, step) < 0) return step;
  if (step === talosSpec.version && downgradeAllowed(version, talosSpec)) return talosSpec.version;
  const onTarget = compareVersions(version, talosSpec.version) === 0;
  if (onTarget && schematicDiffers(node, imageTarget(node.labels, talosSpec))) return talosSpec.version;
  return undefined;
}

/** The image rule's part of an entry: the schematic it goes to, the pool that chose it. */
function ruleFields(
  node: NodeView,
  talosSpec: TalosSpec | undefined,
): Pick<NodeStatus, "schematic" | "override"> {
  const target = talosSpec ? imageTarget(node.labels, talosSpec) : undefined;
  return {
    ...(target?.schematic ? { schematic: target.schematic } : {}),
    ...(target?.override ? { override: target.override } : {}),
  };
}

/** A settled entry names the pool that chose its rule, not the schematic: the spec has that. */
const samePool = (a: NodeStatus, b: Pick<NodeStatus, "override">) => a.override === b.override;

interface EntryInput {
  previous: PlanStatus["nodes"];
  selected: NodeView[];
  byName: Map<string, NodeView>;
  talosSpec: TalosSpec | undefined;
  step: string | undefined;
  retry: boolean;
}

/**
 * The entries for this pass: one per selected node, in upgrade order, then every node still in
 * flight or failed that left the selection (its labels changed, it was excluded, its Node was
 * deleted): a started node keeps its entry and its budget slot until it is verified or failed, and
 * a failed one keeps its entry until a retry. A verified one whose Node is still there keeps its
 * entry until its installer is written into its configuration, so that a later reinstall or reset
 * of a node excluded mid-rollout boots the version it was upgraded to.
 */
export function reconcileEntries(input: EntryInput): NodeStatus[] {
  const { previous, selected, byName, talosSpec, step, retry } = input;
  const previousByName = new Map(previous.map((e) => [e.name, e]));
  const entries = selected.map((node) =>
    entryFor(node, previousByName.get(node.name), talosSpec, step, retry),
  );
  const chosen = new Set(selected.map((n) => n.name));
  const left = previous.filter((e) => !chosen.has(e.name) && keptOutOfSelection(e, byName, retry));
  // Among the others, in upgrade order: the order status keeps, which its stored form restores.
  return left.length === 0 ? entries : upgradeOrder([...entries, ...left]);
}

/**
 * Whether the entry of a node that left the selection stays: in flight; failed, to be read, until
 * a person asks for a retry (the plan must not move on past it); verified, its Node still there,
 * until its installer is written.
 */
export function keptOutOfSelection(
  entry: NodeStatus,
  byName: Map<string, NodeView>,
  retry: boolean,
): boolean {
  const node = byName.get(entry.name);
  return (
    activeStates.has(entry.state) ||
    (entry.state === "Failed" && !retry) ||
    (node !== undefined && installerDue(entry, node))
  );
}

/** A Done entry's installer is still to be written into its node's configuration: this process has not, and Talos did not refuse it. */
function installerDue(entry: NodeStatus, node: NodeView): boolean {
  const installer = unwrittenInstaller(entry)?.image;
  return (
    installer !== undefined &&
    node.installImagePatched !== installer &&
    node.installImageRefused?.image !== installer
  );
}

function entryFor(
  node: NodeView,
  existing: NodeStatus | undefined,
  talosSpec: TalosSpec | undefined,
  step: string | undefined,
  retry: boolean,
): NodeStatus {
  const version = lastKnownVersion(node, existing);
  const rule = ruleFields(node, talosSpec);
  const fresh = (state: NodeStatus["state"], message: string, to?: string): NodeStatus => ({
    name: node.name,
    role: node.role,
    state,
    attempts: existing?.attempts ?? 0,
    message,
    ...(version ? { fromVersion: version } : {}),
    ...(to ? { version: to } : {}),
    ...rule,
  });
  const retried = existing?.state === "Failed" ? "retry requested" : "";
  if (existing?.state === "Failed" && !retry) return existing;
  if (existing?.state === "Failed" && afterNodeHookFailed(existing, version)) {
    // Verified on its version before its afterNode hooks failed: a retry runs them again.
    const { reason: _r, ...resumed } = existing;
    return { ...resumed, state: "Soaking", message: "retry requested: running its afterNode hooks again" };
  }
  if (existing && activeStates.has(existing.state)) return retarget(existing, node, talosSpec, step);
  if (!talosSpec) return fresh("Done", "");
  // A node whose Talos version was never read (its API unreachable) is not done: it waits to be seen.
  if (version === undefined) return fresh("Pending", retried, step);
  const want = wanted(node, version, step, talosSpec);
  // Verified on a step the plan has moved past (the next one of its path, or an edited target): the
  // entry stays Done until that step's installer is written, so that a node that goes no further
  // (excluded, out of its selection) names the version it runs. A new schematic on the same version
  // re-pends it at once: a Done entry on the target would make the plan complete for a pass.
  const movedOn = want === "ahead" || (want !== undefined && compareVersions(want, version) !== 0);
  if (movedOn && existing?.state === "Done" && existing.version === version && installerDue(existing, node))
    return existing;
  // Failed after its installer was installed for its next boot, and retried with a plan that no
  // longer upgrades it: that boot entry is replaced by its own first.
  const failed = existing?.state === "Failed" ? existing : undefined;
  if (
    failed?.installedAt &&
    failed.image &&
    (want === undefined || want === "ahead") &&
    failed.version !== version
  ) {
    const released = {
      ...fresh("Done", `the target changed: already at ${version}`, version),
      installedAt: failed.installedAt,
    };
    return restoring(released, node, talosSpec, failed.image);
  }
  if (want === "ahead") {
    const {
      schematic: _s,
      override: _o,
      ...skipped
    } = fresh("Skipped", `runs ${version}, ahead of the target ${talosSpec.version}: left alone`);
    return { ...skipped, reason: Reason.AheadOfTarget };
  }
  if (want === undefined) {
    const stillDone = existing?.state === "Done" && existing.version === version;
    if (stillDone && samePool(existing, rule)) return existing;
    // An edit of its pool's rule does not drop the installer still to be written into its configuration.
    const unwritten = stillDone ? unwrittenInstaller(existing) : undefined;
    return { ...fresh("Done", `already at ${version}`), version, ...unwritten };
  }
  const schematicOnly = compareVersions(version, want) === 0;
  const why = schematicOnly
    ? `runs schematic ${node.talos.image?.schematic ?? "none"}, not ${rule.schematic}`
    : "";
  return fresh("Pending", [retried, why].filter(Boolean).join("; "), want);
}

/** A node that failed in a hook while running the version it was taken to: its afterNode hooks. */
function afterNodeHookFailed(entry: NodeStatus, running: string | undefined): boolean {
  const hookFailure = entry.reason === Reason.HookFailed || entry.reason === Reason.HookTimeout;
  return (
    hookFailure &&
    entry.version !== undefined &&
    running === entry.version &&
    entry.upgradeCalledAt !== undefined
  );
}

/**
 * A node cordoned for a step that the plan no longer takes (its target was edited) goes to the new
 * step before its upgrade call, so it reboots once; a node already called finishes its step.
 */
function retarget(
  entry: NodeStatus,
  node: NodeView,
  talosSpec: TalosSpec | undefined,
  step: string | undefined,
): NodeStatus {
  // A node restoring its boot entry finishes that first, whatever the plan says meanwhile.
  if (entry.state !== "Draining" || !talosSpec || entry.version === undefined || entry.restoreImage)
    return entry;
  const version = lastKnownVersion(node, entry);
  const want = version === undefined ? step : wanted(node, version, step, talosSpec);
  const { schematic: _s, override: _o, image, ...rest } = entry;
  const rule = ruleFields(node, talosSpec);
  if ((want === undefined || want === "ahead") && version !== undefined) {
    // Nothing to do any more: the node is released (its cordon with it) without a reboot, once a
    // boot entry installed for the old target is replaced by its own. On the lifecycle API a node
    // not cordoned may have been installed though status does not say so (a crash between the
    // install and the pass that records it with the cordon): taken as installed. A cordoned one
    // without that record was cordoned before any install (its install comes with its call).
    const released: NodeStatus = {
      ...rest,
      ...rule,
      state: "Done",
      version,
      message: `the target changed: already at ${version}`,
    };
    const lifecycle = upgradeApi(version, node.talos.image, talosSpec).api === "lifecycle";
    const mayBeInstalled = entry.installedAt !== undefined || (lifecycle && !node.unschedulable);
    const installed = mayBeInstalled ? (image ?? installerFor(node, talosSpec, entry.version)) : undefined;
    return installed ? restoring(released, node, talosSpec, installed) : released;
  }
  if (want === undefined || want === "ahead") return entry;
  // Not called yet: it boots the installer its rule names now; another one is pulled before the call.
  const same = want === entry.version;
  const kept = same && image === installerFor(node, talosSpec, want) ? { image } : {};
  const message = same ? entry.message : `retargeted from ${entry.version} to ${want}`;
  return { ...rest, ...rule, ...kept, version: want, message };
}

/**
 * A node released by an edited plan after `installed`, its installer for the old target, was
 * installed for its next boot (Talos ≥ 1.13): it installs the installer of the version it runs
 * again first, so that no reboot starts the other. Where its own installer cannot be derived, the
 * entry is released saying what its next boot starts.
 */
function restoring(
  released: NodeStatus,
  node: NodeView,
  talosSpec: TalosSpec,
  installed: string,
): NodeStatus {
  const version = released.version ?? "";
  const own = runningInstallerFor(node, talosSpec, version);
  if (!own)
    return {
      ...released,
      message: `${released.message}; ${installed} stays installed for its next boot (its own installer cannot be derived from its image facts)`,
    };
  return {
    ...released,
    state: "Draining",
    image: installed,
    restoreImage: own,
    message: restoreMessage(version, own, installed),
  };
}

/** Done with the Talos phase: every entry verified on the target, or left alone ahead of it. */
export function talosComplete(entries: NodeStatus[], target: string | undefined): boolean {
  if (entries.length === 0) return false;
  return entries.every(
    (e) =>
      e.state === "Skipped" ||
      (e.state === "Done" &&
        (target === undefined || (e.version !== undefined && compareVersions(e.version, target) === 0))),
  );
}
