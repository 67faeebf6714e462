// TalosUpgradePlan reads and the one status writer: a PUT of /status carrying the resourceVersion
// read, so a concurrent writer makes it fail with 409 instead of being overwritten.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import {
  cordonsFinalizer,
  group,
  type Plan,
  type PlanStatus,
  planSchema,
  plural,
  storedStatus,
  version,
} from "../api/v1alpha1/plan.ts";
import { httpStatus } from "./client.ts";

type PlanParse = { ok: true; plan: Plan } | { ok: false; message: string };

/** Validates what the apiserver returned; a plan that does not parse is reported, never acted on. */
export function parsePlan(object: unknown): PlanParse {
  const parsed = planSchema.safeParse(object);
  if (parsed.success) return { ok: true, plan: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, message: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
}

export class ConflictError extends Error {}

export class PlanStore {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async get(name: string): Promise<unknown | undefined> {
    try {
      return await this.api.getClusterCustomObject({ group, version, plural, name });
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Adds or removes the cordons finalizer; returns the new resourceVersion. The patch tests the
   * resourceVersion read, so a concurrent change makes it fail with 409 instead of being lost.
   */
  async setFinalizer(plan: Plan, present: boolean): Promise<string> {
    const current = plan.metadata.finalizers ?? [];
    const finalizers = present
      ? [...new Set([...current, cordonsFinalizer])]
      : current.filter((f) => f !== cordonsFinalizer);
    try {
      const written = (await this.api.patchClusterCustomObject({
        group,
        version,
        plural,
        name: plan.metadata.name,
        body: [
          { op: "test", path: "/metadata/resourceVersion", value: plan.metadata.resourceVersion },
          { op: "add", path: "/metadata/finalizers", value: finalizers },
        ],
      })) as { metadata?: { resourceVersion?: string } };
      return written.metadata?.resourceVersion ?? "";
    } catch (error) {
      const code = httpStatus(error);
      if (code === 409 || code === 422)
        throw new ConflictError(`plan ${plan.metadata.name} changed while reconciling`);
      if (code === 404 && !present) return "";
      throw error;
    }
  }

  /** Writes status; returns the new resourceVersion. Throws ConflictError when the plan changed meanwhile. */
  async writeStatus(plan: Plan, status: PlanStatus): Promise<string> {
    try {
      const written = (await this.api.replaceClusterCustomObjectStatus({
        group,
        version,
        plural,
        name: plan.metadata.name,
        body: {
          apiVersion: plan.apiVersion,
          kind: plan.kind,
          metadata: { name: plan.metadata.name, resourceVersion: plan.metadata.resourceVersion },
          spec: plan.spec,
          status: storedStatus(status),
        },
      })) as { metadata?: { resourceVersion?: string } };
      return written.metadata?.resourceVersion ?? "";
    } catch (error) {
      if (httpStatus(error) === 409)
        throw new ConflictError(`plan ${plan.metadata.name} changed while reconciling`);
      throw error;
    }
  }
}
