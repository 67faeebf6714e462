// Records node availability over a whole e2e run, from the machines (the simulator) and the Node
// objects (a watch), and checks the safety invariants against it.
import { CoreV1Api, type KubeConfig, makeInformer, type V1Node } from "@kubernetes/client-node";
import type { Fleet } from "../fleet/fleet.ts";

const upgradeMethods = ["/machine.MachineService/Upgrade", "/machine.LifecycleService/Upgrade"];
const applyConfiguration = "/machine.MachineService/ApplyConfiguration";

export class Recorder {
  maxControlPlanesDown = 0;
  maxWorkersDown = 0;
  readonly timeline: string[] = [];
  /** When the watch first saw each Node cordoned (ms since the epoch). */
  readonly firstCordonAt = new Map<string, number>();
  /**
   * Whether each Node was cordoned when its machine took a reboot call, read from the apiserver
   * as the call comes (the watch can deliver a cordon later than a call that follows it by ms).
   */
  private readonly cordonedAtReboot = new Map<string, boolean[]>();
  private readonly reads: Promise<unknown>[] = [];
  private readonly core: CoreV1Api;
  private readonly cordoned = new Set<string>();
  private readonly informer;
  private readonly fleet: Fleet;
  private stopped = false;
  private readonly cordonWaiters: { node: string; resolve: () => void }[] = [];

  private constructor(fleet: Fleet, kc: KubeConfig) {
    this.fleet = fleet;
    const core = kc.makeApiClient(CoreV1Api);
    this.core = core;
    this.informer = makeInformer<V1Node>(kc, "/api/v1/nodes", () => core.listNode());
  }

  static async start(fleet: Fleet, kc: KubeConfig): Promise<Recorder> {
    const recorder = new Recorder(fleet, kc);
    const onNode = (node: V1Node) => {
      const name = node.metadata?.name ?? "";
      if (node.spec?.unschedulable) recorder.cordoned.add(name);
      else recorder.cordoned.delete(name);
      if (node.spec?.unschedulable && !recorder.firstCordonAt.has(name))
        recorder.firstCordonAt.set(name, Date.now());
      if (node.spec?.unschedulable) recorder.wake(name);
      recorder.sample(`${name} ${node.spec?.unschedulable ? "cordoned" : "schedulable"}`);
    };
    recorder.informer.on("add", onNode);
    recorder.informer.on("update", onNode);
    // A deleted Node holds no cordon; its machine, if down, still counts.
    recorder.informer.on("delete", (node: V1Node) => {
      recorder.cordoned.delete(node.metadata?.name ?? "");
      recorder.sample(`${node.metadata?.name} deleted`);
    });
    recorder.informer.on("error", () => {
      // The informer stops on errors (e.g. a kube-apiserver restart); it re-lists after a pause.
      if (!recorder.stopped) setTimeout(() => void recorder.informer.start().catch(() => undefined), 500);
    });
    for (const machine of fleet.nodes()) {
      machine.listen({
        down: (m) => recorder.sample(`${m.hostname} down`),
        up: (m) => recorder.sample(`${m.hostname} up on ${m.version}`),
        reboot: (m) => {
          const seen = recorder.cordonedAtReboot.get(m.hostname) ?? [];
          recorder.cordonedAtReboot.set(m.hostname, seen);
          const index = seen.push(false) - 1;
          const read = recorder.core.readNode({ name: m.hostname }).then(
            (node) => {
              seen[index] = node.spec?.unschedulable === true;
            },
            () => undefined,
          );
          recorder.reads.push(read);
        },
      });
    }
    await recorder.informer.start();
    return recorder;
  }

  private sample(what: string): void {
    this.timeline.push(what);
    const down = (role: "controlplane" | "worker") =>
      this.fleet.nodes().filter((n) => n.identity.role === role && (!n.up || this.cordoned.has(n.hostname)))
        .length;
    this.maxControlPlanesDown = Math.max(this.maxControlPlanesDown, down("controlplane"));
    this.maxWorkersDown = Math.max(this.maxWorkersDown, down("worker"));
  }

  /** For each reboot call `node`'s machine took, whether its Node was cordoned then. */
  async cordonedWhenRebooted(node: string): Promise<boolean[]> {
    await Promise.all(this.reads);
    return [...(this.cordonedAtReboot.get(node) ?? [])];
  }

  /** Resolves as soon as the watch sees `node` cordoned (a moment to inject a fault at). */
  whenCordoned(node: string): Promise<void> {
    if (this.cordoned.has(node)) return Promise.resolve();
    return new Promise((resolve) => this.cordonWaiters.push({ node, resolve }));
  }

  private wake(node: string): void {
    for (const waiter of this.cordonWaiters.filter((w) => w.node === node)) {
      this.cordonWaiters.splice(this.cordonWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /**
   * Upgrade calls that reached each machine. An install of the version a machine runs (its own boot
   * entry written again, when a plan stops upgrading it after its install), and one whose entry a
   * later install replaced before any boot, take it nowhere: not counted.
   */
  upgradeCalls(): Record<string, number> {
    return Object.fromEntries(
      this.fleet
        .nodes()
        .map((n) => [
          n.hostname,
          n.calls.filter((c) => upgradeMethods.includes(c.method)).length -
            n.upgrades.filter((u) => u.reinstall || u.superseded).length,
        ]),
    );
  }

  /** Machine configuration patches (ApplyConfiguration calls) that reached each machine. */
  configPatches(): Record<string, number> {
    return Object.fromEntries(
      this.fleet
        .nodes()
        .map((n) => [n.hostname, n.calls.filter((c) => c.method === applyConfiguration).length]),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }
}
