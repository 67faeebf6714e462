// One simulated Talos machine: its identity, running version, A/B boot state, services, event log
// and the upgrade and reboot sequences, with the faults a test can inject.
import { randomUUID } from "node:crypto";
import { EventLog } from "./events.ts";

export type Role = "controlplane" | "worker";
export type Bootloader = "grub" | "sd-boot";
export type MachineStage = "BOOTING" | "RUNNING" | "REBOOTING" | "UPGRADING" | "SHUTTING_DOWN";

export interface NodeIdentity {
  hostname: string;
  address: string;
  role: Role;
  platform: string;
  /** The Image Factory schematic the machine booted, "" when its image came from no factory. */
  schematic: string;
  /**
   * ExtensionStatuses: each system extension by the name Talos reports (`iscsi-tools`); a factory
   * image adds the `schematic` entry, its version the schematic ID and its author the factory.
   */
  extensions: { name: string; version: string; image: string; author?: string }[];
  /** Booted with SecureBoot (SecurityStates). */
  secureBoot: boolean;
  /** The Image Factory that built the schematic, as its API URL (ImageFactorySchematic, v1.14+). */
  factoryUrl: string;
  /** The bootloader: sd-boot (UKIs) by default on a SecureBoot machine, else GRUB. */
  bootloader?: Bootloader;
}

/** What an upgrade writes to the other boot entry, booted by the next reboot. */
export interface Installation {
  version: string;
  /** The installer reference; absent when a caller installs a bare version. */
  image?: string;
  /** The image identity the new entry boots with; absent: the machine's own is kept. */
  identity?: Pick<NodeIdentity, "platform" | "schematic" | "extensions" | "factoryUrl">;
  /** A `-secureboot` installer (signed UKIs); absent: not known. */
  secureBoot?: boolean;
  /** The kernel command line of the new entry; absent: the running one is kept. */
  cmdline?: string[];
}

/** One upgrade call the machine took: MachineService.Upgrade or LifecycleService.Upgrade. */
export interface UpgradeRecord {
  api: "legacy" | "lifecycle";
  image: string;
  /** MachineService.Upgrade with `stage`: installed early in the next boot. */
  stage: boolean;
  /** When the call was taken (ms since the epoch). */
  at: number;
  /** A lifecycle install of the version the machine runs: its own boot entry written again. */
  reinstall?: boolean;
  /** A lifecycle install whose boot entry a later install replaced before any boot took it. */
  superseded?: boolean;
  /** How long the sequence's own cordon and drain took (the `drain` phase, with a cluster to drain in). */
  drainMs?: number;
}

/**
 * What machined does to the cluster in the legacy upgrade's `drain` phase (CordonAndDrainNode):
 * set by the kubelet stand-in, absent for a fleet without Kubernetes (the phase then ends at once).
 */
export type MachineDrain = (node: SimNode) => Promise<void>;

/** A machine's bootloader: as given, else sd-boot with SecureBoot and GRUB without. */
export function bootloaderOf(identity: NodeIdentity): Bootloader {
  return identity.bootloader ?? (identity.secureBoot ? "sd-boot" : "grub");
}

/** A few of the parameters every Talos boot entry has, for a platform. */
export function talosCmdline(platform: string): string[] {
  return [
    `talos.platform=${platform}`,
    "console=tty0",
    "init_on_alloc=1",
    "slab_nomerge",
    "pti=on",
    "consoleblank=0",
    "nvme_core.io_timeout=4294967295",
    "printk.devkmsg=on",
    "selinux=1",
  ];
}

/** The machine config's `machine.install` switches that shape a boot entry's command line. */
export interface InstallOptions {
  extraKernelArgs: string[];
  grubUseUKICmdline: boolean;
}

/**
 * The command line an installer writes for a boot entry. GRUB takes Talos' parameters plus
 * `machine.install.extraKernelArgs`, unless `grubUseUKICmdline` makes it use the UKI's own. With
 * sd-boot the command line is the one inside the UKI: extraKernelArgs are ignored. Talos
 * v1.13/1.14's LifecycleService.Upgrade does not pass extraKernelArgs to the installer, so on GRUB
 * without the UKI command line an entry it writes lacks them; MachineService.Upgrade passes them.
 */
