// A machine's stage and readiness, from its MachineStatus resource: as a Get reads it, and as an open
// watch stream last delivered it.
import type { MachineStage } from "../model/observation.ts";
import type { Resource__Output } from "./generated/cosi/resource/Resource.ts";
import { decodeMessage } from "./proto.ts";

/** A machine's status as an open stream last delivered it; `stream` names that stream. */
export interface WatchedMachine {
  stream: number;
  stage: MachineStage;
  ready: boolean;
}

/** A MachineStatus resource's stage and readiness, as Get and Watch deliver it. */
export function machineStatusOf(resource: Resource__Output | null): { stage: MachineStage; ready: boolean } {
  const spec = decodeMessage(
    "talos.resource.definitions.runtime.MachineStatusSpec",
    resource?.spec?.protoSpec ?? Buffer.alloc(0),
  ) as { stage?: string; status?: { ready?: boolean } };
  return {
    stage: (spec.stage ?? "MACHINE_STAGE_UNKNOWN").replace("MACHINE_STAGE_", "") as MachineStage,
    ready: spec.status?.ready ?? false,
  };
}
