// machine.MachineService as machined serves it, over a simulated node.
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { status } from "@grpc/grpc-js";
import { encodeMessage } from "../../src/talos/proto.ts";
import { takeEtcdSnapshot } from "./etcd-snapshot.ts";
import { type FleetEvent, nextId } from "./events.ts";
import {
  type CallContext,
  type FleetView,
  type Message,
  RpcError,
  type ServiceImplementation,
  timestamp,
} from "./handlers.ts";
import { installation } from "./install.ts";
import { installErrors, installOptions } from "./machine-config.ts";
import type { SimNode } from "./node.ts";
import { compareVersions } from "./versions.ts";

/** A gzipped tar archive of one file, as Talos streams the kubeconfig. */
function tarGz(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) => header.write(text, offset, length, "ascii");
  field(name, 0, 100);
  field("0000600\0", 100, 8);
  field("0000000\0", 108, 8);
  field("0000000\0", 116, 8);
  field(`${body.length.toString(8).padStart(11, "0")}\0`, 124, 12);
  field(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
    12,
  );
  field("        ", 148, 8);
  field("0", 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  const sum = header.reduce((total, byte) => total + byte, 0);
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return gzipSync(Buffer.concat([header, body, padding, Buffer.alloc(1024)]));
}

function requireUp(node: SimNode): void {
  if (!node.up) throw new RpcError(status.UNAVAILABLE, `connection to ${node.address}:50000 refused`);
}

/**
 * Control planes only. With `api` (the name machined gives the call), a worker answers as machined's
 * control plane check does: Unimplemented, "<api> is only available on control plane nodes".
 */
function requireControlPlane(node: SimNode, api?: string): void {
  if (node.isControlPlane) return;
  if (api) throw new RpcError(status.UNIMPLEMENTED, `${api} is only available on control plane nodes`);
  throw new RpcError(status.FAILED_PRECONDITION, "etcd is not running on this node");
}

/** machined streams a snapshot (as any file) in chunks of this size. */
const snapshotChunkBytes = 1024;
/** Chunks written between two turns of the event loop, so that a long snapshot does not hold it. */
const chunksPerTurn = 64;

/** A live snapshot of the fleet's etcd, failing as machined does when it cannot read one. */
async function etcdSnapshot(fleet: FleetView): Promise<Buffer> {
  if (!fleet.etcdUrl) {
    throw new RpcError(
      status.FAILED_PRECONDITION,
      "the simulator has no etcd to snapshot: start the fleet with the etcdUrl of a real etcd",
    );
  }
  try {
    return await takeEtcdSnapshot(fleet.etcdUrl);
  } catch (error) {
    // machined wraps the etcd client's error; its gRPC code, if it has one, goes through.
    const code =
      typeof (error as { code?: unknown }).code === "number"
        ? (error as { code: status }).code
        : status.INTERNAL;
    const message =
      (error as { details?: string }).details ?? (error instanceof Error ? error.message : String(error));
    throw new RpcError(code, `failed reading etcd snapshot: ${message}`);
  }
}

function eventMessage(event: FleetEvent): Message {
  return {
    id: event.id,
    actorId: event.actorId,
    data: { type_url: `talos/runtime/${event.type}`, value: encodeMessage(event.type, event.payload) },
  };
}

/** The alarms raised in the etcd cluster: one per control plane with an alarm fault. */
function etcdAlarms(fleet: FleetView): { memberId: string; alarm: string }[] {
  return fleet
    .nodes()
    .filter((n) => n.isControlPlane && n.faults.etcdAlarm)
    .map((n) => ({ memberId: BigInt(`0x${fleet.memberId(n)}`).toString(), alarm: n.faults.etcdAlarm ?? "" }));
}

/** The etcd pre-checks of the legacy Upgrade on control plane nodes (ValidateForUpgrade). */
function etcdPreChecks(ctx: CallContext): void {
  const members = ctx.fleet.nodes().filter((n) => n.isControlPlane);
  if (members.length === 2) {
    throw new RpcError(
      status.FAILED_PRECONDITION,
      "etcd member count (2) is insufficient to maintain quorum",
    );
  }
  for (const member of members) {
    if (!member.up) {
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `etcd member ${ctx.fleet.memberId(member)} is not started`,
      );
    }
    if (member.faults.etcdUnhealthy) {
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `etcd member ${member.hostname} failed the quorum read: context deadline exceeded`,
      );
    }
  }
}

