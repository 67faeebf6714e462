// The Talos phase's node entries: one per node, in upgrade order, and their stored form. A whole
// entry costs about 200 bytes; at 5000 nodes named as a cloud provider names them, the entries took
// the plan object to within 120 KB of etcd's 1.5 MiB. So once the entries pass a budget, plain
// worker entries (pending untouched, or done a while ago) are stored as names, grouped by the
// fields they share. Parsing expands them again, in upgrade order: the decision core sees every entry.
import { z } from "zod";

export const nodeStates = [
  "Pending",
  "Draining",
  "Upgrading",
  "Rebooting",
  "Verifying",
  "Soaking",
  "Done",
  "Failed",
  "Skipped",
] as const;

export const nodeStatusSchema = z.object({
  name: z.string(),
  role: z.enum(["controlplane", "worker"]),
  state: z.enum(nodeStates),
  fromVersion: z.string().optional(),
  version: z.string().optional(),
  // A settled entry drops what only a node in flight reads: 5000 entries must fit in one object.
  image: z
    .string()
    .optional()
    .describe(
      "The installer the node's upgrade boots. Once the node is Done, kept only until the operator has named it in the node's machine.install.image (a later reinstall or reset boots it).",
    ),
  bootIdBefore: z
    .string()
    .optional()
    .describe(
      "The boot ID seen before the upgrade call: the durable intent that makes the call happen once. Dropped once the node is Done.",
    ),
  /** When work on the node began (cordon and drain; on Talos ≥ 1.13 the install before them). */
  startedAt: z.string().optional(),
  installedAt: z
    .string()
    .optional()
    .describe(
      "Talos ≥ 1.13: when the node's installer was seen installed from its present boot, before its cordon; its drain's time starts then. Dropped once the node is Done.",
    ),
  restoreImage: z
    .string()
    .optional()
    .describe(
      "Talos ≥ 1.13: the installer of the version the node runs, installed again because the plan no longer upgrades it (its target was edited) after its own installer was installed for its next boot; the node is released once this one is, so that no reboot starts the other. Dropped once the node is Done.",
    ),
  upgradeCalledAt: z
    .string()
    .optional()
    .describe(
      "When Talos accepted the upgrade call; unset after the intent is recorded but before the call. Dropped with image.",
    ),
  callNotStartedOn: z
    .string()
    .optional()
    .describe(
      "The boot ID the last upgrade call was made from, when machined's events said Talos acked it and never started its sequence (another held machined's lock): the call is made again once the machine runs. Dropped with the next intent.",
    ),
  /** When the node was verified on the new version. */
  finishedAt: z.string().optional(),
  schematic: z
    .string()
    .optional()
    .describe(
      "The Image Factory schematic the node is taken to (the plan's or its pool's), when the plan names one. Dropped once the node is Done: the spec has it, for the pool override names.",
    ),
  /** The spec.talos.overrides entry whose selector matched the node. */
  override: z.string().optional(),
  attempts: z.number().int().default(0),
  /**
   * Why the node failed (RolledBack, NodeTimeout, DrainTimeout, ...), was skipped (AheadOfTarget),
   * or, done, kept the installer it had in its configuration (ConfigPatchRefused).
   */
  reason: z.string().optional(),
  message: z.string().default(""),
});

export type NodeStatus = z.infer<typeof nodeStatusSchema>;