export function bootCmdline(
  platform: string,
  bootloader: Bootloader,
  options: InstallOptions,
  api: "legacy" | "lifecycle",
): string[] {
  const applies = bootloader === "grub" && !options.grubUseUKICmdline && api === "legacy";
  return [...talosCmdline(platform), ...(applies ? options.extraKernelArgs : [])];
}

export interface Timing {
  /** Time from the reboot call until the machine answers again. */
  rebootMs: number;
  /**
   * Time from answering Upgrade or Reboot until the sequence starts (the stage changes): Talos
   * answers first and runs the sequence after, so a client that asks again at once still sees
   * RUNNING. A second call in that window is accepted as Talos accepts it; tests count it.
   */
  sequenceDelayMs: number;
  /** Time the installer takes to write the new boot entry. */
  installMs: number;
  /** Gap between consecutive sequence steps (events). */
  stepMs: number;
  /** How long the kubelet service is gone when Talos restarts it for a new image. */
  kubeletRestartMs: number;
  /** Time an image pull takes before it answers (a registry far away, a large installer). */
  pullMs: number;
}

export interface Faults {
  /** Image pulls on this node fail as if the registry refused them. */
  pullFailure?: boolean;
  /** The next boot into a new version fails; Talos' A/B fallback boots the old version again. */
  bootFailure?: boolean;
  /** After the next reboot the machine never answers again. */
  neverReturns?: boolean;
  /**
   * The machine takes calls and answers none of them, its connections still up (machined hung, a
   * kernel stalled on a disk): a call ends only when its caller gives up.
   */
  hung?: boolean;
  /** Extra boot time, on top of Timing.rebootMs. */
  slowBootMs?: number;
  /** etcd on this node reports errors (a failed quorum read) / an alarm. */
  etcdUnhealthy?: boolean;
  etcdAlarm?: "NOSPACE" | "CORRUPT";
  /** etcd on this node is a learner: a member still catching up, which does not vote. */
  etcdLearner?: boolean;
  /** The kubelet does not report Ready after boot. */
  kubeletNotReady?: boolean;
  /**
   * The apiserver refuses machined's kubelet credentials (an expired client certificate): the
   * legacy upgrade's `drain` phase cannot list the Node's pods, and the sequence fails there.
   */
  machinedKubeRefused?: boolean;
  /**
   * The legacy upgrade's `drain` phase takes this much longer (a pod held by its budget or a slow
   * shutdown): the sequence holds machined's lock meanwhile.
   */
  drainHoldMs?: number;
  /**
   * Someone's reboot (a `talosctl reboot` moments earlier) reaches machined just before the next
   * legacy Upgrade call: the reboot's sequence holds the lock, so Talos acks the upgrade and never
   * starts it. Once: the fault is spent by that call.
   */
  rebootedBeforeUpgrade?: boolean;
  /** ApplyConfiguration fails with this message. */
  applyConfigurationError?: string;
  /** This control plane component's mirror pod never becomes Ready (a bad flag, a crash loop). */
  staticPodNotReady?: "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";
  /** Problems machined's diagnostics controller reports, served as Diagnostics.runtime.talos.dev. */
  diagnostics?: Diagnostic[];
  /**
   * MachineService.EtcdSnapshot on this control plane fails before any byte, with INTERNAL
   * `failed reading etcd snapshot: <this message>`, as when machined cannot start reading etcd's snapshot.
   */
  etcdSnapshotError?: string;
  /**
   * MachineService.EtcdSnapshot on this control plane sends only this many bytes of the snapshot and
   * then ends OK, as machined does when reading etcd's snapshot fails midway (it only logs the error).
   */
  etcdSnapshotTruncate?: number;
}

/**
 * A Talos diagnostic: `id` is the resource ID, a check's semantic name (Talos has "address-overlap"
 * and "kubelet-csr"); `message` and `details` are DiagnosticSpec's fields.
 */
export interface Diagnostic {
  id: string;
  message: string;
  details?: string[];
}

/**
 * How late one of a machine's sequence timers fired. A busy event loop (the simulator sharing its
 * process with a bench) fires timers late, and every figure measured against the nominal timing
 * grows with it.
 */
