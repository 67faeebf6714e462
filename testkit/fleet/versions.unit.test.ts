// The simulator's version order, against semver's own precedence example and Talos' tags.
import { compareVersions } from "./versions.ts";

const ascending = [
  "v1.0.0-alpha",
  "v1.0.0-alpha.1",
  "v1.0.0-alpha.beta",
  "v1.0.0-beta",
  "v1.0.0-beta.2",
  "v1.0.0-beta.11",
  "v1.0.0-rc.1",
  "v1.0.0",
  "v1.9.9",
  "v1.12.0",
  "v1.12.4",
  "v1.13.0-alpha.0",
  "v1.13.0-alpha.2",
  "v1.13.0-beta.0",
  "v1.13.0",
  "v1.14.0-alpha.0",
  "v2.0.0",
];

describe("the simulator's version order", () => {
  it("sorts semver's precedence example and Talos tags in order", () => {
    for (let i = 0; i < ascending.length; i++)
      for (let j = 0; j < ascending.length; j++)
        expect([
          ascending[i],
          ascending[j],
          Math.sign(compareVersions(ascending[i] ?? "", ascending[j] ?? "")),
        ]).toEqual([ascending[i], ascending[j], Math.sign(i - j)]);
  });

  it("reads versions with or without the v, and ignores build metadata", () => {
    expect(compareVersions("1.13.0", "v1.13.0")).toBe(0);
    expect(compareVersions("v1.13.0+abc", "v1.13.0")).toBe(0);
  });

  it("refuses what is not a version", () => {
    expect(() => compareVersions("latest", "v1.13.0")).toThrow(/cannot order version "latest"/);
  });
});
