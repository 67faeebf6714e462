// One plan at a time, as a Lease in the operator's namespace whose holder is the plan that holds
// the fleet: taken by the pass that starts a plan's first node, given back once the plan has
// nothing under way. Every write carries the resourceVersion it read, so two passes (of one
// leader, or of an old and a new one) cannot both take it: the slower gets a conflict and looks
// again. The holder outlives a restart or a change of leader, unlike anything held in memory.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { httpStatus } from "./client.ts";
import { ConflictError } from "./plans.ts";

export class FleetLock {
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;

  constructor(kc: KubeConfig, namespace: string, name: string) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.namespace = namespace;
    this.name = name;
  }

  /**
   * Takes the fleet for `plan`, unless another plan holds it and `stillHolds(holder, heldForMs)`
   * says it still does (a holder deleted, or done but not given back before a crash, is taken
   * over). Resolves to the plan holding the fleet when it is not `plan`; throws ConflictError when
   * another pass took it meanwhile.
   */
  async take(
    plan: string,
    stillHolds: (holder: string, heldForMs: number) => boolean,
  ): Promise<string | undefined> {
    const lease = await this.read();
    const holder = lease?.spec?.holderIdentity ?? "";
    if (holder === plan) return undefined;
    const since = lease?.spec?.acquireTime
      ? Date.now() - new Date(String(lease.spec.acquireTime)).getTime()
      : 0;
    if (holder !== "" && stillHolds(holder, since)) return holder;
    const now = new V1MicroTime();
    const spec = { holderIdentity: plan, acquireTime: now, renewTime: now };
    await this.write(
      lease
        ? {
            ...lease,
            spec: { ...lease.spec, ...spec, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 },
          }
        : {
            metadata: { name: this.name, namespace: this.namespace },
            spec: { ...spec, leaseTransitions: 0 },
          },
    );
    return undefined;
  }

  /** Gives the fleet back if `plan` holds it. */
  async release(plan: string): Promise<void> {
    const lease = await this.read();
    if (!lease || lease.spec?.holderIdentity !== plan) return;
    await this.write({ ...lease, spec: { ...lease.spec, holderIdentity: "", renewTime: new V1MicroTime() } });
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async write(lease: V1Lease): Promise<void> {
    try {
      if (lease.metadata?.resourceVersion)
        await this.api.replaceNamespacedLease({ namespace: this.namespace, name: this.name, body: lease });
      else await this.api.createNamespacedLease({ namespace: this.namespace, body: lease });
    } catch (error) {
      const code = httpStatus(error);
      if (code === 409)
        throw new ConflictError(`the fleet lock ${this.namespace}/${this.name} changed meanwhile`);
      throw error;
    }
  }
}
