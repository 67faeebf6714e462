// A small S3 client for the etcd snapshots: one signed request per call (SigV4, the payload hash
// signed), a file streamed from disk as the body of a single PUT, ListObjectsV2 followed to its end.
// Every failure is an S3Error naming the operation, the object and S3's error code, never a credential.
import { createHash, createHmac } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { z } from "zod";

export interface S3Location {
  /** scheme://host[:port] of the S3 service, no path. */
  endpoint: string;
  bucket: string;
  region: string;
  /** `<endpoint>/<bucket>/<key>` when true, `<bucket>.<endpoint host>/<key>` when false. */
  forcePathStyle: boolean;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A failed S3 call. `status` is 0 when no answer came (the code then says why, e.g. ECONNREFUSED). */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly operation: string;

  constructor(operation: string, target: string, code: string, status: number, options?: ErrorOptions) {
    super(`S3 ${operation} ${target}: ${code}${status > 0 ? ` (HTTP ${status})` : ""}`, options);
    this.name = "S3Error";
    this.code = code;
    this.status = status;
    this.operation = operation;
  }
}

// ---- SigV4 -------------------------------------------------------------------------------------

const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const emptyPayloadHash = sha256Hex("");

/** RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ (the UTF-8 bytes of the rest). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The path as sent and signed: each segment encoded once, the slashes kept. */
export function canonicalUri(path: string): string {
  return path.split("/").map(uriEncode).join("/");
}

/** The query as sent and signed: names and values encoded, sorted by name then value, `name=` when empty. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

interface SigningRequest {
  method: string;
  /** The Host header: the URL's host, with the port when not the scheme's default. */
  host: string;
  /** The path as S3 names it, not encoded: "/bucket/backups/a b.db". */
  path: string;
  query?: Record<string, string>;
  /** Further headers to send and sign (content-length, content-type, range…). */
  headers?: Record<string, string>;
  /** Lower-case hex SHA-256 of the body; sent as x-amz-content-sha256. */
  payloadHash: string;
  region: string;
  credentials: S3Credentials;
  now: Date;
}

interface SignedRequest {
  /** The path and query to put after the origin, encoded exactly as signed. */
  pathAndQuery: string;
  /** Every header to send except host (fetch derives it from the URL), authorization included. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
}

/** Signs a request with AWS Signature Version 4 for the s3 service, in the Authorization header. */
export function signRequest(request: SigningRequest): SignedRequest {
  const amzDate = request.now.toISOString().replace(/\.\d+/, "").replace(/[-:]/g, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${request.region}/s3/aws4_request`;
  const { credentials } = request;

  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "authorization" || lower in sent) {
      throw new Error(`signRequest: header ${lower} given twice or not the caller's to set`);
    }
    sent[lower] = value;
  }
  sent["x-amz-content-sha256"] = request.payloadHash;
  sent["x-amz-date"] = amzDate;
  if (credentials.sessionToken) sent["x-amz-security-token"] = credentials.sessionToken;

  const signed = Object.entries({ ...sent, host: request.host })
    .map(([name, value]) => [name, value.trim().replace(/ +/g, " ")] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = signed.map(([name]) => name).join(";");
  const uri = canonicalUri(request.path);
  const query = canonicalQuery(request.query ?? {});
  const canonicalRequest = [
    request.method,
    uri,
    query,
    ...signed.map(([name, value]) => `${name}:${value}`),
    "",
    signedHeaders,
    request.payloadHash,
  ].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");

  const signingKey = [day, request.region, "s3", "aws4_request"].reduce<string | Buffer>(
    (key, part) => hmac(key, part),
    `AWS4${credentials.secretAccessKey}`,
  );
  const signature = hmac(signingKey, stringToSign).toString("hex");
  sent.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { pathAndQuery: query ? `${uri}?${query}` : uri, headers: sent, canonicalRequest, stringToSign };
}

// ---- the few XML answers S3 gives ---------------------------------------------------------------

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const namedEntities: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]*);/g, (whole, entity: string) => {
    const code = /^#x[0-9a-f]+$/i.test(entity)
      ? Number.parseInt(entity.slice(2), 16)
      : /^#[0-9]+$/.test(entity)
        ? Number.parseInt(entity.slice(1), 10)
        : undefined;
    if (code !== undefined && code <= 0x10ffff) return String.fromCodePoint(code);
    const named = namedEntities[entity];
    if (named === undefined) throw new Error(`XML: unknown entity ${whole}`);
    return named;
  });
}

