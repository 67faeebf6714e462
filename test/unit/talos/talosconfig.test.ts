// Talosconfig parsing: what is wrong is named without echoing key material.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import { TalosClient } from "../../../src/talos/client.ts";
import { TalosCredentials } from "../../../src/talos/credentials.ts";
import { parseTalosconfig } from "../../../src/talos/talosconfig.ts";
import { createAuthority, issueCertificate } from "../../../testkit/control-plane/pki.ts";
import { renderTalosconfig } from "../../../testkit/fleet/talosconfig.ts";
import { aPlan } from "../builders/plans.ts";

const client = { commonName: "operator", organizations: ["os:operator"], usage: "client" as const };

async function talosconfig(signedBy: "same" | "other" | "rotating") {
  const ca = await createAuthority("talos", "ed25519");
  const other = await createAuthority("other", "ed25519");
  const cert = await issueCertificate(signedBy === "same" ? ca : other, client);
  const caPem = signedBy === "rotating" ? `${ca.certPem}\n${other.certPem}` : ca.certPem;
  return renderTalosconfig({ name: "c", endpoints: ["127.0.0.1"], caPem, ...cert });
}

it("accepts a client certificate signed by the CA, or by one CA of a rotating bundle", async () => {
  expect(parseTalosconfig(await talosconfig("same"), "file")).toMatchObject({
    ok: true,
    config: { roles: ["os:operator"] },
  });
  expect(parseTalosconfig(await talosconfig("rotating"), "file").ok).toBe(true);
});

it("refuses a client certificate from another CA", async () => {
  const result = parseTalosconfig(await talosconfig("other"), "secret ns/x key config");
  expect(result).toEqual({
    ok: false,
    message: "secret ns/x key config: the client certificate is not signed by the talosconfig's CA",
  });
});

it.each([
  ["not YAML", "contexts: [", /is not valid YAML/],
  ["a context that is not defined", "context: a\ncontexts: {}\n", /context "a" is not defined/],
  [
    "no endpoints",
    "context: a\ncontexts:\n  a: {endpoints: [], ca: eA==, crt: eA==, key: eA==}\n",
    /endpoints lists no endpoints/,
  ],
  [
    "a CA that is not PEM",
    "context: a\ncontexts:\n  a: {endpoints: [x], ca: bm90IHBlbQ==, crt: eA==, key: eA==}\n",
    /ca is not base64-encoded PEM/,
  ],
])("names what is wrong in %s", (_case, text, message) => {
  const result = parseTalosconfig(text, "file");
  expect(result.ok).toBe(false);
  expect(result.ok ? "" : result.message).toMatch(message);
});

it("checks a cached client's certificate again on every use, and stops using it once expired", async () => {
  const ca = await createAuthority("talos", "ed25519");
  const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000);
  const cert = await issueCertificate(ca, { ...client, notAfter });
  const path = join(mkdtempSync(join(tmpdir(), "tuo-talosconfig-")), "config");
  writeFileSync(path, renderTalosconfig({ name: "c", endpoints: ["127.0.0.1"], caPem: ca.certPem, ...cert }));
  // The mounted file is read; no Kubernetes request is made (the server below is never called).
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "none", server: "https://127.0.0.1:1" }],
    users: [{ name: "none" }],
    contexts: [{ name: "none", cluster: "none", user: "none" }],
    currentContext: "none",
  });
  const credentials = new TalosCredentials(kc, { path, deadlineMs: 1_000 });
  try {
    expect(await credentials.clientFor(aPlan())).toBeInstanceOf(TalosClient);
    const later = jest.spyOn(Date, "now").mockReturnValue(notAfter.getTime() + 1_000);
    try {
      expect(await credentials.clientFor(aPlan())).toEqual({
        error: `${path}: the client certificate expired at ${notAfter.toISOString()}`,
      });
    } finally {
      later.mockRestore();
    }
  } finally {
    credentials.close();
  }
});
