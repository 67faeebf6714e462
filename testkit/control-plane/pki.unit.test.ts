// The test PKI must produce what kube-apiserver and Talos clients check: chains that verify,
// SANs of both kinds, Subject Organizations as roles/groups, and the validity asked for.
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { createAuthority, createSigningKey, issueCertificate, type KeyAlgorithm } from "./pki.ts";

describe.each<KeyAlgorithm>(["ecdsa-p256", "ed25519"])("test PKI with %s keys", (algorithm) => {
  it("issues a CA that signs itself and may sign others", async () => {
    const ca = await createAuthority("test-ca", algorithm);
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe("CN=test-ca");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe(algorithm === "ed25519" ? "ed25519" : "ec");
  });

  it("issues leaf certificates with roles, SANs and a verifiable chain", async () => {
    const ca = await createAuthority("test-ca", algorithm);
    const leaf = await issueCertificate(ca, {
      commonName: "node-1",
      organizations: ["os:admin", "os:reader"],
      sans: ["127.0.0.5", "talos", "talos.default"],
      usage: "both",
    });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.subject.split("\n")).toEqual(["CN=node-1", "O=os:admin", "O=os:reader"]);
    expect(cert.subjectAltName).toBe("IP Address:127.0.0.5, DNS:talos, DNS:talos.default");
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    const otherCa = await createAuthority("other-ca", algorithm);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
  });

  it("honours the requested validity, so expired certificates can be made on purpose", async () => {
    const ca = await createAuthority("test-ca", algorithm);
    const notAfter = new Date(Date.now() - 60_000);
    const expired = await issueCertificate(ca, {
      commonName: "old",
      usage: "client",
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter,
    });
    expect(new Date(new X509Certificate(expired.certPem).validTo).getTime()).toBe(
      Math.floor(notAfter.getTime() / 1000) * 1000,
    );
  });

  it("escapes special characters in names", async () => {
    const ca = await createAuthority("test-ca", algorithm);
    const leaf = await issueCertificate(ca, { commonName: "a,b=c", usage: "client" });
    // One RDN whose value holds the comma, not a CN "a" followed by a stray "b=c".
    expect(new X509Certificate(leaf.certPem).subject).toBe("CN=a\\,b=c");
  });
});

it("makes signing key pairs that belong together", async () => {
  const key = await createSigningKey("ecdsa-p256");
  expect(createPublicKey(key.privatePem).export({ type: "spki", format: "pem" }).toString().trim()).toBe(
    key.publicPem.trim(),
  );
});