/** The end of the tag opened at `from` ('<'), past any quoted attribute value. */
function tagEnd(xml: string, from: number): number {
  let quote = "";
  for (let at = from + 1; at < xml.length; at++) {
    const c = xml[at];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return at;
  }
  throw new Error("XML: a tag is not closed");
}

/** Elements and their text; attributes, comments, processing instructions and namespaces ignored. */
function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: "", children: [], text: "" };
  const open = [root];
  const top = () => open[open.length - 1] ?? root;
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf("<", at);
    top().text += decodeEntities(xml.slice(at, lt < 0 ? xml.length : lt));
    if (lt < 0) break;
    const skip = (closer: string) => {
      const end = xml.indexOf(closer, lt);
      if (end < 0) throw new Error(`XML: no ${closer}`);
      return end + closer.length;
    };
    if (xml.startsWith("<![CDATA[", lt)) {
      at = skip("]]>");
      top().text += xml.slice(lt + 9, at - 3);
    } else if (xml.startsWith("<!--", lt)) at = skip("-->");
    else if (xml.startsWith("<?", lt)) at = skip("?>");
    else if (xml.startsWith("<!", lt)) throw new Error("XML: a document type declaration is not expected");
    else {
      const end = tagEnd(xml, lt);
      const tag = xml.slice(lt + 1, end);
      const name = (/^\/?\s*([^\s/>]+)/.exec(tag)?.[1] ?? "").replace(/^.*:/, "");
      if (!name) throw new Error("XML: a tag has no name");
      if (tag.startsWith("/")) {
        if (open.length === 1 || top().name !== name) throw new Error(`XML: </${name}> closes nothing open`);
        open.pop();
      } else {
        const element: XmlElement = { name, children: [], text: "" };
        top().children.push(element);
        if (!tag.endsWith("/")) open.push(element);
      }
      at = end + 1;
    }
  }
  if (open.length > 1) throw new Error(`XML: <${top().name}> is not closed`);
  return root;
}

const childrenNamed = (element: XmlElement | undefined, name: string) =>
  element?.children.filter((c) => c.name === name) ?? [];
const textOf = (element: XmlElement | undefined, name: string) => childrenNamed(element, name)[0]?.text;
/** The document element, when it has this name. */
const documentElement = (xml: string, name: string) => childrenNamed(parseXml(xml), name)[0];

const decimal = z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().int().safe());

const listPageSchema = z.object({
  contents: z.array(
    z.object({
      key: z.string().min(1),
      size: decimal,
      lastModified: z
        .string()
        .trim()
        .pipe(z.iso.datetime({ offset: true }))
        .transform((s) => new Date(s)),
    }),
  ),
  isTruncated: z.enum(["true", "false"]).transform((s) => s === "true"),
  nextContinuationToken: z.string().min(1).optional(),
});

function parseListPage(xml: string): z.infer<typeof listPageSchema> {
  const result = documentElement(xml, "ListBucketResult");
  if (!result) throw new Error("not a ListBucketResult");
  return listPageSchema.parse({
    contents: childrenNamed(result, "Contents").map((c) => ({
      key: textOf(c, "Key"),
      size: textOf(c, "Size"),
      lastModified: textOf(c, "LastModified"),
    })),
    isTruncated: textOf(result, "IsTruncated")?.trim(),
    nextContinuationToken: textOf(result, "NextContinuationToken"),
  });
}

const errorSchema = z.object({ code: z.string().trim().min(1).max(100) });

/** S3's error Code from an <Error> body, or undefined when the body is not one. */
function errorCode(xml: string): string | undefined {
  try {
    const error = documentElement(xml, "Error");
    return errorSchema.safeParse({ code: textOf(error, "Code") }).data?.code;
  } catch {
    return undefined;
  }
}

