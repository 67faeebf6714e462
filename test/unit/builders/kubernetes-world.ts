// The cluster as the Kubernetes phase's multi-pass tests see it: pulls and configuration patches take
// effect at once, and the bootstrap manifests are in sync.
import type { Decision } from "../../../src/core/decide.ts";
import { manifestsWanted } from "../../../src/core/kubernetes-phase.ts";
import type {
  KubernetesFacts,
  ManifestsView,
  NodeView,
  Observation,
} from "../../../src/model/observation.ts";

/** A cluster whose bootstrap manifests are what Talos renders (none here): the sync finds nothing to do. */
const inSync: ManifestsView = {
  source: "cp-1",
  method: "ServerSideApply",
  entries: [],
  inventory: [],
  orphans: [],
  workloads: [],
};

/** What the shell reads afresh for a pass: the manifests, once the plan wants them (here in sync). */
export function readManifests(obs: Observation): Observation {
  const { manifests: _read, ...rest } = obs;
  return { ...rest, ...(manifestsWanted(rest.plan) ? { manifests: inSync } : {}) };
}

/** The simulated cluster's reaction to an action, for multi-pass runs. */
export function apply(nodes: NodeView[], d: Decision, version = "v1.35.0"): NodeView[] {
  return nodes.map((node) => {
    let n: NodeView = { ...node, pulls: { ...node.pulls }, mirrorPods: { ...node.mirrorPods } };
    for (const action of d.actions) {
      if (action.node !== node.name) continue;
      if (action.kind === "prepull") n.pulls[action.image] = {};
      if (action.kind === "patchConfig") {
        const facts = n.kubernetes as KubernetesFacts;
        const rendered = { ...facts.rendered };
        const previous = rendered[action.component];
        if (previous)
          rendered[action.component] = { image: action.image, version: String(Number(previous.version) + 1) };
        n.kubernetes = {
          ...facts,
          images: { ...facts.images, [action.component]: action.image },
          rendered,
          ...(action.component === "kubelet" ? { kubeletImage: action.image } : {}),
        };
        if (previous)
          n.mirrorPods[action.component] = {
            image: action.image,
            configVersion: rendered[action.component]?.version as string,
            ready: true,
          };
        if (action.component === "kubelet") n = { ...n, kubeletVersion: version };
      }
    }
    return n;
  });
}
