// machine.ImageService.Pull and machine.LifecycleService.Upgrade (Talos ≥ v1.13): pull the
// installer into containerd, then install it to the other boot entry. No reboot, no etcd checks.
import { status } from "@grpc/grpc-js";
import { type Message, RpcError, type ServiceImplementation } from "./handlers.ts";
import { installation } from "./install.ts";

function containerdKey(request: Message): string {
  const containerd = (request.containerd ?? {}) as { driver?: string; namespace?: string };
  return `${containerd.driver ?? "CONTAINERD"}:${containerd.namespace ?? "NS_UNKNOWN"}`;
}

export const imageService: ServiceImplementation = {
  stream: {
    Pull: async ({ node, fleet, onAbort }, request, write) => {
      const reference = String(request.imageRef ?? "");
      const failure = await node.pull(
        containerdKey(request),
        reference,
        (r) => fleet.registry.pullError(r),
        onAbort,
      );
      if (failure) throw new RpcError(status.INTERNAL, failure);
      write({
        pullProgress: {
          layerId: "sha256:0001",
          progress: { status: "DOWNLOAD_COMPLETE", offset: "1", total: "1" },
        },
      });
      write({ name: reference });
    },
  },
};

export const lifecycleService: ServiceImplementation = {
  stream: {
    Upgrade: async ({ node, fleet }, request, write) => {
      const source = (request.source ?? {}) as { imageName?: string };
      const reference = source.imageName ?? "";
      if (node.installing) {
        throw new RpcError(status.FAILED_PRECONDITION, "another installation/upgrade is already in progress");
      }
      if (!node.pulled.has(`${containerdKey(request)}/${reference}`)) {
        write({ progress: { message: `image "${reference}" not found in containerd` } });
        write({ progress: { exitCode: 1 } });
        return;
      }
      const resolved = fleet.registry.resolveInstaller(reference);
      if ("error" in resolved) {
        write({ progress: { message: resolved.error } });
        write({ progress: { exitCode: 1 } });
        return;
      }
      node.installing = true;
      try {
        write({ progress: { message: "running installer in upgrade mode" } });
        await node.installTime();
        node.installed(installation(fleet, node, reference, resolved.version, "lifecycle"));
        write({ progress: { message: `installed ${resolved.version} to the fallback boot entry` } });
        write({ progress: { exitCode: 0 } });
      } finally {
        node.installing = false;
      }
    },
  },
};
