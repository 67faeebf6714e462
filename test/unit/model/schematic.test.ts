// Schematic IDs computed as Image Factory computes them. The expected IDs come from outside this
// code: the factory's own test cases, a schematic widely published with its ID, and schematics
// rendered once by the factory's YAML library (gopkg.in/yaml.v3) and hashed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { schematicSpecSchema } from "../../../src/api/v1alpha1/schematic.ts";
import { schematicIdOf, schematicYaml, yamlScalar } from "../../../src/model/schematic.ts";

const known: [string, unknown, string][] = [
  ["the empty (vanilla) schematic", {}, "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"],
  [
    "kernel arguments",
    { customization: { extraKernelArgs: ["noapic", "nolapic"] } },
    "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
  ],
  [
    "empty parts are omitted",
    { customization: { extraKernelArgs: ["noapic", "nolapic"], systemExtensions: {} } },
    "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
  ],
  [
    "META",
    { customization: { meta: [{ key: 10, value: "foo" }], extraKernelArgs: [], systemExtensions: {} } },
    "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
  ],
  [
    "SecureBoot certificates",
    { customization: { secureboot: { includeWellKnownCertificates: true } } },
    "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
  ],
  [
    "an overlay",
    { overlay: { name: "rpi_generic", image: "siderolabs/sbc-raspberrypi" }, customization: {} },
    "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
  ],
  [
    "iscsi-tools and util-linux-tools (the storage schematic storage guides publish)",
    {
      customization: {
        systemExtensions: { officialExtensions: ["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"] },
      },
    },
    "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245",
  ],
  [
    "NVIDIA extensions",
    {
      customization: {
        systemExtensions: {
          officialExtensions: [
            "siderolabs/nvidia-container-toolkit-production",
            "siderolabs/nvidia-open-gpu-kernel-modules-production",
          ],
        },
      },
    },
    "6698d6f136c5bb37ca8bb8482c9084305084da0a5ead1f4dcae760796f8ab3a2",
  ],
  [
    "kernel arguments YAML must quote, with an extension",
    {
      customization: {
        extraKernelArgs: [
          "ip=10.0.0.2::10.0.0.1:255.255.255.0:node:eth0:off",
          "true",
          "10",
          "-foo",
          "net.ifnames=0",
        ],
        systemExtensions: { officialExtensions: ["siderolabs/zfs"] },
      },
    },
    "5e5257b57416cc7f03a10791b85811165fbaa1c9e38578a2206975bb71263711",
  ],
  [
    "overlay options in Go's sorted map order",
    {
      overlay: {
        image: "siderolabs/sbc-raspberrypi",
        name: "rpi_generic",
        options: { configTxtAppend: "dtoverlay=vc4-kms-v3d", b: "1", a: "true" },
      },
      customization: { systemExtensions: { officialExtensions: ["siderolabs/iscsi-tools"] } },
    },
    "6d451ba472df831c8f58d9f1f35fad8eda2c164e6d1f6e4759019bc04a762ab6",
  ],
  [
    "two META entries, one single-quoted",
    {
      customization: {
        extraKernelArgs: ["console=ttyS0,115200"],
        meta: [
          { key: 10, value: "foo" },
          { key: 12, value: "@x" },
        ],
        systemExtensions: { officialExtensions: ["siderolabs/gvisor"] },
      },
    },
    "1c863561c3df0b427ddcfaaea6b65e389f24f7ea2494c43c370f2ebf92d559c8",
  ],
];

describe("schematic IDs", () => {
  it.each(known)("%s", (_name, declared, id) => {
    expect(schematicIdOf(schematicSpecSchema.parse(declared))).toBe(id);
  });

  it("a schematic named by id is that id", () => {
    const id = "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245";
    expect(schematicIdOf(schematicSpecSchema.parse({ id }))).toBe(id);
  });

  it("renders the factory's four-space block YAML", () => {
    expect(
      schematicYaml({
        customization: { meta: [{ key: 10, value: "foo" }], systemExtensions: { officialExtensions: ["a"] } },
      }),
    ).toBe(
      "customization:\n    meta:\n        - key: 10\n          value: foo\n    systemExtensions:\n        officialExtensions:\n            - a\n",
    );
  });

  it("writes every scalar of the corpus as the factory's YAML library does", () => {
    const lines = readFileSync(join(import.meta.dirname, "yaml-scalars.tsv"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(lines.length).toBeGreaterThan(1000);
    const wrong = lines
      .map((l) => l.split("\t") as [string, string])
      .filter(([input, expected]) => yamlScalar(input) !== expected);
    expect(wrong).toEqual([]);
  });
});

describe("the schematic a plan declares", () => {
  it("refuses text whose rendering the operator cannot reproduce, naming the rule", () => {
    const result = schematicSpecSchema.safeParse({ customization: { extraKernelArgs: ["a b"] } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["customization", "extraKernelArgs", 0]);
    expect(result.error?.issues[0]?.message).toMatch(/name the schematic by id/);
  });
});
