// What a decision asks the shell to do: data, not calls. The shell writes the decided status
// first (the durable intent), then runs these in order.
export type Action =
  | { kind: "cordon"; node: string }
  | { kind: "uncordon"; node: string }
  | { kind: "drain"; node: string }
  /** Pull the installer on the node first: a missing image fails the plan before anything is cordoned. */
  | { kind: "prepull"; node: string; address: string; image: string; api: "legacy" | "lifecycle" }
  | {
      kind: "upgrade";
      node: string;
      address: string;
      image: string;
      version: string;
      /** legacy: MachineService.Upgrade (< v1.13); lifecycle: ImageService.Pull + LifecycleService.Upgrade + Reboot. */
      api: "legacy" | "lifecycle";
      rebootMode: "Default" | "Powercycle";
    };

export interface PlanEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}
