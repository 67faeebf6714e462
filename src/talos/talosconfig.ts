// The talosconfig: talosctl's file format (context → endpoints, base64 PEM ca/crt/key), validated
// with zod. Read from the mounted file (re-read when it rotates; its certificate lives six hours)
// or from a Secret key. Key material stays in memory and is never logged.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { parse } from "yaml";
import { z } from "zod";

export const defaultTalosconfigPath = "/var/run/secrets/talos.dev/config";

const base64Pem = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    const text = Buffer.from(value, "base64").toString("utf8");
    if (!text.includes("-----BEGIN ")) {
      ctx.addIssue({ code: "custom", message: "is not base64-encoded PEM" });
      return z.NEVER;
    }
    return text;
  });

const contextSchema = z.object({
  endpoints: z.array(z.string().min(1)).min(1, "lists no endpoints"),
  nodes: z.array(z.string()).optional(),
  ca: base64Pem,
  crt: base64Pem,
  key: base64Pem,
});

const fileSchema = z.object({
  context: z.string().min(1),
  contexts: z.record(z.string(), contextSchema),
});

export interface Talosconfig {
  endpoints: string[];
  ca: string;
  crt: string;
  key: string;
  /** Subject Organization of the client certificate: the Talos roles. */
  roles: string[];
  notAfter: Date;
}

type TalosconfigResult = { ok: true; config: Talosconfig } | { ok: false; message: string };

/** Parses a talosconfig; the message names what is wrong and never echoes key material. */
export function parseTalosconfig(text: string, source: string): TalosconfigResult {
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    return { ok: false, message: `${source} is not valid YAML` };
  }
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      message: `${source}: ${issue?.path.join(".") || "document"} ${issue?.message ?? "is invalid"}`,
    };
  }
  const context = parsed.data.contexts[parsed.data.context];
  if (!context) return { ok: false, message: `${source}: context "${parsed.data.context}" is not defined` };
  try {
    const cert = new X509Certificate(context.crt);
    if (!cert.checkPrivateKey(createPrivateKey(context.key))) {
      return { ok: false, message: `${source}: the client key does not match its certificate` };
    }
    // Talos signs client and server certificates with the same OS CA (a bundle while it rotates):
    // a client certificate from another CA can never be accepted, so it is a config error now.
    const authorities = (
      context.ca.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
    ).map((pem) => new X509Certificate(pem));
    if (!authorities.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
      return {
        ok: false,
        message: `${source}: the client certificate is not signed by the talosconfig's CA`,
      };
    }
    const notAfter = new Date(cert.validTo);
    const roles = cert.subject
      .split("\n")
      .filter((line) => line.startsWith("O="))
      .map((line) => line.slice(2));
    return {
      ok: true,
      config: {
        endpoints: context.endpoints,
        ca: context.ca,
        crt: context.crt,
        key: context.key,
        roles,
        notAfter,
      },
    };
  } catch {
    return { ok: false, message: `${source}: the client certificate or key cannot be read` };
  }
}
