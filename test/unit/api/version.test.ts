import { compareVersions, minorOf, parseVersion } from "../../../src/api/v1alpha1/version.ts";

describe("semantic versions", () => {
  it.each([
    ["v1.12.4", { major: 1, minor: 12, patch: 4, prerelease: "" }],
    ["1.13.0-alpha.2", { major: 1, minor: 13, patch: 0, prerelease: "alpha.2" }],
    ["v1.35.2+k3s1", { major: 1, minor: 35, patch: 2, prerelease: "" }],
  ])("parses %s", (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  it.each(["", "1.12", "v1.12.04", "latest", "v1.x.0", "v1.12.4.1"])("refuses %j with a reason", (text) => {
    expect(() => parseVersion(text)).toThrow(/is not a semantic version/);
  });

  it("ignores surrounding whitespace", () => {
    expect(parseVersion(" v1.12.4\n")).toEqual(parseVersion("v1.12.4"));
  });

  it.each([
    ["v1.12.4", "v1.12.4", 0],
    ["v1.12.4", "v1.12.10", -1],
    ["v1.13.0", "v1.12.99", 1],
    ["v2.0.0", "v1.99.99", 1],
    ["v1.13.0-alpha.2", "v1.13.0", -1],
    ["v1.13.0-alpha.2", "v1.13.0-alpha.10", -1],
    ["v1.13.0-alpha.2", "v1.13.0-beta.0", -1],
    ["v1.13.0-rc.1", "v1.13.0-rc", 1],
    ["v1.13.0-1", "v1.13.0-alpha", -1],
  ])("compares %s with %s as %i", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a)) + sign).toBe(0);
  });

  it("finds the minor line", () => {
    expect(minorOf("v1.12.4")).toBe("v1.12");
    expect(minorOf("1.13.0-alpha.2")).toBe("v1.13");
  });
});
