// The TalosUpgradePlan contract (upgrade.talos-operator.dev/v1alpha1): zod schemas for spec and
// status are the one source of truth; the TypeScript types are inferred and the CRD is generated
// from them (crd.ts). Rules that admission can check are CEL rules on the schema; what it cannot
// (time zones, version paths, reachability) becomes a Stalled condition at run time.
import { z } from "zod";
import { duration } from "./duration.ts";
import { etcdBackupSchema, etcdBackupStatusSchema } from "./etcd-backup.ts";
import { hooksSchema, hooksStatusSchema } from "./hooks.ts";
import { kubernetesStatusSchema, storedKubernetesStatus, withoutEmptyMessage } from "./kubernetes-status.ts";
import { expandedEntries, nodeStatusSchema, storedEntries, workerGroupSchema } from "./node-entries.ts";
import { schematicSpecSchema } from "./schematic.ts";
import { silenceSpecSchema, silenceStatusSchema } from "./silence.ts";

export const group = "upgrade.talos-operator.dev";
export const version = "v1alpha1";
export const kind = "TalosUpgradePlan";
export const plural = "talosupgradeplans";

const cel = (rule: string, message: string, fieldPath?: string) => ({
  rule,
  message,
  ...(fieldPath ? { fieldPath } : {}),
});

/**
 * A semantic version such as v1.12.4, written as Talos and Kubernetes write theirs: with the leading
 * v, so that the installer tag and every comparison with a node's reported version agree.
 */
const semver = z
  .string()
  .max(64)
  .regex(
    /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/,
    "must be a version with its leading v, such as v1.12.4",
  );

const name = z.string().min(1).max(253);

const labelSelector = z
  .object({
    matchLabels: z.record(z.string().max(316), z.string().max(63)).optional(),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().min(1).max(316),
          operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
          values: z.array(z.string().max(63)).max(256).optional(),
        }),
      )
      .max(32)
      .optional(),
  })
  .describe("A Kubernetes label selector; empty selects everything.");

/** An installer image reference, re-tagged per step of the path. */
const installer = z.string().max(512);

/** An Image Factory's registry host, as installer references name it: host[:port]. */
const factoryHost = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/,
    "must be the Image Factory's host[:port], such as factory.example.com",
  );

/** The installer rule of a plan or of one of its pools: a schematic, an image, a factory. */
const imageRule = {
  schematic: schematicSpecSchema.optional(),
  image: installer
    .optional()
    .describe(
      "Installer image override, taken as given (re-tagged per step). Default: each node's own Image Factory installer, " +
        "<factory>/<platform>-installer[-secureboot]/<schematic>:<version>, from the platform, schematic, " +
        "SecureBoot state and factory the node reports.",
    ),
  factory: factoryHost
    .optional()
    .describe("The Image Factory to take installers from. Default: the one that built the node's schematic."),
};

const imageRuleValidations = [
  cel(
    "!(has(self.image) && (has(self.schematic) || has(self.factory)))",
    "image names the installer itself: schematic and factory apply only without it",
  ),
];

const imageOverride = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a DNS label, such as gpu-workers")
      .describe("Shown in each node's status (status.nodes[].override)."),
    nodeSelector: labelSelector,
    ...imageRule,
  })
  .meta({
    "x-kubernetes-validations": [
      ...imageRuleValidations,
      cel(
        "has(self.schematic) || has(self.image) || has(self.factory)",
        "an override sets at least one of schematic, image and factory",
      ),
    ],
  });

const talos = z
  .object({
    version: semver.describe("Target Talos version, e.g. v1.12.4."),
    ...imageRule,
    overrides: z
      .array(imageOverride)
      .max(16)
      .default([])
      .meta({
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      })
      .describe(
        "Installer rules for pools of nodes, by node selector: the first that matches a node replaces the plan's own schematic, image and factory for it (e.g. GPU workers get their NVIDIA schematic).",
      ),
    stage: z
      .boolean()
      .default(false)
      .describe(
        "Staged upgrade: Talos records the new image and installs it early in the next boot, when nothing holds the disk. Uses the legacy upgrade API (Talos up to v1.17).",
      ),
    api: z
      .enum(["Auto", "Legacy"])
      .default("Auto")
      .describe(
        "Which Talos upgrade API: Auto takes the v1.13+ lifecycle API where the node has it, except where it would drop machine.install.extraKernelArgs (GRUB without UKI command lines) or a staged upgrade is asked for; Legacy always takes MachineService.Upgrade.",
      ),
    rebootMode: z
      .enum(["Default", "Powercycle", "Force"])
      .default("Default")
      .describe(
        "How the node reboots into the new version. Force skips the graceful shutdown (Talos' FORCE reboot); it needs the v1.13+ upgrade API on every node it upgrades, and a plan that asks for it on an older node is refused up front.",
      ),
    allowDowngrade: z
      .boolean()
      .default(false)
      .describe(
        "Take nodes on a newer patch release of the target's minor down to the target. Off: such " +
          "nodes, and nodes on a newer minor always, are left alone and reported as AheadOfTarget.",
      ),
    intermediateVersions: z
      .array(semver)
      .max(16)
      .default([])
      .describe("Releases to pass through in order, when the target is more than one minor ahead."),
  })
  .meta({
    "x-kubernetes-validations": [
      ...imageRuleValidations,
      cel(
        "!(self.rebootMode == 'Force' && (self.stage || self.api == 'Legacy'))",
        "rebootMode Force needs the v1.13+ lifecycle API: it cannot go with stage or api Legacy",
      ),
    ],
  })
  .describe("The Talos OS upgrade; omit for a Kubernetes-only plan.");

