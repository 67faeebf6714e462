// Prometheus metrics, in one registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function makeMetrics(version: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    buildInfo: new Gauge({
      name: "talos_upgrade_build_info",
      help: "Build information.",
      labelNames: ["version"],
      registers: [registry],
    }),
    leader: new Gauge({
      name: "talos_upgrade_leader",
      help: "1 while this replica holds the leader lease.",
      registers: [registry],
    }),
    planPhase: new Gauge({
      name: "talos_upgrade_plan_phase",
      help: "1 for the plan's current phase.",
      labelNames: ["plan", "phase"],
      registers: [registry],
    }),
    stalled: new Gauge({
      name: "talos_upgrade_plan_stalled",
      help: "1 while the plan's Stalled condition is True.",
      labelNames: ["plan"],
      registers: [registry],
    }),
    nodes: new Gauge({
      name: "talos_upgrade_plan_nodes",
      help: "Nodes of a plan by state.",
      labelNames: ["plan", "state"],
      registers: [registry],
    }),
    nodeDuration: new Histogram({
      name: "talos_upgrade_node_duration_seconds",
      help: "From a node's start to verified on the new version.",
      labelNames: ["role"],
      buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [registry],
    }),
    gateEvaluations: new Counter({
      name: "talos_upgrade_gate_evaluations_total",
      help: "Health check evaluations.",
      labelNames: ["gate", "result"],
      registers: [registry],
    }),
    talosCalls: new Histogram({
      name: "talos_upgrade_talos_api_call_duration_seconds",
      help: "Talos API calls by method and outcome.",
      labelNames: ["method", "outcome"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: "talos_upgrade_reconcile_duration_seconds",
      help: "Reconcile passes.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: "talos_upgrade_reconcile_errors_total",
      help: "Reconcile passes that failed.",
      registers: [registry],
    }),
  };
  metrics.buildInfo.set({ version }, 1);
  return metrics;
}

export type Metrics = ReturnType<typeof makeMetrics>;