/** When a sequence's last timer was due (performance.now()): its timers count from there. */
interface SequenceClock {
  due: number;
}

export interface TimerLag {
  /** "reboot": down until apid answers again; "step": the other timers of a sequence. */
  timer: "reboot" | "step";
  nominalMs: number;
  /** Fired − due (on a sequence's clock); never below 0 (Node may fire a timer a fraction of a ms early). */
  lateMs: number;
  /** When it fired (ms since the epoch). */
  at: number;
}

/** Memory (KiB) and EPHEMERAL volume size (bytes) of every machine: the kubelet stand-in's capacity. */
export const hardware = { memoryKiB: 16 * 1024 * 1024, ephemeralBytes: 100 * 1024 ** 3 };

export interface NodeListener {
  down?(node: SimNode): void;
  up?(node: SimNode): void;
  /** Talos took an upgrade call; told before the call is answered. */
  upgrade?(node: SimNode): void;
  /** Talos took a reboot call; told before the call is answered. */
  reboot?(node: SimNode): void;
  /** The machine configuration changed (ApplyConfiguration). */
  config?(node: SimNode): void;
  /** Something else a COSI watch may see changed (an injected fault). */
  state?(node: SimNode): void;
}

const seq = "machine.SequenceEvent";
const phase = "machine.PhaseEvent";
const task = "machine.TaskEvent";
const status = "machine.MachineStatusEvent";
const serviceEvent = "machine.ServiceStateEvent";

/** The sequences the Talos API starts, by the names machined's events give them. */
type LockedSequence = "upgrade" | "stageUpgrade" | "reboot";

/** MachineService.Upgrade's reboot modes. */
export type UpgradeRebootMode = "DEFAULT" | "POWERCYCLE";

/** A sequence's phase and its one task, as machined names them in its events. */
type Phase = [phase: string, task: string];

/** Pods, then services, stop; mounts and volumes are torn down (Talos names the unmount phase two ways). */
const stopPhases = (unmount: "unmount" | "umount"): Phase[] => [
  ["cleanup", "stopAllPods"],
  ["dbus", "stopDBus"],
  ["stopServices", "stopServicesForUpgrade"],
  [unmount, "unmountPodMounts"],
  ["unmountBind", "unmountSystemDiskBindMounts"],
  ["unmountSystem", "unmountEphemeralPartition"],
  ["volumeFinalize", "teardownLifecycle"],
];

/** The last phases of every sequence that reboots: kexec is prepared unless a power cycle was asked. */
const rebootEnd = (kexec: boolean): Phase[] => [
  ...(kexec ? [["kexec", "kexecPrepare"] as Phase] : []),
  ["stopEverything", "stopAllServices"],
  ["reboot", "reboot"],
];

/** Talos v1.12's upgrade sequence (Sequencer.Upgrade) on a machine registered with Kubernetes. */
function legacyUpgradePhases(kexec: boolean): Phase[] {
  return [
    ["drain", "cordonAndDrainNode"],
    ...stopPhases("unmount"),
    ["upgrade", "upgrade"],
    ["meta", "reloadMeta"],
    ...rebootEnd(kexec),
  ];
}

/** Talos v1.12's reboot and stageUpgrade sequences: pods and services stop, then the reboot. */
function stopAllPhases(kexec: boolean): Phase[] {
  return [...stopPhases("umount"), ...rebootEnd(kexec)];
}

/**
 * Steps of the legacy upgrade sequence with the DEFAULT reboot mode: its start and machine status,
 * each phase's start and stop, and the reboot phase's start. The install comes after the last.
 */
export const legacyUpgradeSteps = 2 + 2 * legacyUpgradePhases(true).length - 1;

/** One step of a sequence; one that returns a promise holds the sequence until it settles. */
type SequenceStep = () => unknown;

/** A boot: its ID, and its start to the nanosecond (no two boots of a machine share one). */
function newBoot(): { id: string; startedNs: bigint } {
  return {
    id: randomUUID(),
    startedNs: BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
  };
}