/** An image repository without tag or digest: host[:port]/path. */
const repository = z
  .string()
  .max(255)
  .regex(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/,
    "must be an image repository without tag or digest, such as mirror.example:5000/kube-apiserver",
  );

const repositories = z
  .object({
    apiServer: repository.optional(),
    controllerManager: repository.optional(),
    scheduler: repository.optional(),
    proxy: repository.optional(),
    kubelet: repository.optional(),
  })
  .describe(
    "Where each component's new image comes from, for mirrors and air-gapped registries (the tag is the target version; a kubelet's -fat or -slim flavour is kept). Default: the repository the node runs the component from now.",
  );

const manifests = z
  .object({
    mode: z
      .enum(["Apply", "Diff", "Skip"])
      .default("Apply")
      .describe(
        "Apply: sync the bootstrap manifests Talos renders (kube-proxy, CoreDNS, the CNI...) once the components run the version, as talosctl upgrade-k8s does. Diff: publish what a sync would change, change nothing. Skip: leave them alone.",
      ),
    prune: z
      .boolean()
      .default(true)
      .describe("Delete objects recorded in the inventory that Talos no longer renders."),
    recreate: z
      .boolean()
      .default(false)
      .describe(
        "Delete and create again an object whose immutable fields changed (talosctl --manifests-force). Off: the plan stalls and names it.",
      ),
    timeout: duration
      .default("5m")
      .describe(
        "How long the applied DaemonSets and Deployments may take to roll out before the plan stalls.",
      ),
  })
  .describe("The bootstrap manifest sync that ends each Kubernetes version.");

const kubernetes = z
  .object({
    version: semver.describe("Target Kubernetes version, e.g. v1.35.2."),
    intermediateVersions: z.array(semver).max(16).default([]),
    upgradeKubelet: z
      .boolean()
      .default(true)
      .describe(
        "false leaves every kubelet on its version (as talosctl upgrade-k8s --upgrade-kubelet=false): only the control plane components and kube-proxy move.",
      ),
    repositories: repositories.optional(),
    manifests: manifests.default({ mode: "Apply", prune: true, recreate: false, timeout: "5m" }),
  })
  .describe("The Kubernetes upgrade, run after the Talos phase; omit for a Talos-only plan.");

const maxUnavailable = z
  .union([z.number().int(), z.string().max(8)])
  .meta({
    "x-kubernetes-int-or-string": true,
    "x-kubernetes-validations": [
      cel(
        "type(self) == int ? self >= 1 : self.matches('^([1-9][0-9]?|100)%$')",
        "must be an integer of at least 1 or a percentage from 1% to 100%",
      ),
    ],
  })
  .describe("Workers upgraded at once (an integer or a percentage of the selected workers).");

const rollout = z.object({
  maxUnavailable: maxUnavailable.default(1),
  nodeTimeout: duration.default("30m").describe("One node, from the upgrade call to verified healthy."),
  soakTime: duration.default("0s").describe("Wait after each node or batch is verified."),
});

// Talos ≤ 1.12's own upgrade sequence (MachineService.Upgrade) drains the node after the
// operator's call whatever these say; users who turn the drain off or narrow it must know.
const drain = z.object({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      "False: the node is cordoned, not drained. On Talos ≤ 1.12 (MachineService.Upgrade) Talos then drains it itself in its upgrade sequence: every pod but mirror, unmanaged and DaemonSet pods, for up to 5 minutes; Talos ≥ 1.13 does not.",
    ),
  timeout: duration.default("10m"),
  deleteEmptyDirData: z.boolean().default(true),
  podSelector: labelSelector
    .optional()
    .describe(
      "A Kubernetes label selector (empty selects everything): only these pods are evicted by the operator. On Talos ≤ 1.12 Talos' own upgrade sequence evicts the rest (but mirror, unmanaged and DaemonSet pods) after the call.",
    ),
});

