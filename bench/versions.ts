// The versions every bench case upgrades between. v1.12 → v1.13: both the operator and talosctl
// (v1.13.0, which falls back to the legacy API for a v1.12 node) use MachineService.Upgrade, so they
// drive the same simulated sequence and neither needs the Kubeconfig RPC the simulator lacks.
export const fromVersion = "v1.12.4";
export const targetVersion = "v1.13.0";