export class SimNode {
  readonly identity: NodeIdentity;
  readonly events = new EventLog();
  faults: Faults = {};
  version: string;
  private boot = newBoot();
  stage: MachineStage = "RUNNING";
  ready = true;
  /** apid answers; false while rebooting or during an injected outage. */
  up = true;

  /** The kernel's boot ID: a new one each boot. */
  get bootId(): string {
    return this.boot.id;
  }

  /**
   * When this boot started, in nanoseconds since the epoch. Talos keeps its resources in memory,
   * so each is created anew every boot: their `created` is of this boot, never of an earlier one.
   */
  get bootStartedNs(): bigint {
    return this.boot.startedNs;
  }
  /** What the other boot entry holds after an install, booted by the next reboot. */
  pendingInstall: Installation | undefined;
  /**
   * A staged upgrade (MachineService.Upgrade with `stage`): kept in META, installed early in the
   * next boot, which then reboots into it.
   */
  stagedInstall: Installation | undefined;
  /** Every upgrade call the machine took, in order. */
  readonly upgrades: UpgradeRecord[] = [];
  /**
   * Facts about boots that a real machine would not have booted well: a SecureBoot installer on a
   * machine without SecureBoot, or the other way round. The boot itself succeeds.
   */
  readonly bootProblems: string[] = [];
  /** The kernel command line the machine booted with (KernelCmdlines, /proc/cmdline). */
  cmdline: string[];
  /** Images pulled into containerd, by `<namespace>/<reference>`. */
  readonly pulled = new Set<string>();
  /** Every pull served: when it started and, once answered, when it ended (ms since the epoch). */
  readonly pulls: { reference: string; start: number; end?: number }[] = [];
  /** Node-local lock of the lifecycle installer, like the server's mutex. */
  installing = false;
  /** Calls served for this machine: method, time, and the caller's certificate Common Name. */
  /** Every call served to this machine; `subject` is what it read (a COSI type or a file). */
  readonly calls: { method: string; at: number; caller: string; subject?: string }[] = [];
  /** When a configuration applied to the machine changed a Kubernetes component's image. */
  readonly componentPatches: number[] = [];
  /** The mode of each Reboot call the machine took (DEFAULT, POWERCYCLE, FORCE). */
  readonly rebootModes: string[] = [];
  /** How late each timer of the upgrade and reboot sequences fired, in order. */
  readonly lag: TimerLag[] = [];
  /** Talos' own cordon and drain, run by the legacy upgrade sequence before it stops the pods. */
  drain: MachineDrain | undefined;
  private readonly timing: Timing;
  private readonly listeners: NodeListener[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /**
   * The sequence holding machined's lock: from its start to its failure, or to the next boot (a
   * failed one has let it go, whatever its stage says).
   */
  private running: LockedSequence | undefined;

  constructor(identity: NodeIdentity, version: string, timing: Timing, cmdline?: string[]) {
    this.identity = identity;
    this.version = version;
    this.timing = timing;
    this.cmdline = cmdline ?? talosCmdline(identity.platform);
    this.emitBoot("");
  }

  /** Version the other boot entry holds after an install, booted by the next reboot. */
  get pendingVersion(): string | undefined {
    return this.pendingInstall?.version;
  }

  get bootloader(): Bootloader {
    return bootloaderOf(this.identity);
  }

  get hostname(): string {
    return this.identity.hostname;
  }

  get address(): string {
    return this.identity.address;
  }

  get isControlPlane(): boolean {
    return this.identity.role === "controlplane";
  }

  listen(listener: NodeListener): void {
    this.listeners.push(listener);
  }

  /** Services being restarted: absent from the service list until they run again. */
  private readonly restarting = new Set<string>();

  serviceIds(): string[] {
    const ids = ["apid", "containerd", "cri", "kubelet", "machined", "udevd"];
    const all = this.isControlPlane ? [...ids, "etcd", "trustd"].sort() : ids;
    return all.filter((id) => !this.restarting.has(id));
  }

  /** Restarts a service (e.g. the kubelet after its image changed), as Talos does on a config change. */
  restartService(id: string, ms: number): void {
    this.restarting.add(id);
    this.events.emit(serviceEvent, { service: id, action: "STOPPING", message: "Service is restarting" });
    this.later(ms, () => {
      this.restarting.delete(id);
      this.events.emit(serviceEvent, {
        service: id,
        action: "RUNNING",
        message: "Service started as goroutine",
      });
    });
  }

  /** Services as ServiceList reports them: all running and healthy while the machine is up. */
  services(): { id: string; running: boolean; healthy: boolean }[] {
    return this.serviceIds().map((id) => {
      const healthy = this.ready && !(id === "etcd" && this.faults.etcdUnhealthy);
      return { id, running: this.stage === "RUNNING", healthy };
    });
  }

  /** What writing an installer to the other boot entry takes (Timing.installMs), as the legacy sequence's install. */
  async installTime(): Promise<void> {
    await new Promise((resolve) => this.later(this.timing.installMs, () => resolve(undefined)));
  }

  /**
   * Pulls an image into a containerd namespace, taking Timing.pullMs; resolves the failure reason or
   * undefined. A pull whose call ends first (`onAbort`) stops there, as containerd's pull does when
   * its request context is cancelled, and pulls nothing.
   */
  async pull(
    namespace: string,
    reference: string,
    pullError: (ref: string) => string | undefined,
    onAbort: (listener: () => void) => void,
  ): Promise<string | undefined> {
    const span: { reference: string; start: number; end?: number } = { reference, start: Date.now() };
    this.pulls.push(span);
    let aborted = false;
    if (this.timing.pullMs > 0)
      await new Promise((resolve) => {
        this.later(this.timing.pullMs, () => resolve(undefined));
        onAbort(() => {
          aborted = true;
          resolve(undefined);
        });
      });
    span.end = Date.now();
    if (aborted) return "context canceled";
    if (this.faults.pullFailure) return `failed to pull image "${reference}": not found`;
    const failure = pullError(reference);
    if (failure) return failure;
    this.pulled.add(`${namespace}/${reference}`);
    return undefined;
  }

  /**
   * The legacy upgrade sequence (MachineService.Upgrade), run after the RPC has answered: `upgrade`,
   * or with `stage` Talos' `stageUpgrade` (record the image, stop, reboot; install in the next boot).
   */
  startLegacyUpgrade(
    target: string | Installation,
    actorId: string,
    options: { stage?: boolean; rebootMode?: UpgradeRebootMode } = {},
  ): void {
    const install = typeof target === "string" ? { version: target } : target;
    const stage = options.stage === true;
    const mode = options.rebootMode ?? "DEFAULT";
    this.upgrades.push({ api: "legacy", image: install.image ?? "", stage, at: Date.now() });
    this.notify((listener) => listener.upgrade?.(this));
    this.afterAnswer(stage ? "stageUpgrade" : "upgrade", (clock) =>
      stage
        ? this.runStageUpgrade(install, actorId, clock, mode)
        : this.runLegacyUpgrade(install, actorId, clock, mode),
    );
  }

  /** LifecycleService.Upgrade: the installer has written the other boot entry; no reboot. */
  installed(install: Installation): void {
    const replaced = this.pendingInstall ? this.upgrades.findLast((u) => u.api === "lifecycle") : undefined;
    if (replaced) replaced.superseded = true;
    this.upgrades.push({
      api: "lifecycle",
      image: install.image ?? "",
      stage: false,
      at: Date.now(),
      ...(install.version === this.version ? { reinstall: true } : {}),
    });
    this.pendingInstall = install;
    this.notify((listener) => listener.upgrade?.(this));
  }

  /**
   * Runs a sequence once the RPC has answered, as machined does: the call is acked first, and a
   * machine already in a sequence keeps its own. The new one is then not started, which only a
   * NOOP event with no actor says (Talos publishes it outside the call's context): a caller that
   * follows its own actor's events sees nothing happen. A reboot asked during a reboot takes
   * over in Talos (the first is cancelled, the second runs); here the first one runs on and stands
   * for both, the machine rebooting once either way.
   */
  private afterAnswer(name: LockedSequence, sequence: (clock: SequenceClock) => void): void {
    const clock = { due: performance.now() };
    this.later(
      this.timing.sequenceDelayMs,
      () => {
        if (!this.up) return;
        if (this.running !== undefined) {
          if (name === "reboot" && this.running === "reboot") return;
          this.events.emit(seq, {
            sequence: name,
            action: "NOOP",
            error: { code: "LOCKED", message: "sequence not started: locked" },
          });
          return;
        }
        this.running = name;
        sequence(clock);
      },
      "step",
      clock,
    );
  }

  private runLegacyUpgrade(
    install: Installation,
    actorId: string,
    clock: SequenceClock,
    rebootMode: UpgradeRebootMode,
  ): void {
    this.stage = "UPGRADING";
    this.ready = false;
    const record = this.upgrades.at(-1);
    const phases = legacyUpgradePhases(rebootMode === "DEFAULT");
    const steps = this.sequenceSteps("upgrade", phases, actorId, (name) => {
      if (name === "upgrade") this.pendingInstall = install;
      if (name !== "drain") return undefined;
      if (this.faults.machinedKubeRefused)
        return Promise.reject(new Error(`cannot get pods for node ${this.hostname}: Unauthorized`));
      const held = this.faults.drainHoldMs;
      const { drain } = this;
      // Without a cluster the phase has nothing to do, and the sequence keeps its plain timers.
      const drained = () => (drain ? this.drainNow(drain, record) : undefined);
      return held ? new Promise<void>((resolve) => this.later(held, resolve)).then(drained) : drained();
    });
    this.runSteps(
      steps,
      () => this.goDown(actorId, clock),
      this.timing.installMs,
      clock,
      (error) =>
        // The drain is the sequence's first phase: the only one here that can fail.
        this.sequenceFailed("upgrade", 1, phases[0] as Phase, error, actorId),
    );
  }

  /**
   * A sequence's steps: its start and the machine's status, then each phase's start (with its
   * task's) and stop; the reboot phase only starts. `started` runs at each phase's start (a
   * promise holds the sequence). In an upgrade, the kexec phase's start is what MachineStatus
   * shows as REBOOTING.
   */
  private sequenceSteps(
    sequence: string,
    phases: Phase[],
    actorId: string,
    started: (phase: string) => unknown = () => undefined,
  ): SequenceStep[] {
    const steps: SequenceStep[] = [
      () => this.events.emit(seq, { sequence, action: "START" }, actorId),
      () => this.emitStatus(actorId),
    ];
    for (const [name, taskName] of phases) {
      steps.push(() => {
        this.events.emit(phase, { phase: name, action: "START" }, actorId);
        this.events.emit(task, { task: taskName, action: "START" }, actorId);
        if (name === "kexec" && this.stage === "UPGRADING") {
          this.stage = "REBOOTING";
          this.emitStatus(actorId);
        }
        return started(name);
      });
      if (name === "reboot") break;
      steps.push(() => {
        this.events.emit(task, { task: taskName, action: "STOP" }, actorId);
        this.events.emit(phase, { phase: name, action: "STOP" }, actorId);
      });
    }
    return steps;
  }

  /**
   * A task failed, as machined reports it: the task, phase and sequence stop, then a FATAL error
   * that MachineStatus shows as REBOOTING. The upgrade API's sequence reboots nothing on failure:
   * the machine keeps running its version, with its pods, and takes the next sequence asked of it.
   */
  private sequenceFailed(
    sequence: string,
    phaseNumber: number,
    [phaseName, taskName]: Phase,
    error: unknown,
    actorId: string,
  ): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.events.emit(task, { task: taskName, action: "STOP" }, actorId);
    this.events.emit(phase, { phase: phaseName, action: "STOP" }, actorId);
    this.events.emit(seq, { sequence, action: "STOP" }, actorId);
    this.events.emit(
      seq,
      {
        sequence,
        action: "NOOP",
        error: {
          code: "FATAL",
          message: `sequence failed: error running phase ${phaseNumber} in ${sequence} sequence: task 1/1: failed, ${reason}`,
        },
      },
      actorId,
    );
    this.pendingInstall = undefined;
    this.stage = "REBOOTING";
    this.running = undefined;
    this.emitStatus(actorId);
  }

