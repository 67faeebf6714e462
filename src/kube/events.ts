// Kubernetes Events about a plan. Plans are cluster-scoped, so their Events live in "default".
import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Plan } from "../api/v1alpha1/plan.ts";
import type { PlanEvent } from "../model/actions.ts";

const eventComponent = "talos-upgrade-operator";

export class EventRecorder {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async record(plan: Plan, event: PlanEvent): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { name: `${plan.metadata.name}.${randomBytes(8).toString("hex")}`, namespace: "default" },
        involvedObject: {
          apiVersion: plan.apiVersion,
          kind: plan.kind,
          name: plan.metadata.name,
          uid: plan.metadata.uid ?? "",
        },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        source: { component: eventComponent },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
