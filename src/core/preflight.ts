// Pre-flight checks, in order: each says why no new node may start, or nothing. They only ever
// hold back new work; nodes already in flight are carried on by decide whatever they say.

import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import { compareVersions } from "../api/v1alpha1/version.ts";
import { nameList } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { installerUnknown } from "./image-refs.ts";
import { imageTarget, schematicDiffers, type UpgradeApi, upgradeApi } from "./image-targets.ts";
import { unsupportedCombination } from "./kubernetes-compat.ts";
import { kubernetesNodes, runningVersions, supportProblem } from "./kubernetes-phase.ts";
import type { TalosPass } from "./talos-targets.ts";
import type { WindowState } from "./windows.ts";

interface PreflightInput {
  obs: Observation;
  selected: Set<string>;
  talosPass: TalosPass | undefined;
  windows: WindowState;
}

type Check = (input: PreflightInput) => Verdict | undefined;
type TalosSpec = NonNullable<PlanSpec["talos"]>;

const talosConfig: Check = ({ obs }) =>
  obs.talosConfigError
    ? { kind: "stalled", reason: Reason.TalosConfigError, message: obs.talosConfigError }
    : undefined;

const talosPath: Check = ({ talosPass }) =>
  talosPass && !talosPass.path.ok
    ? { kind: "stalled", reason: talosPass.path.reason, message: talosPass.path.message }
    : undefined;

/**
 * Talos and Kubernetes must fit together on every node, before, between and after the phases: a
 * Talos target that cannot run the cluster's Kubernetes, or a Kubernetes target that some node's
 * Talos (after this plan) cannot run.
 */
const support: Check = ({ obs, selected }) => {
  const spec = obs.plan.spec;
  // Every kubelet counts here, left alone or not: the Talos target must run what is there.
  const lowest = runningVersions(kubernetesNodes(obs.nodes), { kubelets: true, proxies: false }).sort(
    compareVersions,
  )[0];
  let problem: string | undefined;
  if (spec.talos && lowest) {
    for (const talosVersion of [...spec.talos.intermediateVersions, spec.talos.version]) {
      const found = unsupportedCombination(talosVersion, lowest);
      if (found) {
        problem = `${found}: upgrade Kubernetes first`;
        break;
      }
    }
  }
  problem ??= supportProblem(obs, selected);
  return problem
    ? { kind: "stalled", reason: Reason.UnsupportedKubernetesVersion, message: problem }
    : undefined;
};

/** The selected nodes this plan may still upgrade: off the target version, or on another schematic. */
function toUpgrade({ obs, selected }: PreflightInput, talosSpec: TalosSpec): NodeView[] {
  return obs.nodes.filter(
    (n) =>
      selected.has(n.name) &&
      (n.talos.version !== talosSpec.version || schematicDiffers(n, imageTarget(n.labels, talosSpec))),
  );
}

/**
 * A node whose installer cannot be derived from its facts is refused before anything is touched:
 * the default installer would take its extensions away. A schematic or image says what to use.
 */
const installers: Check = (input) => {
  const talosSpec = input.obs.plan.spec.talos;
  if (!talosSpec) return undefined;
  const problems = toUpgrade(input, talosSpec).flatMap((n) => {
    const target = imageTarget(n.labels, talosSpec);
    const problem = target.image || target.schematic ? undefined : installerUnknown(n.talos.image);
    return problem ? [`${n.name} ${problem}`] : [];
  });
  if (problems.length === 0) return undefined;
  const message = `${nameList(problems, 3)}; set spec.talos.schematic or spec.talos.image (or an override for its pool) to the installer that carries them`;
  return { kind: "stalled", reason: Reason.InstallerUnknown, message };
};

/** The API each node would upgrade through, for the nodes with a version known. */
function apis(input: PreflightInput, talosSpec: TalosSpec): { node: NodeView; api: UpgradeApi }[] {
  return toUpgrade(input, talosSpec).flatMap((node) =>
    node.talos.version ? [{ node, api: upgradeApi(node.talos.version, node.talos.image, talosSpec) }] : [],
  );
}

/**
 * A node that needs the legacy API (a staged upgrade, api Legacy, kernel arguments the lifecycle API
 * would drop) on a Talos that no longer serves it is refused: nothing it boots with is lost silently.
 */
const upgradeApis: Check = (input) => {
  const talosSpec = input.obs.plan.spec.talos;
  if (!talosSpec) return undefined;
  const none = apis(input, talosSpec).flatMap(({ node, api }) =>
    api.api === "none" ? [`${node.name}: ${api.why}`] : [],
  );
  if (none.length === 0) return undefined;
  const message = `${nameList(none, 3)}; move the kernel arguments into the UKI command line (machine.install.grubUseUKICmdline) or leave stage and api at their defaults`;
  return { kind: "stalled", reason: Reason.UpgradeApiUnavailable, message };
};

/** Talos' FORCE reboot exists for MachineService.Reboot, which only the lifecycle path calls. */
const rebootMode: Check = (input) => {
  const talosSpec = input.obs.plan.spec.talos;
  if (talosSpec?.rebootMode !== "Force") return undefined;
  const legacy = apis(input, talosSpec)
    .filter(({ api }) => api.api === "legacy")
    .map(({ node, api }) => `${node.name} (${api.why ?? node.talos.version})`);
  if (legacy.length === 0) return undefined;
  const message = `rebootMode Force needs the Talos v1.13+ lifecycle upgrade API; these nodes upgrade with the legacy one: ${nameList(legacy)}`;
  return { kind: "stalled", reason: Reason.RebootModeUnsupported, message };
};

const windowsValid: Check = ({ windows }) =>
  windows.ok ? undefined : { kind: "stalled", reason: windows.reason, message: windows.message };

const chain: Check[] = [talosConfig, talosPath, installers, upgradeApis, rebootMode, support, windowsValid];

/** The first refusal of the chain, or undefined when new work may be considered. */
export function preflight(input: PreflightInput): Verdict | undefined {
  for (const check of chain) {
    const verdict = check(input);
    if (verdict) return verdict;
  }
  return undefined;
}