  /**
   * Talos' stageUpgrade sequence: the image goes to META (StagedUpgradeImageRef), pods and
   * services stop and the machine reboots; the install runs early in the next boot.
   */
  private runStageUpgrade(
    install: Installation,
    actorId: string,
    clock: SequenceClock,
    rebootMode: UpgradeRebootMode,
  ): void {
    this.stage = "UPGRADING";
    this.ready = false;
    this.stagedInstall = install;
    const steps = this.sequenceSteps("stageUpgrade", stopAllPhases(rebootMode === "DEFAULT"), actorId);
    this.runSteps(steps, () => this.goDown(actorId, clock), 0, clock);
  }

  /**
   * The reboot sequence (MachineService.Reboot): stop everything, then boot the pending entry; a
   * FORCE reboot skips straight to the reboot.
   */
  startReboot(actorId: string, mode = "DEFAULT"): void {
    this.notify((listener) => listener.reboot?.(this));
    this.afterAnswer("reboot", (clock) => this.runReboot(actorId, clock, mode));
  }

  private runReboot(actorId: string, clock: SequenceClock, mode: string): void {
    this.stage = "REBOOTING";
    this.ready = false;
    const phases = mode === "FORCE" ? [["reboot", "reboot"] as Phase] : stopAllPhases(true);
    this.runSteps(this.sequenceSteps("reboot", phases, actorId), () => this.goDown(actorId, clock), 0, clock);
  }

