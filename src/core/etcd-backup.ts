// The etcd snapshot gate: before a pass first touches a control plane (a Talos version step, or the
// Kubernetes phase), a snapshot of etcd is streamed from a healthy control plane, stored in the
// bucket and read back; until then no new node or task starts. Nodes already in flight go on. A
// verified snapshot of the pass serves its control planes while fresh (maxAge) or while the pass
// goes on working on them; one older than maxAge is taken again before the first starts, and after
// the pass stood still longer than maxAge (a window closed between two control planes, a failure
// retried the next morning). A failed attempt stalls the plan and is retried with backoff.
import { parseDuration } from "../api/v1alpha1/duration.ts";
import type { EtcdBackupStatus, S3Destination } from "../api/v1alpha1/etcd-backup.ts";
import type { NodeStatus } from "../api/v1alpha1/node-entries.ts";
import type { PlanStatus } from "../api/v1alpha1/plan.ts";
import { Reason } from "../api/v1alpha1/reasons.ts";
import type { Action, PlanEvent } from "../model/actions.ts";
import { boundMessage } from "../model/messages.ts";
import type { NodeView, Observation } from "../model/observation.ts";
import type { Verdict } from "../model/verdict.ts";
import { kubernetesBehind } from "./kubernetes-phase.ts";
import { talosComplete } from "./talos-targets.ts";

interface EtcdBackupStep {
  /** Holds new work back; undefined: the pass may start control planes. */
  verdict?: Verdict;
  status?: EtcdBackupStatus;
  actions: Action[];
  events: PlanEvent[];
  wakeAt?: number;
}

/** The first retry waits this long, doubling per failed attempt up to the cap. */
const firstBackoffMs = 30_000;
const maxBackoffMs = 10 * 60_000;

/** A control plane's work in a pass, as its node entry or Kubernetes task records it. */
interface Work {
  state: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
}

/**
 * When the pass last worked on a control plane it started at or after `at` (now, for one under
 * way; its end, or its start where no end is kept, for the others); undefined if it started none.
 */
