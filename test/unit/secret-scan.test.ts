// The log scanner finds planted key material in every form a test log could carry it, and passes
// ordinary operator log lines.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAuthority, issueCertificate } from "../../testkit/control-plane/pki.ts";
import { scratchDir } from "../../testkit/control-plane/shared-control-plane.ts";
import { renderTalosconfig } from "../../testkit/fleet/talosconfig.ts";
import { scanDir, scanText } from "../harness/secret-scan.ts";

it("finds a planted private key, certificate, talosconfig and tokens, and nothing in clean lines", async () => {
  const ca = await createAuthority("talos", "ed25519");
  const client = await issueCertificate(ca, { commonName: "operator", usage: "client" });
  const talosconfig = renderTalosconfig({
    name: "c",
    endpoints: ["127.0.0.1"],
    caPem: ca.certPem,
    ...client,
  });
  const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLWJ5dGVz";
  const dir = scratchDir("scan");
  mkdirSync(join(dir, "nested"));
  const clean = '{"level":30,"msg":"acted","plan":"p","action":"cordon","node":"cp-1"}\n';
  writeFileSync(join(dir, "clean.log"), clean.repeat(50));
  writeFileSync(join(dir, "nested", "key.log"), `${clean}error: ${JSON.stringify(client.keyPem)}\n`);
  writeFileSync(join(dir, "cert.log"), client.certPem);
  writeFileSync(join(dir, "talosconfig.log"), `loaded ${talosconfig}`);
  writeFileSync(join(dir, "token.log"), `Authorization: Bearer ${jwt}\n`);
  // Each of a talosconfig's base64 fields starts at any byte alignment inside a larger blob.
  for (const shift of [1, 2]) {
    const blob = Buffer.from(`${"x".repeat(shift)}${client.keyPem}`).toString("base64");
    expect(scanText(blob, "blob")).toEqual([{ file: "blob", line: 1, kind: "base64-encoded PEM" }]);
  }
  const kinds = scanDir(dir).map((f) => `${f.file.slice(dir.length + 1)}:${f.line}:${f.kind}`);
  expect(kinds.sort()).toEqual([
    "cert.log:1:PEM block",
    "nested/key.log:2:PEM block",
    "talosconfig.log:5:base64-encoded PEM",
    "talosconfig.log:6:base64-encoded PEM",
    "talosconfig.log:7:base64-encoded PEM",
    "token.log:1:JSON web token",
    "token.log:1:bearer token",
  ]);
});