/** The code for an error answer without an <Error> body. */
const statusCodes: Record<number, string> = {
  301: "PermanentRedirect",
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  412: "PreconditionFailed",
  503: "SlowDown",
};

// ---- the client ---------------------------------------------------------------------------------

interface S3ClientOptions {
  fetch?: typeof fetch;
  now?: () => Date;
}

interface Call {
  operation: string;
  method: "GET" | "PUT" | "DELETE";
  /** Undefined for a call on the bucket itself. */
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: ReadableStream<Uint8Array> | Uint8Array;
  payloadHash?: string;
  signal?: AbortSignal | undefined;
}

export class S3Client {
  readonly #location: S3Location;
  readonly #credentials: S3Credentials;
  readonly #fetch: typeof fetch;
  readonly #now: () => Date;
  /** Where requests go: the endpoint, or the bucket's virtual host under it. */
  readonly #origin: URL;

  constructor(location: S3Location, credentials: S3Credentials, options: S3ClientOptions = {}) {
    const endpoint = new URL(location.endpoint);
    if (!["http:", "https:"].includes(endpoint.protocol) || endpoint.pathname !== "/" || endpoint.search) {
      throw new Error(`S3 endpoint ${endpoint.origin}: an http or https origin without a path is expected`);
    }
    const bucketName = location.forcePathStyle
      ? /^[A-Za-z0-9._-]{1,255}$/
      : /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
    if (!bucketName.test(location.bucket))
      throw new Error(`S3 bucket name ${JSON.stringify(location.bucket)} is not valid`);
    this.#location = location;
    this.#credentials = credentials;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
    this.#origin = new URL(endpoint.origin);
    if (!location.forcePathStyle) this.#origin.hostname = `${location.bucket}.${endpoint.hostname}`;
  }

