// The CRD is generated from the zod schemas; the committed copies must be what generation gives.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planCrd, planCrdYaml, structural } from "../../../src/api/v1alpha1/crd.ts";
import { apiReferenceFile, crdFiles } from "../../../src/api/v1alpha1/generate.ts";
import { apiReference } from "../../../src/api/v1alpha1/reference.ts";

const root = join(import.meta.dirname, "..", "..", "..");

it.each(crdFiles)("%s is up to date (npm run generate:crd)", (file) => {
  expect(readFileSync(join(root, file), "utf8")).toBe(planCrdYaml());
});

it("is cluster-scoped with a status subresource, short name tup and the printer columns", () => {
  const spec = planCrd().spec as {
    scope: string;
    names: { shortNames: string[] };
    versions: { subresources: object; additionalPrinterColumns: { name: string }[] }[];
  };
  expect(spec.scope).toBe("Cluster");
  expect(spec.names.shortNames).toEqual(["tup"]);
  expect(spec.versions[0]?.subresources).toEqual({ status: {} });
  expect(spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
    "Phase",
    "Talos",
    "Kubernetes",
    "Progress",
    "Left",
    "Age",
  ]);
});

describe("structural schemas", () => {
  it("drops what Kubernetes does not accept", () => {
    expect(
      structural({
        $schema: "x",
        title: "t",
        type: "object",
        properties: { n: { type: "integer", minimum: -9007199254740991, maximum: 10 } },
        additionalProperties: false,
      }),
    ).toEqual({ type: "object", properties: { n: { type: "integer", maximum: 10 } } });
  });

  it("keeps maps and int-or-string, and refuses other unions", () => {
    expect(structural({ type: "object", additionalProperties: { type: "string" } })).toEqual({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(
      structural({ "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] }),
    ).toEqual({ "x-kubernetes-int-or-string": true });
    expect(() => structural({ anyOf: [{ type: "integer" }, { type: "boolean" }] })).toThrow(/unions/);
  });
});

it(`${apiReferenceFile} is up to date (npm run generate:crd)`, () => {
  const reference = readFileSync(join(root, apiReferenceFile), "utf8");
  expect(reference).toBe(apiReference());
  expect(reference).toContain("| `spec.rollout.maxUnavailable` | integer or string |");
});