  /** Tells listeners (the kubelet stand-in, COSI watches) that the machine configuration changed. */
  configChanged(): void {
    this.notify((listener) => listener.config?.(this));
  }

  /** Tells COSI watches that what they serve may have changed (faults were injected). */
  stateChanged(): void {
    this.notify((listener) => listener.state?.(this));
  }

  /** /proc/meminfo as MachineService.Memory reports it, in KiB. */
  meminfo(): Record<string, number> {
    const total = hardware.memoryKiB;
    return {
      memtotal: total,
      memfree: Math.floor(total * 0.6),
      memavailable: Math.floor(total * 0.8),
      buffers: 65_536,
      cached: Math.floor(total * 0.15),
      hugepagesize: 2048,
    };
  }

  /** Calls `fn` on every change a COSI watch may see: machine events, configuration and faults. */
  watchState(fn: () => void): () => void {
    const unsubscribe = this.events.subscribe(fn);
    const listener: NodeListener = { config: fn, state: fn };
    this.listeners.push(listener);
    return () => {
      unsubscribe();
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Makes apid unreachable for a while, the machine itself untouched (an injected outage). */
  apidOutage(ms: number): void {
    this.setUp(false);
    this.later(ms, () => this.setUp(true));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private goDown(actorId: string, clock: SequenceClock): void {
    this.setUp(false);
    this.stage = "BOOTING";
    if (this.faults.neverReturns) return;
    this.later(
      this.timing.rebootMs + (this.faults.slowBootMs ?? 0),
      () => this.bootNext(actorId, clock),
      "reboot",
      clock,
    );
  }

  private bootNext(actorId: string, clock: SequenceClock): void {
    const staged = this.stagedInstall;
    if (staged) {
      // A staged upgrade: this boot runs the installer, then reboots (kexec) into the new entry.
      this.stagedInstall = undefined;
      this.pendingInstall = staged;
      this.boot = newBoot();
      this.later(
        this.timing.installMs + this.timing.rebootMs,
        () => this.bootNext(actorId, clock),
        "reboot",
        clock,
      );
      return;
    }
    const install = this.pendingInstall;
    this.pendingInstall = undefined;
    if (install && install.version !== this.version && this.faults.bootFailure) {
      // A/B: the new entry fails to boot; the bootloader is reverted and the old version boots.
      this.faults.bootFailure = false;
      this.boot = newBoot();
      this.later(this.timing.rebootMs, () => this.bootNext(actorId, clock), "reboot", clock);
      return;
    }
    if (install) this.adopt(install);
    this.boot = newBoot();
    this.events.clear();
    this.setUp(true);
    this.emitBoot(actorId);
    if (install) this.stateChanged();
  }

  /** Boots into a newly installed entry: its version, and the image identity its installer wrote. */
  private adopt(install: Installation): void {
    this.version = install.version;
    if (install.cmdline) this.cmdline = [...install.cmdline];
    if (install.identity) Object.assign(this.identity, install.identity);
    const image = install.image ?? `the installer of ${install.version}`;
    if (install.secureBoot === true && !this.identity.secureBoot) {
      this.bootProblems.push(
        `${image}: a SecureBoot installer booted on a machine that did not boot with SecureBoot`,
      );
    }
    if (install.secureBoot === false && this.identity.secureBoot) {
      this.bootProblems.push(
        `${image}: an installer without SecureBoot booted on a machine with SecureBoot, whose firmware refuses unsigned boot entries`,
      );
    }
  }

  private emitBoot(_actorId: string): void {
    this.running = undefined;
    this.stage = "BOOTING";
    this.ready = false;
    this.events.emit(seq, { sequence: "boot", action: "START" });
    this.emitStatus("");
    for (const service of this.serviceIds()) {
      this.events.emit(serviceEvent, { service, action: "RUNNING", message: "Service started as goroutine" });
    }
    this.events.emit(seq, { sequence: "boot", action: "STOP" });
    this.stage = "RUNNING";
    this.ready = !this.faults.kubeletNotReady;
    this.emitStatus("");
  }

  emitStatus(actorId: string): void {
    const unmet = this.ready ? [] : [{ name: "nodeReady", reason: "node is not ready" }];
    this.events.emit(
      status,
      { stage: this.stage, status: { ready: this.ready, unmetConditions: unmet } },
      actorId,
    );
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.notify((listener) => (up ? listener.up : listener.down)?.(this));
  }

  /**
   * Every listener hears every change, from a copy of the list: a listener that unsubscribes
   * another (a watch ending because the machine went down) must not make the loop skip one.
   * One that throws is reported and does not silence the rest.
   */
  private notify(call: (listener: NodeListener) => void): void {
    for (const listener of [...this.listeners]) {
      try {
        call(listener);
      } catch (error) {
        console.error(
          `${this.hostname}: a listener failed: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
  }

  /**
   * The `drain` phase in a cluster: machined's cordon and drain; the time it took goes on the
   * upgrade's record. Evictions that fail are only logged (the hook's part); a cordon or pod list
   * that fails rejects, and fails the sequence.
   */
  private async drainNow(drain: MachineDrain, record: UpgradeRecord | undefined): Promise<void> {
    const started = performance.now();
    try {
      await drain(this);
    } finally {
      if (record) record.drainMs = performance.now() - started;
    }
  }

  /**
   * Runs a sequence's steps `stepMs` apart. A step that returns a promise (the drain, which waits
   * on the cluster) holds the sequence until it settles; the sequence's clock restarts then.
   */
  private runSteps(
    steps: SequenceStep[],
    done: () => void,
    extraMs: number,
    clock: SequenceClock,
    failed: (error: unknown) => void = () => undefined,
  ): void {
    let index = 0;
    const next = () => {
      if (this.stopped) return;
      const step = steps[index++];
      if (!step) {
        this.later(extraMs, done, "step", clock);
        return;
      }
      const waiting = step();
      if (!(waiting instanceof Promise)) {
        this.later(this.timing.stepMs, next, "step", clock);
        return;
      }
      waiting.then(
        () => {
          clock.due = performance.now();
          this.later(this.timing.stepMs, next, "step", clock);
        },
        (error: unknown) => {
          if (!this.stopped) failed(error);
        },
      );
    };
    next();
  }

  /**
   * Runs `fn` after `ms` unless the machine stopped; a sequence's timer records how late it fired.
   * On a sequence's clock, `ms` counts from when its previous timer was due, not from now: a
   * timer that fired late (a busy process) does not push the rest back, as a real machine's
   * upgrade takes its own time whatever the host that simulates it is doing.
   */
  private later(ms: number, fn: () => void, sequence?: TimerLag["timer"], clock?: SequenceClock): void {
    const due = (clock?.due ?? performance.now()) + ms;
    if (clock) clock.due = due;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.stopped) return;
        if (sequence) {
          const lateMs = Math.max(0, performance.now() - due);
          this.lag.push({ timer: sequence, nominalMs: ms, lateMs, at: Date.now() });
        }
        fn();
      },
      Math.max(0, due - performance.now()),
    );
    this.timers.add(timer);
  }
}