const celCheck = z.object({
  name: z.string().min(1).max(63),
  resource: z.object({
    apiVersion: z.string().min(1).max(253),
    kind: z.string().min(1).max(63),
    namespace: z.string().max(63).optional(),
    name,
  }),
  expression: z.string().min(1).max(4096).describe("CEL over `object`; true means healthy."),
});

const prometheusCheck = z.object({
  name: z.string().min(1).max(63),
  url: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL"),
  query: z.string().min(1).max(4096).describe("PromQL, evaluated as an instant query."),
  expect: z
    .enum(["Empty", "NonEmpty"])
    .default("Empty")
    .describe(
      'Empty: healthy when the query returns no series (e.g. no critical alert firing). NonEmpty: healthy when it returns at least one (e.g. `up{job="etcd"} == 1`). Either way, a metric the query names that Prometheus has no series of fails the check: a misspelt name would otherwise pass forever.',
    ),
});

const healthChecks = z.object({
  timeout: duration.default("15m"),
  builtin: z
    .array(z.enum(["Nodes", "Etcd", "ControlPlane"]))
    .max(3)
    .default(["Nodes", "Etcd", "ControlPlane"]),
  cel: z.array(celCheck).max(32).default([]),
  prometheus: z.array(prometheusCheck).max(32).default([]),
});

const maintenanceWindow = z.object({
  schedule: z
    .string()
    .max(128)
    .regex(
      /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*,/?-]+\s+){4}[0-9A-Za-z*,/?-]+)$/,
      "must be a cron expression with five fields, e.g. '0 2 * * 6'",
    ),
  duration: duration.describe("How long the window stays open after each start."),
  timeZone: z.string().max(64).default("UTC").describe("IANA time zone name, e.g. Europe/Berlin."),
});

const secretKeyRef = z.object({
  name,
  namespace: z.string().min(1).max(63),
  key: z.string().min(1).max(253).default("config"),
});

/** What a rollout tells its receivers about. */
const notificationEvents = ["Started", "NodeFailed", "Stalled", "Completed"] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

const notification = z.object({
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a DNS label, such as oncall"),
  format: z
    .enum(["Generic", "Slack", "Teams"])
    .default("Generic")
    .describe(
      "Generic: a JSON object (plan, event, node, reason, message, time). Slack and Teams: their incoming-webhook payloads.",
    ),
  urlSecretRef: z
    .object({ name, namespace: z.string().min(1).max(63), key: z.string().min(1).max(253).default("url") })
    .describe(
      "The Secret key that holds the webhook URL (it often carries a token, so it is never in the plan).",
    ),
  events: z
    .array(z.enum(notificationEvents))
    .min(1)
    .max(4)
    .default([...notificationEvents]),
});

export const planSpecSchema = z
  .object({
    talos: talos.optional(),
    kubernetes: kubernetes.optional(),
    nodeSelector: labelSelector.optional(),
    rollout: rollout.default({ maxUnavailable: 1, nodeTimeout: "30m", soakTime: "0s" }),
    drain: drain.default({ enabled: true, timeout: "10m", deleteEmptyDirData: true }),
    healthChecks: healthChecks.default({
      timeout: "15m",
      builtin: ["Nodes", "Etcd", "ControlPlane"],
      cel: [],
      prometheus: [],
    }),
    maintenanceWindows: z.array(maintenanceWindow).max(16).default([]),
    paused: z.boolean().default(false),
    dryRun: z.boolean().default(false).describe("Compute and publish the plan in status; touch nothing."),
    notifications: z
      .array(notification)
      .max(8)
      .default([])
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })
      .describe(
        "Webhooks told when the rollout starts, a node fails, the plan stalls and when it completes; delivered at least once, with retries, never holding the rollout.",
      ),
    etcdBackup: etcdBackupSchema.optional(),
    hooks: hooksSchema.optional(),
    silence: silenceSpecSchema.optional(),
    talosConfig: z
      .object({ secretRef: secretKeyRef.optional() })
      .optional()
      .describe("Default: the talosconfig mounted at /var/run/secrets/talos.dev/config."),
  })
  .meta({
    "x-kubernetes-validations": [
      cel(
        "has(self.talos) || has(self.kubernetes)",
        "at least one of spec.talos and spec.kubernetes is required",
      ),
    ],
  });

export type PlanSpec = z.output<typeof planSpecSchema>;

const conditionSchema = z.object({
  type: z.string().max(316),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().max(1024),
  message: z.string().max(32768),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});

export type Condition = z.infer<typeof conditionSchema>;

export const phases = [
  "Pending",
  "WaitingForWindow",
  "UpgradingTalos",
  "UpgradingKubernetes",
  "Completed",
  "Paused",
  "Failed",
] as const;