function lastWorked(work: Work[], at: string, now: number): number | undefined {
  const times = work
    .filter((w) => w.state !== "Pending" && w.startedAt !== undefined && w.startedAt >= at)
    .map((w) =>
      w.state === "Done" || w.state === "Failed" || w.state === "Skipped"
        ? Date.parse(w.finishedAt ?? w.startedAt ?? "")
        : now,
    );
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** The pass whose control planes are still to be touched, and when it last worked on one of them. */
function controlPlanePass(
  obs: Observation,
  entries: NodeStatus[],
  previous: PlanStatus,
): { pass: string; workedSince: (at: string) => number | undefined; next?: string } | undefined {
  const spec = obs.plan.spec;
  const now = obs.now.getTime();
  const pending = entries.filter((e) => e.role === "controlplane" && e.state === "Pending");
  const first = pending[0];
  if (first) {
    const pass = `talos ${first.version ?? spec.talos?.version}`;
    const ofPass = entries.filter((e) => e.role === "controlplane" && e.version === first.version);
    return { pass, workedSince: (at) => lastWorked(ofPass, at, now), next: first.name };
  }
  if (!spec.kubernetes || !talosComplete(entries, spec.talos?.version)) return undefined;
  const controlPlanes = new Set(obs.nodes.filter((n) => n.role === "controlplane").map((n) => n.name));
  const behind = kubernetesBehind(obs.nodes, spec.kubernetes).filter((n) => controlPlanes.has(n));
  if (behind.length === 0) return undefined;
  const tasks = previous.kubernetes?.tasks ?? [];
  const ofPass = tasks.filter((t) => t.role === "controlplane");
  return { pass: `kubernetes ${spec.kubernetes.version}`, workedSince: (at) => lastWorked(ofPass, at, now) };
}

/** A Ready control plane whose Talos API answers, preferably not the one about to be upgraded. */
function sourceNode(
  nodes: NodeView[],
  next: string | undefined,
  keep: string | undefined,
): NodeView | undefined {
  const usable = nodes.filter(
    (n) => n.role === "controlplane" && n.ready && !n.unschedulable && n.talos.reachable && n.address,
  );
  return usable.find((n) => n.name === keep) ?? usable.find((n) => n.name !== next) ?? usable[0];
}

/** 2026-09-21T10:22:33.000Z → 20260921T102233Z: keys sort by time. */
const stamp = (now: Date) =>
  now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

const location = (destination: S3Destination, key: string) => `s3://${destination.bucket}/${key}`;

export function etcdBackupStep(input: {
  obs: Observation;
  entries: NodeStatus[];
  previous: PlanStatus;
  retry: boolean;
}): EtcdBackupStep {
  const { obs, entries, previous, retry } = input;
  const kept: EtcdBackupStep = {
    actions: [],
    events: [],
    ...(previous.etcdBackup ? { status: previous.etcdBackup } : {}),
  };
  const spec = obs.plan.spec.etcdBackup;
  const destination = spec?.s3 ?? obs.etcdBackupDefault;
  if (!(spec?.enabled ?? destination !== undefined)) return kept;
  const pass = controlPlanePass(obs, entries, previous);
  if (!pass) return kept;
  if (!destination) {
    const message =
      "spec.etcdBackup is enabled but names no bucket and the operator has no default: set spec.etcdBackup.s3, the chart's etcdBackup.s3, or spec.etcdBackup.enabled: false";
    return { ...kept, verdict: { kind: "stalled", reason: Reason.EtcdBackupNotConfigured, message } };
  }
  const current = previous.etcdBackup?.pass === pass.pass ? previous.etcdBackup : undefined;
  const settings = { destination, retention: spec?.retention ?? 5, timeout: spec?.timeout ?? "15m" };
  const maxAgeMs = parseDuration(spec?.maxAge ?? "1h");
  const now = obs.now.getTime();

  /**
   * A verified snapshot serves the pass while fresh, or while the pass goes on: a control plane
   * started after it was worked on within maxAge. A pass that stood still longer (a closed window,
   * a failure retried hours later) takes a new one: etcd has moved on since.
   */
  const worked = (at: string) => pass.workedSince(at) ?? Number.NEGATIVE_INFINITY;
  const serves = (status: EtcdBackupStatus | undefined) =>
    status?.state === "Verified" &&
    status.finishedAt !== undefined &&
    (now - Date.parse(status.finishedAt) <= maxAgeMs || now - worked(status.finishedAt) <= maxAgeMs);
  if (serves(current)) return { ...kept, ...(current ? { status: current } : {}) };
  if (current?.state === "Running" && current.key) {
    const step = running(obs, current, settings, pass.next);
    if (step.status?.state !== "Verified" || serves(step.status)) return step;
    // It ended long before a pass saw it (the plan waited on something else): too old to serve.
    const again = begin(obs, pass, undefined, settings);
    return { ...again, events: [...step.events, ...again.events] };
  }
  if (current?.state === "Failed" && !retry) {
    const backoff = Math.min(maxBackoffMs, firstBackoffMs * 2 ** Math.max(0, current.attempts - 1));
    const at = Date.parse(current.finishedAt ?? obs.now.toISOString()) + backoff;
    if (at > now) {
      const message = `${current.message ?? "the etcd snapshot failed"}; control planes wait, next attempt in ${Math.ceil((at - now) / 1000)}s`;
      return {
        ...kept,
        status: current,
        wakeAt: at,
        verdict: {
          kind: "stalled",
          reason: current.reason ?? Reason.EtcdSnapshotFailed,
          message,
          retrying: true,
        },
      };
    }
  }
  return begin(obs, pass, current, settings);
}

type Settings = { destination: S3Destination; retention: number; timeout: string };

/** A new attempt: its key fixed in status (the intent) before the shell is asked to run it. */
function begin(
  obs: Observation,
  pass: { pass: string; next?: string },
  current: EtcdBackupStatus | undefined,
  settings: Settings,
): EtcdBackupStep {
  const source = sourceNode(obs.nodes, pass.next, undefined);
  if (!source) {
    const message = `waiting for a Ready control plane with a reachable Talos API to take the etcd snapshot for ${pass.pass} from`;
    return {
      actions: [],
      events: [],
      ...(current ? { status: current } : {}),
      verdict: { kind: "waiting", reason: Reason.TakingEtcdSnapshot, message },
    };
  }
  const prefix = `${settings.destination.prefix}${obs.plan.metadata.name}/`;
  const key = `${prefix}${stamp(obs.now)}-${source.name}.db`;
  const status: EtcdBackupStatus = {
    pass: pass.pass,
    state: "Running",
    node: source.name,
    key,
    location: location(settings.destination, key),
    startedAt: obs.now.toISOString(),
    attempts: (current?.state === "Failed" ? current.attempts : 0) + 1,
  };
  return running(obs, status, settings, pass.next);
}

/** An attempt recorded as running: its outcome, or the run asked for (again, after a restart). */
function running(
  obs: Observation,
  status: EtcdBackupStatus,
  settings: Settings,
  next: string | undefined,
): EtcdBackupStep {
  const key = status.key ?? "";
  const run = obs.etcdSnapshot?.key === key ? obs.etcdSnapshot : undefined;
  const where = status.location ?? key;
  const outcome = run?.inFlight ? undefined : run?.outcome;
  if (outcome?.ok) {
    const verified: EtcdBackupStatus = {
      ...status,
      state: "Verified",
      finishedAt: outcome.finishedAt,
      size: outcome.size,
      sha256: outcome.sha256,
      retained: outcome.retained,
      ...(outcome.pruneError
        ? {
            reason: Reason.EtcdSnapshotTaken,
            message: boundMessage(`older snapshots not pruned: ${outcome.pruneError}`),
          }
        : {}),
    };
    const message = `etcd snapshot of ${status.node} stored at ${where} (${outcome.size} bytes, sha256 ${outcome.sha256.slice(0, 12)}), read back and verified`;
    return {
      actions: [],
      events: [{ type: "Normal", reason: Reason.EtcdSnapshotTaken, message }],
      status: verified,
    };
  }
  if (outcome && !outcome.ok) {
    const message = boundMessage(
      `etcd snapshot of ${status.node} to ${where} failed (attempt ${status.attempts}): ${outcome.message}`,
    );
    const failed: EtcdBackupStatus = {
      ...status,
      state: "Failed",
      finishedAt: outcome.finishedAt,
      reason: Reason.EtcdSnapshotFailed,
      message,
    };
    return {
      actions: [],
      events: [{ type: "Warning", reason: Reason.EtcdSnapshotFailed, message }],
      status: failed,
      wakeAt: Date.parse(outcome.finishedAt) + firstBackoffMs,
      verdict: { kind: "stalled", reason: Reason.EtcdSnapshotFailed, message, retrying: true },
    };
  }
  const source = obs.nodes.find((n) => n.name === status.node);
  const message = `taking an etcd snapshot of ${status.node} to ${where} before the first control plane of ${status.pass}`;
  const verdict: Verdict = { kind: "waiting", reason: Reason.TakingEtcdSnapshot, message };
  const timeoutMs = parseDuration(settings.timeout);
  const wakeAt = Date.parse(status.startedAt ?? obs.now.toISOString()) + timeoutMs;
  if (run?.inFlight) return { actions: [], events: [], status, verdict, wakeAt };
  // Not running here (a new attempt, or one a restarted process lost): asked for under the same key.
  if (!source?.address)
    return begin(obs, { pass: status.pass, ...(next ? { next } : {}) }, undefined, settings);
  const action: Action = {
    kind: "etcdSnapshot",
    plan: obs.plan.metadata.name,
    source: source.name,
    address: source.address,
    destination: settings.destination,
    key,
    prefix: `${settings.destination.prefix}${obs.plan.metadata.name}/`,
    retention: settings.retention,
    timeoutSeconds: Math.ceil(timeoutMs / 1000),
  };
  return { actions: [action], events: [], status, verdict, wakeAt };
}
