// What the operator reads of each machine's image, over the wire with its own (os:admin, as
// upgrades need) credentials: the schematic and extensions, SecureBoot, the factory that built the schematic
// (from the schematic extension's author before Talos v1.14, ImageFactorySchematics from v1.14),
// and on GRUB machines the kernel arguments the lifecycle API would drop.
import type { TalosClient } from "../../src/talos/client.ts";
import { facts, imageFacts } from "../../src/talos/machine.ts";
import { Fleet } from "../../testkit/fleet/fleet.ts";
import { clientFor } from "../harness/talos-client.ts";

const gpu = "c".repeat(64);
const toolkit = { name: "nvidia-container-toolkit-production", version: "v1.17.0", image: "" };

describe("a machine's image facts, as the operator reads them", () => {
  let fleet: Fleet;
  let client: TalosClient;

  beforeAll(async () => {
    fleet = await Fleet.start({
      controlPlanes: 1,
      workers: 3,
      talosVersion: "v1.14.0",
      versions: { "cp-1": "v1.13.1" },
      images: {
        "cp-1": { factoryUrl: "https://images.corp.example:8443", schematic: gpu, extensions: [toolkit] },
        "worker-1": { factoryUrl: "https://images.corp.example:8443", secureBoot: true },
        "worker-2": { bootloader: "grub", kernelArgs: ["console=ttyS1,115200", "net.ifnames=0"] },
        "worker-3": { bootloader: "sd-boot" },
      },
    });
    client = clientFor(fleet.talosconfig.admin);
  });

  afterAll(async () => {
    client.close();
    await fleet.stop();
  });

  const factsOf = (short: string) => imageFacts(client, fleet.node(short).address);

  it("before v1.14: the factory named in the schematic extension's author", async () => {
    expect(await factsOf("cp-1")).toEqual({
      schematic: gpu,
      extensions: ["nvidia-container-toolkit-production"],
      secureBoot: false,
      bootedWithUKI: false,
      factory: "images.corp.example:8443",
      kernelArgs: [],
      grubUseUKICmdline: false,
    });
  });

  it("a machine known to run a Talos before v1.14 is not asked for the ImageFactorySchematic it cannot keep", async () => {
    const node = fleet.node("cp-1");
    const gets = async (runs?: Promise<string>) => {
      const before = node.calls.length;
      const read = await imageFacts(client, node.address, runs);
      return { read, gets: node.calls.slice(before).filter((c) => c.method.endsWith("/Get")).length };
    };
    const unknown = await gets();
    const known = await gets(Promise.resolve("v1.13.1"));
    // SecurityState and the configuration (GRUB, v1.13) both times; the factory's resource only
    // when the version is not known.
    expect(unknown.gets).toBe(3);
    expect(known.gets).toBe(2);
    expect(known.read).toEqual(unknown.read);
  });

  it("from v1.14: SecureBoot from SecurityStates, the factory from ImageFactorySchematics, no config read on a UKI boot", async () => {
    const facts = await factsOf("worker-1");
    expect(facts).toMatchObject({
      secureBoot: true,
      bootedWithUKI: true,
      factory: "images.corp.example:8443",
    });
    expect(facts.kernelArgs).toBeUndefined();
  });

  it("on GRUB: the machine configuration's kernel arguments", async () => {
    expect(await factsOf("worker-2")).toMatchObject({
      bootedWithUKI: false,
      kernelArgs: ["console=ttyS1,115200", "net.ifnames=0"],
      grubUseUKICmdline: false,
    });
    expect(await factsOf("worker-3")).toMatchObject({ bootedWithUKI: true, secureBoot: false });
    // Below v1.13 the legacy API keeps them anyway: the configuration is not read for them.
    const legacy = await imageFacts(client, fleet.node("worker-2").address, Promise.resolve("v1.12.4"));
    expect(legacy).toMatchObject({ bootedWithUKI: false });
    expect(legacy).not.toHaveProperty("kernelArgs");
  });

  it("on GRUB without the rights to read the configuration: the kernel arguments are unknown, not none", async () => {
    const reader = clientFor(fleet.talosconfig.operator);
    try {
      const facts = await imageFacts(reader, fleet.node("worker-2").address);
      expect(facts.bootedWithUKI).toBe(false);
      expect(facts).not.toHaveProperty("kernelArgs");
    } finally {
      reader.close();
    }
  });

  it("on a boot read once it finished, a fresh read asks again for the configuration only", async () => {
    const node = fleet.node("worker-2");
    const first = await facts(client, node.address, { image: "fresh" });
    expect(first.image?.kernelArgs).toEqual(["console=ttyS1,115200", "net.ifnames=0"]);
    const before = node.calls.length;
    const again = await facts(client, node.address, { image: "fresh", known: first });
    const methods = node.calls.slice(before).map((c) => c.method.split("/").pop());
    // The boot ID and the machine's status, then the configuration (for its kernel arguments):
    // no version, extension, SecureBoot or schematic read, no diagnostics.
    expect(methods.sort()).toEqual(["Get", "Get", "Read"]);
    expect(again.image).toEqual(first.image);
  });
});
