// Test PKI: certificate authorities and leaf certificates as PEM, for the control plane harness
// (ECDSA P-256, like kubeadm) and the Talos fleet simulator (Ed25519, like Talos' OS CA).
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the reflect polyfill first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's WebCrypto implements what the library needs; the DOM `Crypto` type is not in our lib.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export type KeyAlgorithm = "ecdsa-p256" | "ed25519";

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface Authority extends KeyPairPem {
  algorithm: KeyAlgorithm;
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
}

export interface LeafRequest {
  commonName: string;
  /** Subject Organization values: Kubernetes groups, or Talos roles such as `os:admin`. */
  organizations?: string[];
  /** DNS names and IP addresses, told apart by their form. */
  sans?: string[];
  usage: "server" | "client" | "both";
  /** Validity: a past `notAfter` makes an expired certificate for fault tests. */
  notBefore?: Date;
  notAfter?: Date;
}

const algorithms = {
  "ecdsa-p256": {
    generate: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
  },
  ed25519: { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
} as const;

const dayMs = 24 * 60 * 60 * 1000;

async function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithms[algorithm].generate, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

export async function publicKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("spki", key));
  return x509.PemConverter.encode(der, "PUBLIC KEY");
}

function distinguishedName(commonName: string, organizations: string[] = []): string {
  const escaped = (value: string) => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${escaped(commonName)}`, ...organizations.map((o) => `O=${escaped(o)}`)].join(", ");
}

export async function createAuthority(commonName: string, algorithm: KeyAlgorithm): Promise<Authority> {
  const keys = await generateKeys(algorithm);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: distinguishedName(commonName),
    keys,
    signingAlgorithm: algorithms[algorithm].sign,
    notBefore: new Date(Date.now() - dayMs),
    notAfter: new Date(Date.now() + 3650 * dayMs),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    algorithm,
    keys,
    cert,
    certPem: cert.toString("pem"),
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

export async function issueCertificate(ca: Authority, request: LeafRequest): Promise<KeyPairPem> {
  const keys = await generateKeys(ca.algorithm);
  const extendedUsages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[request.usage];
  const sans = (request.sans ?? []).map((value) => ({ type: isIP(value) ? "ip" : "dns", value }) as const);
  const keyUsage =
    ca.algorithm === "ed25519"
      ? x509.KeyUsageFlags.digitalSignature
      : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
  const cert = await x509.X509CertificateGenerator.create({
    subject: distinguishedName(request.commonName, request.organizations),
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: algorithms[ca.algorithm].sign,
    notBefore: request.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: request.notAfter ?? new Date(Date.now() + 365 * dayMs),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(keyUsage, true),
      new x509.ExtendedKeyUsageExtension(extendedUsages, false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A bare signing key pair, e.g. the ServiceAccount token issuer key. */
export async function createSigningKey(
  algorithm: KeyAlgorithm,
): Promise<{ publicPem: string; privatePem: string }> {
  const keys = await generateKeys(algorithm);
  return { publicPem: await publicKeyPem(keys.publicKey), privatePem: await privateKeyPem(keys.privateKey) };
}