export const planStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional(),
    phase: z.enum(phases).optional(),
    conditions: z.array(conditionSchema).default([]),
    /** One entry per node, in upgrade order (as stored, see workerNodes). */
    nodes: z.array(nodeStatusSchema).default([]),
    workerNodes: z
      .array(workerGroupSchema)
      .optional()
      .describe(
        "Only in a plan whose node entries would pass 256 KiB: worker entries with nothing to say but their state, by name, grouped by the fields they share: pending and never started, or done (all but the last few to finish). They belong among status.nodes, in upgrade order.",
      ),
    summary: z
      .object({
        total: z.number().int(),
        done: z.number().int(),
        inProgress: z.number().int(),
        failed: z.number().int(),
        pending: z.number().int(),
      })
      .optional(),
    kubernetes: kubernetesStatusSchema.optional(),
    /**
     * What `kubectl describe` shows first: the work under way, what comes next, and what the plan
     * waits for (the Ready condition's message, when it is not simply progressing). Absent once completed.
     */
    activity: z
      .object({
        current: z.string(),
        next: z.string(),
        waitingFor: z.string().optional(),
      })
      .optional(),
    /**
     * The time the rollout still needs, estimated from how long this plan's nodes took, the rollout's
     * slots and the maintenance windows; absent until a node is done, and once nothing is left.
     */
    estimate: z
      .object({
        /** When the Talos phase is expected to be done, to the minute. */
        completionTime: z.string(),
        /** The same as a duration from the last estimate, for the printer column ("25m", "1h40m"). */
        timeLeft: z.string(),
        /** What it counts and what it was measured from. */
        message: z.string(),
      })
      .optional(),
    /** Nodes done of nodes selected, "n/m", for the printer column. */
    progress: z.string().optional(),
    /** The talos.version the nodes are being taken to now: an intermediate release or the target. */
    currentTalosStep: z.string().optional(),
    nextWindow: z.string().optional(),
    /** Since when the health checks have been failing without a break. */
    gatesFailingSince: z.string().optional(),
    /** The last value of the retry annotation acted on. */
    lastRetry: z.string().optional(),
    notifications: z
      .object({
        /** Written with the transition they tell of, removed once delivered: at least once, across restarts. */
        pending: z
          .array(
            z.object({
              id: z.string(),
              receiver: z.string(),
              event: z.enum(notificationEvents),
              node: z.string().optional(),
              message: z.string(),
              time: z.string(),
            }),
          )
          .max(64)
          .default([]),
        delivered: z.number().int().default(0),
        /** Notifications given up because more than 64 were waiting (a receiver down for long). */
        dropped: z.number().int().default(0),
        /** The generation whose rollout start was told. */
        startedGeneration: z.number().int().optional(),
        /** The last delivery failure: the receiver and what went wrong, never its URL. */
        lastError: z.string().optional(),
      })
      .optional(),
    etcdBackup: etcdBackupStatusSchema.optional(),
    hooks: hooksStatusSchema.optional(),
    silence: silenceStatusSchema.optional(),
    history: z
      .array(
        z.object({
          generation: z.number().int(),
          talosVersion: z.string().optional(),
          kubernetesVersion: z.string().optional(),
          result: z.enum(["Completed", "Failed"]),
          startedAt: z.string().optional(),
          completedAt: z.string(),
        }),
      )
      .max(10)
      .default([]),
  })
  .transform(({ workerNodes, ...status }) => ({
    ...status,
    nodes: expandedEntries(status.nodes, workerNodes ?? []),
  }));

export type PlanStatus = z.infer<typeof planStatusSchema>;

/**
 * The status as the apiserver keeps it, which parsing turns back into `PlanStatus`: empty messages
 * left to their default, the node entries and Kubernetes tasks compacted, so that 5000 nodes fit in
 * one object.
 */
export function storedStatus(status: PlanStatus): z.input<typeof planStatusSchema> {
  const entries = storedEntries(status.nodes, withoutEmptyMessage);
  const kubernetes = status.kubernetes ? { kubernetes: storedKubernetesStatus(status.kubernetes) } : {};
  return { ...status, ...entries, ...kubernetes };
}

export const planSchema = z.object({
  apiVersion: z.literal(`${group}/${version}`),
  kind: z.literal(kind),
  metadata: z.object({
    name: z.string(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    finalizers: z.array(z.string()).optional(),
  }),
  spec: planSpecSchema,
  status: planStatusSchema.optional(),
});

export type Plan = z.output<typeof planSchema>;

/** Annotation whose new value asks the operator to retry failed nodes. */
export const retryAnnotation = `${group}/retry`;
/** Node label that leaves a node out of every plan. */
const excludeLabel = `${group}/exclude`;

/** Held on every plan until the nodes it cordoned are released, so deleting a plan mid-rollout strands none. */
export const cordonsFinalizer = `${group}/release-cordons`;

/** A node its label leaves out of every plan, both phases, and out of the Nodes gate. */
export function excluded(labels: Record<string, string>): boolean {
  return labels[excludeLabel] === "true";
}