  /** Uploads in one PUT; S3 checks the body against `meta.sha256Hex` and refuses a mismatch. */
  async putObject(
    key: string,
    body: { path: string } | Uint8Array,
    meta: { size: number; sha256Hex: string; contentType?: string },
    signal?: AbortSignal,
  ): Promise<void> {
    if (!Number.isSafeInteger(meta.size) || meta.size < 0) throw new Error(`S3 PutObject ${key}: bad size`);
    if (!/^[0-9a-f]{64}$/i.test(meta.sha256Hex)) throw new Error(`S3 PutObject ${key}: bad SHA-256`);
    const length = body instanceof Uint8Array ? body.byteLength : (await stat(body.path)).size;
    if (length !== meta.size) {
      throw new Error(`S3 PutObject ${key}: the body has ${length} bytes, not the ${meta.size} announced`);
    }
    const payload =
      body instanceof Uint8Array
        ? body
        : (Readable.toWeb(createReadStream(body.path)) as unknown as ReadableStream<Uint8Array>);
    try {
      const response = await this.#send({
        operation: "PutObject",
        method: "PUT",
        key,
        headers: {
          "content-length": String(meta.size),
          ...(meta.contentType ? { "content-type": meta.contentType } : {}),
        },
        body: payload,
        payloadHash: meta.sha256Hex.toLowerCase(),
        signal,
      });
      await response.body?.cancel();
    } finally {
      if (payload instanceof ReadableStream && !payload.locked) await payload.cancel();
    }
  }

  /** The object's size and its bytes as they arrive; the stream fails if it ends short. */
  async getObject(
    key: string,
    signal?: AbortSignal,
  ): Promise<{ size: number; body: AsyncIterable<Uint8Array> }> {
    const response = await this.#send({ operation: "GetObject", method: "GET", key, signal });
    const size = decimal.safeParse(response.headers.get("content-length") ?? "");
    const stream = response.body;
    if (!size.success || !stream) {
      await stream?.cancel();
      throw new S3Error("GetObject", this.#name(key), "InvalidResponse", response.status);
    }
    const name = this.#name(key);
    async function* counted(): AsyncGenerator<Uint8Array> {
      let received = 0;
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        yield chunk;
      }
      if (received !== size.data) throw new S3Error("GetObject", name, "IncompleteBody", response.status);
    }
    return { size: size.data, body: counted() };
  }

  /** Every object under `prefix`, in S3's order, one ListObjectsV2 page after the other. */
  async listObjects(
    prefix: string,
    signal?: AbortSignal,
    pageSize?: number,
  ): Promise<{ key: string; size: number; lastModified: Date }[]> {
    const found: { key: string; size: number; lastModified: Date }[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix };
      if (token) query["continuation-token"] = token;
      if (pageSize !== undefined) query["max-keys"] = String(pageSize);
      const response = await this.#send({ operation: "ListObjectsV2", method: "GET", query, signal });
      const text = await response.text();
      let page: z.infer<typeof listPageSchema>;
      try {
        page = parseListPage(text);
      } catch (error) {
        throw new S3Error("ListObjectsV2", this.#name(prefix), "InvalidResponse", response.status, {
          cause: error,
        });
      }
      found.push(...page.contents);
      const next = page.isTruncated ? page.nextContinuationToken : undefined;
      if (page.isTruncated && (next === undefined || next === token)) {
        throw new S3Error("ListObjectsV2", this.#name(prefix), "InvalidResponse", response.status);
      }
      token = next;
    } while (token !== undefined);
    return found;
  }

  /** Deletes the object; deleting one that is not there succeeds, as S3 answers. */
  async deleteObject(key: string, signal?: AbortSignal): Promise<void> {
    const response = await this.#send({ operation: "DeleteObject", method: "DELETE", key, signal });
    await response.body?.cancel();
  }

  /** bucket/key, as messages name it. */
  #name(key?: string): string {
    return key === undefined ? this.#location.bucket : `${this.#location.bucket}/${key}`;
  }

  async #send(call: Call): Promise<Response> {
    const name = this.#name(call.key);
    if (call.key !== undefined) checkKey(call.operation, name, call.key);
    const bucketPath = this.#location.forcePathStyle ? `/${this.#location.bucket}` : "";
    const signed = signRequest({
      method: call.method,
      host: this.#origin.host,
      path: call.key === undefined ? bucketPath || "/" : `${bucketPath}/${call.key}`,
      query: call.query ?? {},
      headers: call.headers ?? {},
      payloadHash: call.payloadHash ?? emptyPayloadHash,
      region: this.#location.region,
      credentials: this.#credentials,
      now: this.#now(),
    });
    let response: Response;
    try {
      response = await this.#fetch(`${this.#origin.origin}${signed.pathAndQuery}`, {
        method: call.method,
        // identity: the size S3 announces is the size of the bytes read.
        headers: { ...signed.headers, "accept-encoding": "identity" },
        ...(call.body ? { body: call.body, duplex: "half" } : {}),
        redirect: "manual",
        signal: call.signal ?? null,
      });
    } catch (error) {
      if (call.signal?.aborted) throw error;
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new S3Error(call.operation, name, typeof cause === "string" ? cause : "Unreachable", 0, {
        cause: error,
      });
    }
    if (response.ok) return response;
    const body = await response.text().catch(() => "");
    const code = errorCode(body) ?? statusCodes[response.status] ?? `HTTP${response.status}`;
    throw new S3Error(call.operation, name, this.#scrub(code), response.status);
  }

  /** The text without any of the credentials in it. */
  #scrub(text: string): string {
    const { accessKeyId, secretAccessKey, sessionToken } = this.#credentials;
    return [secretAccessKey, sessionToken, accessKeyId]
      .filter((s): s is string => !!s)
      .reduce((t, secret) => t.split(secret).join("***"), text);
  }
}

/**
 * A key is sent as its path: "." and ".." segments would be resolved away by URL parsing, so they
 * are refused rather than sent somewhere else.
 */
function checkKey(operation: string, name: string, key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > 1024 || key.split("/").some((s) => s === "." || s === "..")) {
    throw new S3Error(operation, name, "InvalidKey", 0);
  }
}
