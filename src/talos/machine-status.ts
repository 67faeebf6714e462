// A machine's stage and readiness, from its MachineStatus resource: as a Get reads it, and as an open
// watch stream last delivered it.
import type { MachineStage, TalosFacts } from "../model/observation.ts";
import type { Resource__Output } from "./generated/cosi/resource/Resource.ts";
import { decodeMessage } from "./proto.ts";

/** A machine's stage and readiness, and when its MachineStatus was created ("seconds.nanoseconds"). */
export interface MachineStatusView {
  stage: MachineStage;
  ready: boolean;
  /** The MachineStatus' creation time: Talos creates the resource once per boot, so it names the boot. */
  createdAt?: string;
}

/** A machine's status as an open stream last delivered it; `stream` names that stream. */
export interface WatchedMachine extends MachineStatusView {
  stream: number;
}

/**
 * A MachineStatus resource's stage and readiness, as Get and Watch deliver it, and when it was
 * created ("seconds.nanoseconds"): Talos keeps its state in memory and creates the resource once
 * per boot, so that time names the boot.
 */
export function machineStatusOf(resource: Resource__Output | null): MachineStatusView {
  const spec = decodeMessage(
    "talos.resource.definitions.runtime.MachineStatusSpec",
    resource?.spec?.protoSpec ?? Buffer.alloc(0),
  ) as { stage?: string; status?: { ready?: boolean } };
  const created = resource?.metadata?.created;
  return {
    stage: (spec.stage ?? "MACHINE_STAGE_UNKNOWN").replace("MACHINE_STAGE_", "") as MachineStage,
    ready: spec.status?.ready ?? false,
    ...(created ? { createdAt: `${created.seconds}.${String(created.nanos).padStart(9, "0")}` } : {}),
  };
}

/**
 * Whether a watched machine is still on the boot its facts were read on: its MachineStatus was
 * created at the same time (a new boot creates it anew). Unknown times prove nothing.
 */
export const sameBootStatus = (facts: TalosFacts, watched: WatchedMachine | undefined): boolean =>
  facts.reachable && facts.statusCreatedAt !== undefined && watched?.createdAt === facts.statusCreatedAt;