export const machineService: ServiceImplementation = {
  envelope: {
    Version: ({ node }) => ({
      version: {
        tag: node.version,
        sha: "simulated",
        built: "",
        goVersion: "go1.25",
        os: "linux",
        arch: "amd64",
      },
      platform: { name: node.identity.platform, mode: "metal" },
      features: { rbac: true },
    }),
    Hostname: ({ node }) => ({ hostname: node.hostname }),
    Memory: ({ node }) => ({ meminfo: node.meminfo() }),
    ServiceList: ({ node }) => ({
      services: node.services().map((s) => ({
        id: s.id,
        state: s.running ? "Running" : "Waiting",
        events: { events: [{ msg: "Service started", state: "Running", ts: timestamp(Date.now()) }] },
        health: { unknown: false, healthy: s.healthy, lastMessage: "", lastChange: timestamp(Date.now()) },
      })),
    }),
    Upgrade: (ctx, request) => {
      const { node, fleet } = ctx;
      const image = String(request.image ?? "");
      const resolved = fleet.registry.resolveInstaller(image);
      if ("error" in resolved || node.faults.pullFailure) {
        throw new RpcError(
          status.INTERNAL,
          "error" in resolved ? resolved.error : `failed to pull image "${image}"`,
        );
      }
      // v1.14 skips the etcd checks when preserve is set; every version skips them with force.
      const preserveSkips =
        Boolean(request.preserve) && compareVersions(node.version, "v1.14.0-alpha.0") >= 0;
      if (node.isControlPlane && !request.force && !preserveSkips) etcdPreChecks(ctx);
      if (node.faults.rebootedBeforeUpgrade) {
        node.faults.rebootedBeforeUpgrade = false;
        node.startReboot(randomUUID());
      }
      const actorId = randomUUID();
      // With `stage`, Talos runs its stageUpgrade sequence: the install happens in the next boot.
      node.startLegacyUpgrade(installation(fleet, node, image, resolved.version, "legacy"), actorId, {
        stage: Boolean(request.stage),
        rebootMode: request.rebootMode === "POWERCYCLE" ? "POWERCYCLE" : "DEFAULT",
      });
      return { ack: "Upgrade request received", actorId };
    },
    Reboot: ({ node }, request) => {
      const mode = String(request.mode ?? "DEFAULT");
      // FORCE came with Talos v1.12; an older machine does not know the mode.
      if (mode === "FORCE" && compareVersions(node.version, "v1.12.0") < 0)
        throw new RpcError(status.INVALID_ARGUMENT, `unsupported reboot mode ${mode}`);
      node.rebootModes.push(mode);
      const actorId = randomUUID();
      node.startReboot(actorId, mode);
      return { actorId };
    },
    Rollback: ({ node }) => {
      node.pendingInstall = undefined;
      return {};
    },
    EtcdMemberList: ({ node, fleet }) => {
      requireControlPlane(node);
      return {
        legacyMembers: [],
        members: [
          ...fleet
            .nodes()
            .filter((n) => n.isControlPlane && !fleet.etcdDrift.removed.includes(n.hostname))
            .map((member) => ({
              id: BigInt(`0x${fleet.memberId(member)}`).toString(),
              hostname: member.hostname,
              peerUrls: [`https://${member.address}:2380`],
              clientUrls: [`https://${member.address}:2379`],
              isLearner: member.faults.etcdLearner === true,
            })),
          // A member whose machine is gone: listed, never answering.
          ...fleet.etcdDrift.stale.map((hostname, i) => ({
            id: String(9_000_000_000 + i),
            hostname,
            peerUrls: [`https://192.0.2.${i + 1}:2380`],
            clientUrls: [`https://192.0.2.${i + 1}:2379`],
            isLearner: false,
          })),
        ],
      };
    },
    EtcdStatus: ({ node, fleet }) => {
      requireControlPlane(node);
      const leader = fleet.nodes().find((n) => n.isControlPlane && n.up && !n.faults.etcdUnhealthy);
      return {
        memberStatus: {
          memberId: BigInt(`0x${fleet.memberId(node)}`).toString(),
          protocolVersion: "3.6.0",
          storageVersion: "3.6.0",
          dbSize: "20971520",
          dbSizeInUse: "10485760",
          leader: leader ? BigInt(`0x${fleet.memberId(leader)}`).toString() : "0",
          raftIndex: "1000",
          raftTerm: "2",
          raftAppliedIndex: "1000",
          // As etcd's Status: a missing leader, then every alarm raised in the cluster (AlarmMember's text).
          errors: [
            ...(node.faults.etcdUnhealthy ? ["etcdserver: request timed out"] : []),
            ...(leader ? [] : ["etcdserver: no leader"]),
            ...etcdAlarms(fleet).map(({ memberId, alarm }) => `memberID:${memberId} alarm:${alarm} `),
          ],
          isLearner: node.faults.etcdLearner === true,
        },
      };
    },
    EtcdAlarmList: ({ node, fleet }) => {
      requireControlPlane(node);
      return { memberAlarms: etcdAlarms(fleet) };
    },
    EtcdForfeitLeadership: ({ node, fleet }) => {
      requireControlPlane(node);
      const other = fleet.nodes().find((n) => n.isControlPlane && n !== node && n.up);
      return { member: other ? fleet.memberId(other) : "" };
    },
    ApplyConfiguration: ({ node, fleet }, request) => {
      if (node.faults.applyConfigurationError) {
        throw new RpcError(status.INVALID_ARGUMENT, node.faults.applyConfigurationError);
      }
      const data = Buffer.from((request.data as Uint8Array | undefined) ?? []).toString("utf8");
      if (!/^\s*version:\s*v1alpha1\b/m.test(data)) {
        throw new RpcError(status.INVALID_ARGUMENT, "the v1alpha1 configuration document is missing");
      }
      const invalid = installErrors(installOptions(data));
      if (invalid.length > 0) {
        throw new RpcError(
          status.INVALID_ARGUMENT,
          `configuration validation failed: ${invalid.length} error occurred:\n${invalid.map((e) => `\t* ${e}`).join("\n")}\n\n`,
        );
      }
      const mode = String(request.mode ?? "REBOOT");
      if (mode === "REBOOT" && compareVersions(node.version, "v1.14.0-alpha.0") >= 0) {
        throw new RpcError(
          status.UNIMPLEMENTED,
          "apply mode REBOOT is not supported outside maintenance mode",
        );
      }
      if (!request.dryRun) fleet.setMachineConfig(node, data);
      return {
        warnings: [],
        mode: mode === "AUTO" ? "NO_REBOOT" : mode,
        modeDetails: "Applied configuration without a reboot",
      };
    },
    ImagePull: async ({ node, fleet, onAbort }, request) => {
      const reference = String(request.reference ?? "");
      const failure = await node.pull(
        String(request.namespace ?? "NS_SYSTEM"),
        reference,
        (r) => fleet.registry.pullError(r),
        onAbort,
      );
      if (failure) throw new RpcError(status.INTERNAL, failure);
      return {};
    },
  },
  stream: {
    Events: async (ctx, request, write) => {
      const { node } = ctx;
      requireUp(node);
      const tail = {
        tailEvents: Number(request.tailEvents ?? 0),
        tailId: String(request.tailId ?? ""),
        tailSeconds: Number(request.tailSeconds ?? 0),
      };
      const actor = String(request.withActorId ?? "");
      const wanted = (e: FleetEvent) => actor === "" || e.actorId === actor;
      // machined's hello: an event of its own ID and the actor asked for, with no payload.
      write({ id: nextId(), actorId: actor, data: { type_url: "", value: Buffer.alloc(0) } });
      for (const event of node.events.backlog(tail)) if (wanted(event)) write(eventMessage(event));
      await new Promise<void>((resolve) => {
        const unsubscribe = node.events.subscribe((event) => {
          if (wanted(event)) write(eventMessage(event));
        });
        ctx.onAbort(() => {
          unsubscribe();
          resolve();
        });
      });
    },
    Kubeconfig: async ({ node, fleet }, _request, write) => {
      requireControlPlane(node);
      if (!fleet.kubeconfig) throw new RpcError(status.NOT_FOUND, "kubeconfig is not available yet");
      write({ bytes: tarGz("kubeconfig", fleet.kubeconfig) });
    },
    EtcdSnapshot: async (ctx, _request, write) => {
      const { node, fleet } = ctx;
      requireUp(node);
      requireControlPlane(node, "etcd snapshot");
      if (node.faults.etcdSnapshotError) {
        throw new RpcError(status.INTERNAL, `failed reading etcd snapshot: ${node.faults.etcdSnapshotError}`);
      }
      const snapshot = await etcdSnapshot(fleet);
      // etcdSnapshotTruncate: machined only logs a read error midway, so the stream ends OK but short.
      const length = Math.min(snapshot.length, node.faults.etcdSnapshotTruncate ?? snapshot.length);
      let gone = false;
      ctx.onAbort(() => {
        gone = true;
      });
      for (let at = 0, chunk = 0; at < length && !gone; at += snapshotChunkBytes, chunk++) {
        write({ bytes: snapshot.subarray(at, Math.min(at + snapshotChunkBytes, length)) });
        if (chunk % chunksPerTurn === chunksPerTurn - 1)
          await new Promise((resolve) => setImmediate(resolve));
      }
    },
    Read: async ({ node, fleet }, request, write) => {
      const path = String(request.path ?? "");
      const files: Record<string, () => string> = {
        "/proc/sys/kernel/random/boot_id": () => `${node.bootId}\n`,
        "/system/state/config.yaml": () => fleet.machineConfig(node),
      };
      const content = files[path];
      if (!content) throw new RpcError(status.NOT_FOUND, `open ${path}: no such file or directory`);
      write({ bytes: Buffer.from(content()) });
    },
  },
};