/** Control plane nodes first, then workers; by name within each, so the order is stable. */
export function upgradeOrder<T extends { name: string; role: "controlplane" | "worker" }>(nodes: T[]): T[] {
  const rank = (n: T) => (n.role === "controlplane" ? 0 : 1);
  return [...nodes].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** Entries are stored whole up to this many bytes (about 1,300 entries); past it, plain workers by name. */
export const wholeEntriesBytes = 256 * 1024;

/** The done workers kept whole past the budget: the latest to finish, whose times the estimate measures. */
export const finishedWorkersKept = 10;

export const workerGroupSchema = z.object({
  fromVersion: z.string().optional(),
  version: z.string().optional(),
  override: z.string().optional(),
  attempts: z.number().int().default(0),
  message: z.string().default(""),
  pending: z.array(z.string()).default([]).describe("Workers not started, with these fields."),
  done: z
    .array(z.string())
    .default([])
    .describe("Workers done, with these fields; their times are not kept."),
});

type WorkerGroup = z.infer<typeof workerGroupSchema>;
type StoredGroup = z.input<typeof workerGroupSchema>;

/** The fields a plain worker entry may have besides its name, state and times: what a group shares. */
const shared = ["fromVersion", "version", "override", "attempts", "message"] as const;
const plainKeys = new Set<string>(["name", "role", "state", "startedAt", "finishedAt", ...shared]);

/**
 * A worker entry with nothing to say but its state: pending and never started, or done (not one of
 * the latest to finish, nor the first to start, whose time the plan's history keeps).
 */
function nameable(entry: NodeStatus, kept: Set<NodeStatus>): boolean {
  if (entry.role !== "worker" || entry.reason !== undefined || kept.has(entry)) return false;
  if (Object.keys(entry).some((key) => !plainKeys.has(key))) return false;
  if (entry.state === "Pending") return entry.startedAt === undefined && entry.finishedAt === undefined;
  return entry.state === "Done";
}

function keptWhole(entries: NodeStatus[]): Set<NodeStatus> {
  const latest = entries
    .filter((e) => e.state === "Done" && e.finishedAt !== undefined)
    .sort(
      (a, b) =>
        (b.finishedAt as string).localeCompare(a.finishedAt as string) || a.name.localeCompare(b.name),
    )
    .slice(0, finishedWorkersKept);
  const first = entries
    .filter((e) => e.startedAt !== undefined)
    .sort(
      (a, b) => (a.startedAt as string).localeCompare(b.startedAt as string) || a.name.localeCompare(b.name),
    )[0];
  return new Set(first ? [...latest, first] : latest);
}

const groupKey = (entry: NodeStatus) => JSON.stringify(shared.map((field) => entry[field] ?? null));

/** The entries as stored: whole within the budget, else the plain workers grouped by name. */
export function storedEntries<S>(
  entries: NodeStatus[],
  store: (entry: NodeStatus) => S,
  budgetBytes = wholeEntriesBytes,
): { nodes: S[]; workerNodes?: StoredGroup[] } {
  const whole = entries.map(store);
  if (Buffer.byteLength(JSON.stringify(whole)) <= budgetBytes) return { nodes: whole };
  const kept = keptWhole(entries);
  const groups = new Map<string, StoredGroup & { pending: string[]; done: string[] }>();
  const nodes: S[] = [];
  for (const entry of entries) {
    if (!nameable(entry, kept)) {
      nodes.push(store(entry));
      continue;
    }
    const key = groupKey(entry);
    const group = groups.get(key) ?? { ...sharedFields(entry), pending: [], done: [] };
    groups.set(key, group);
    (entry.state === "Pending" ? group.pending : group.done).push(entry.name);
  }
  return { nodes, workerNodes: [...groups.values()] };
}

/** What a group shares, defaults left out as the schema leaves them. */
function sharedFields(entry: NodeStatus): StoredGroup {
  const { fromVersion, version, override, attempts, message } = entry;
  return {
    ...(fromVersion !== undefined ? { fromVersion } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(override !== undefined ? { override } : {}),
    ...(attempts !== 0 ? { attempts } : {}),
    ...(message !== "" ? { message } : {}),
  };
}

/** The entries with the named ones back in their place, in upgrade order. */
export function expandedEntries(entries: NodeStatus[], groups: WorkerGroup[]): NodeStatus[] {
  if (groups.length === 0) return entries;
  // A name both whole and grouped (a status edited by hand) counts once, whole.
  const seen = new Set(entries.map((e) => e.name));
  const named = groups
    .flatMap(({ pending, done, ...fields }) => [
      ...pending.map((name) => plainEntry(name, "Pending", fields)),
      ...done.map((name) => plainEntry(name, "Done", fields)),
    ])
    .filter((e) => !seen.has(e.name) && seen.add(e.name));
  return upgradeOrder([...entries, ...named]);
}

function plainEntry(
  name: string,
  state: "Pending" | "Done",
  fields: Omit<WorkerGroup, "pending" | "done">,
): NodeStatus {
  return { name, role: "worker", state, ...fields };
}
