// The Kubernetes phase's status: one task per component and node, and the manifest sync. As stored,
// plain worker kubelet tasks (pending, or done a while ago) are names grouped by image, not entries:
// at 5000 nodes a full entry each would take the plan object past etcd's 1.5 MiB on top of the Talos
// phase's node entries. Parsing expands them again, so the decision core sees every task.
import { z } from "zod";

/** The Kubernetes components, in the order the Kubernetes phase upgrades them. */
const kubeComponents = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "kubelet",
] as const;

export type KubeComponent = (typeof kubeComponents)[number];

const kubernetesTaskSchema = z.object({
  component: z.enum(kubeComponents),
  node: z.string(),
  role: z.enum(["controlplane", "worker"]),
  state: z.enum(["Pending", "Applying", "Done", "Failed"]),
  /** The image the machine config is patched to. */
  image: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Why the task failed, as a condition reason. */
  reason: z.string().optional(),
  message: z.string().default(""),
});

export type KubernetesTask = z.infer<typeof kubernetesTaskSchema>;

/** Objects named in status, at most this many per list; the counts say how many there are. */
export const manifestNamesShown = 20;

const objectNames = z.array(z.string()).max(manifestNamesShown).default([]);

const manifestStatusSchema = z.object({
  /** The control plane node the rendered manifests were read from. */
  source: z.string().optional(),
  /** SSA with inventory and prune (Talos v1.13 and later on every node), or Legacy (create and update). */
  method: z.enum(["ServerSideApply", "Legacy"]).optional(),
  /** What a sync would change now, as Kind/namespace/name; bounded, the counts are complete. */
  create: objectNames,
  update: objectNames,
  prune: objectNames,
  counts: z
    .object({
      create: z.number().int(),
      update: z.number().int(),
      prune: z.number().int(),
      unchanged: z.number().int(),
    })
    .optional(),
  /** When the last sync applied changes: the rollout timeout runs from here. */
  appliedAt: z.string().optional(),
  /** Applied DaemonSets and Deployments not rolled out yet. */
  rollingOut: objectNames,
});

export type ManifestStatus = z.infer<typeof manifestStatusSchema>;

const kubernetesStatusFields = z.object({
  /** The lowest version found when the phase began. */
  fromVersion: z.string().optional(),
  targetVersion: z.string().optional(),
  /** The version being rolled out now: an intermediate release or the target. */
  version: z.string().optional(),
  /** Preflight, PrePull, a component name, or Done. */
  step: z.string().optional(),
  /** Nodes whose every component runs `version`. */
  nodesDone: z.number().int().optional(),
  /** One entry per component and node, in the order they are upgraded (as stored, see workerKubelets). */
  tasks: z.array(kubernetesTaskSchema).default([]),
  manifests: manifestStatusSchema.optional(),
});

export type KubernetesStatus = z.infer<typeof kubernetesStatusFields>;

const workerKubeletGroupSchema = z.object({
  image: z.string().describe("The kubelet image these workers' tasks patch in."),
  pending: z.array(z.string()).default([]).describe("Workers whose kubelet task has not started."),
  done: z.array(z.string()).default([]).describe("Workers whose kubelet task is done."),
});

/** The Done worker kubelet tasks kept whole: the latest to finish, whose times the estimate measures. */
export const finishedKubeletsKept = 10;

export const kubernetesStatusSchema = kubernetesStatusFields
  .extend({
    workerKubelets: z
      .array(workerKubeletGroupSchema)
      .optional()
      .describe(
        "Worker kubelet tasks with nothing to say but their state, by name: pending, or done (all but the last few to finish). In order, after status.kubernetes.tasks, by node name.",
      ),
  })
  .transform(({ workerKubelets, ...status }): KubernetesStatus => expanded(status, workerKubelets ?? []));

type StoredKubernetesStatus = z.input<typeof kubernetesStatusSchema>;
type WorkerKubeletGroup = z.infer<typeof workerKubeletGroupSchema>;

const isWorkerKubelet = (t: KubernetesTask) => t.component === "kubelet" && t.role === "worker";
const byNodeName = (a: KubernetesTask, b: KubernetesTask) => a.node.localeCompare(b.node);

/** The tasks with the named ones back in their place: worker kubelets come last, by node name. */
function expanded(status: KubernetesStatus, groups: WorkerKubeletGroup[]): KubernetesStatus {
  if (groups.length === 0) return status;
  const named = groups.flatMap(({ image, pending, done }) => [
    ...pending.map((node) => plainTask(node, image, "Pending")),
    ...done.map((node) => plainTask(node, image, "Done")),
  ]);
  const workers = [...status.tasks.filter(isWorkerKubelet), ...named].sort(byNodeName);
  return { ...status, tasks: [...status.tasks.filter((t) => !isWorkerKubelet(t)), ...workers] };
}

function plainTask(node: string, image: string, state: "Pending" | "Done"): KubernetesTask {
  return { component: "kubelet", node, role: "worker", state, image, message: "" };
}

/**
 * The status as stored: worker kubelet tasks that are pending untouched, or done and not among the
 * last `finishedKubeletsKept` to finish, become names. A done task named loses its times and
 * message; the Events and the counts keep what it did.
 */
export function storedKubernetesStatus(status: KubernetesStatus): StoredKubernetesStatus {
  const measured = status.tasks
    .filter((t) => isWorkerKubelet(t) && t.state === "Done" && t.startedAt && t.finishedAt)
    .sort((a, b) => (b.finishedAt as string).localeCompare(a.finishedAt as string) || byNodeName(a, b))
    .slice(0, finishedKubeletsKept);
  const kept = new Set(measured);
  const nameable = (t: KubernetesTask) =>
    isWorkerKubelet(t) &&
    t.image !== undefined &&
    t.reason === undefined &&
    ((t.state === "Pending" && t.message === "" && t.startedAt === undefined) ||
      (t.state === "Done" && !kept.has(t)));
  const groups = new Map<string, WorkerKubeletGroup>();
  for (const task of status.tasks.filter(nameable)) {
    const image = task.image as string;
    const group = groups.get(image) ?? { image, pending: [], done: [] };
    groups.set(image, group);
    (task.state === "Pending" ? group.pending : group.done).push(task.node);
  }
  const tasks = status.tasks.filter((t) => !nameable(t)).map(withoutEmptyMessage);
  return { ...status, tasks, ...(groups.size > 0 ? { workerKubelets: [...groups.values()] } : {}) };
}

/** An entry as stored: an empty message is the schema's default, written by parsing. */
export function withoutEmptyMessage<T extends { message: string }>(entry: T): Omit<T, "message"> | T {
  const { message, ...rest } = entry;
  return message === "" ? rest : entry;
}
