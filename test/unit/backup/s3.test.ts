// The S3 client without a server: SigV4 against the examples AWS publishes for S3 ("Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk", AWS S3 API
// Reference), the encoding of paths and queries, and the client's requests and its reading of S3's
// XML answers through a fake fetch.
import { createHash } from "node:crypto";
import {
  canonicalQuery,
  canonicalUri,
  S3Client,
  S3Error,
  type S3Location,
  signRequest,
  uriEncode,
} from "../../../src/backup/s3.ts";

// The credentials, time and region of AWS's published examples.
const docCredentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const docTime = new Date("2013-05-24T00:00:00Z");
const docHost = "examplebucket.s3.amazonaws.com";
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const docRequest = { host: docHost, region: "us-east-1", credentials: docCredentials, now: docTime };
const signatureOf = (authorization: string | undefined) =>
  /Signature=([0-9a-f]{64})$/.exec(authorization ?? "")?.[1];

describe("signRequest reproduces AWS's published S3 examples", () => {
  it("GET Object with a Range header: canonical request, string to sign and Authorization", () => {
    const signed = signRequest({
      ...docRequest,
      method: "GET",
      path: "/test.txt",
      headers: { Range: "bytes=0-9" },
      payloadHash: emptyHash,
    });
    expect(signed.canonicalRequest).toBe(
      [
        "GET",
        "/test.txt",
        "",
        `host:${docHost}`,
        "range:bytes=0-9",
        `x-amz-content-sha256:${emptyHash}`,
        "x-amz-date:20130524T000000Z",
        "",
        "host;range;x-amz-content-sha256;x-amz-date",
        emptyHash,
      ].join("\n"),
    );
    expect(signed.stringToSign).toBe(
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
    );
    expect(signed.headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    expect(signed.headers).toMatchObject({
      range: "bytes=0-9",
      "x-amz-date": "20130524T000000Z",
      "x-amz-content-sha256": emptyHash,
    });
    expect(signed.headers).not.toHaveProperty("host");
  });

  it("PUT Object: '$' in the key, a Date and a storage class header, the payload hash signed", () => {
    const body = "Welcome to Amazon S3.";
    const payloadHash = createHash("sha256").update(body).digest("hex");
    expect(payloadHash).toBe("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const signed = signRequest({
      ...docRequest,
      method: "PUT",
      path: "/test$file.text",
      headers: { Date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
      payloadHash,
    });
    expect(signed.pathAndQuery).toBe("/test%24file.text");
    expect(signed.headers.authorization).toContain(
      "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, ",
    );
    expect(signatureOf(signed.headers.authorization)).toBe(
      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
  });

  it("GET Bucket Lifecycle: a query parameter without a value", () => {
    const signed = signRequest({
      ...docRequest,
      method: "GET",
      path: "/",
      query: { lifecycle: "" },
      payloadHash: emptyHash,
    });
    expect(signed.pathAndQuery).toBe("/?lifecycle=");
    expect(signed.canonicalRequest.split("\n").slice(0, 3)).toEqual(["GET", "/", "lifecycle="]);
    expect(signatureOf(signed.headers.authorization)).toBe(
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
  });

  it("GET Bucket (List Objects): the query sorted whatever order it is given in", () => {
    const signed = signRequest({
      ...docRequest,
      method: "GET",
      path: "/",
      query: { prefix: "J", "max-keys": "2" },
      payloadHash: emptyHash,
    });
    expect(signed.pathAndQuery).toBe("/?max-keys=2&prefix=J");
    expect(signatureOf(signed.headers.authorization)).toBe(
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
  });
});

describe("canonical encoding", () => {
  it.each([
    ["a b", "a%20b"],
    ["~-._", "~-._"],
    ["AZaz09", "AZaz09"],
    ["a/b", "a%2Fb"],
    ["a+b=c&d", "a%2Bb%3Dc%26d"],
    ["!'()*", "%21%27%28%29%2A"],
    ["é", "%C3%A9"],
    ["日", "%E6%97%A5"],
    ["🙂", "%F0%9F%99%82"],
    ["a:b$c", "a%3Ab%24c"],
    ["%", "%25"],
  ])("uriEncode(%j) is %j", (text, encoded) => {
    expect(uriEncode(text)).toBe(encoded);
  });

  it("encodes each path segment once and keeps the slashes", () => {
    expect(canonicalUri("/bucket/etcd/2026-01-02T03:04:05Z snap~1.db")).toBe(
      "/bucket/etcd/2026-01-02T03%3A04%3A05Z%20snap~1.db",
    );
    expect(canonicalUri("/bucket/a%20b")).toBe("/bucket/a%2520b");
    expect(canonicalUri("/bucket/über/ké")).toBe("/bucket/%C3%BCber/k%C3%A9");
    expect(canonicalUri("/")).toBe("/");
  });

  it("sorts the query by encoded name, gives a bare name `=`, and encodes '/' in values", () => {
    expect(canonicalQuery({ uploads: "" })).toBe("uploads=");
    expect(canonicalQuery({ prefix: "etcd/a b", "list-type": "2", "continuation-token": "x+y/z=" })).toBe(
      "continuation-token=x%2By%2Fz%3D&list-type=2&prefix=etcd%2Fa%20b",
    );
    expect(canonicalQuery({ b: "1", B: "2", a_: "3", "a~": "4" })).toBe("B=2&a_=3&a~=4&b=1");
    expect(canonicalQuery({})).toBe("");
  });

  it("trims header values, collapses their inner runs of spaces and lower-cases their names", () => {
    const signed = signRequest({
      ...docRequest,
      method: "GET",
      path: "/k",
      headers: { "X-Custom": "  a   b  " },
      payloadHash: emptyHash,
    });
    expect(signed.canonicalRequest).toContain("\nx-custom:a b\n");
  });

  it("refuses a header given twice and a Host or Authorization from the caller", () => {
    const sign = (headers: Record<string, string>) =>
      signRequest({ ...docRequest, method: "GET", path: "/", headers, payloadHash: emptyHash });
    expect(() => sign({ Range: "a", range: "b" })).toThrow(/range/);
    expect(() => sign({ Host: "elsewhere" })).toThrow(/host/);
    expect(() => sign({ Authorization: "x" })).toThrow(/authorization/);
  });
});

describe("session token and body headers", () => {
  it("sends and signs x-amz-security-token when there is a session token", () => {
    const withToken = signRequest({
      ...docRequest,
      credentials: { ...docCredentials, sessionToken: "token/with+chars=" },
      method: "GET",
      path: "/test.txt",
      payloadHash: emptyHash,
    });
    const without = signRequest({ ...docRequest, method: "GET", path: "/test.txt", payloadHash: emptyHash });
    expect(withToken.headers["x-amz-security-token"]).toBe("token/with+chars=");
    expect(withToken.canonicalRequest).toContain("\nx-amz-security-token:token/with+chars=\n");
    expect(withToken.headers.authorization).toContain(
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, ",
    );
    expect(without.headers).not.toHaveProperty("x-amz-security-token");
    expect(signatureOf(withToken.headers.authorization)).not.toBe(signatureOf(without.headers.authorization));
  });

  it("signs content-length and content-type when they are sent", () => {
    const signed = signRequest({
      ...docRequest,
      method: "PUT",
      path: "/k",
      headers: { "Content-Length": "5", "Content-Type": "application/octet-stream" },
      payloadHash: emptyHash,
    });
    expect(signed.headers.authorization).toContain(
      "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, ",
    );
  });
});

// ---- the client, through a fake fetch -------------------------------------------------------------

interface Sent {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

const secret = "s3cr3t/Secret+Key=never-printed";
const sessionToken = "SESSION-TOKEN-never-printed";
const credentials = { accessKeyId: "backup-writer", secretAccessKey: secret, sessionToken };
const pathStyle: S3Location = {
  endpoint: "http://127.0.0.1:7070",
  bucket: "snapshots",
  region: "eu-central-1",
  forcePathStyle: true,
};

/** A client whose fetch records each request and answers with `answer(request)`. */
function fakeClient(answer: (request: Sent) => Response, location: S3Location = pathStyle) {
  const sent: Sent[] = [];
  const fakeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    init?.signal?.throwIfAborted();
    const body = init?.body;
    const request: Sent = {
      url: new URL(String(input)),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body:
        body instanceof Uint8Array
          ? body
          : body
            ? new Uint8Array(await new Response(body).arrayBuffer())
            : undefined,
    };
    sent.push(request);
    return answer(request);
  };
  const client = new S3Client(location, credentials, {
    fetch: fakeFetch as typeof fetch,
    now: () => new Date("2026-03-01T12:00:00Z"),
  });
  return { client, sent };
}

const xml = (body: string, status = 200) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { "content-type": "application/xml" },
  });
const errorXml = (code: string, status: number, extra = "") =>
  xml(
    `<Error><Code>${code}</Code><Message>it failed</Message>${extra}<RequestId>1</RequestId></Error>`,
    status,
  );

async function caught(promise: Promise<unknown>): Promise<S3Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error("expected an S3Error");
}

describe("S3Client requests", () => {
  it("puts path-style with the given hash and length, signed, the key encoded once", async () => {
    const { client, sent } = fakeClient(() => new Response(null, { status: 200 }));
    const body = new TextEncoder().encode("hello");
    const sha = createHash("sha256").update(body).digest("hex");
    await client.putObject("etcd/cp-1/2026-03-01T12:00:00Z snap.db", body, {
      size: 5,
      sha256Hex: sha.toUpperCase(),
      contentType: "application/octet-stream",
    });
    const [put] = sent;
    expect(put?.method).toBe("PUT");
    expect(put?.url.href).toBe(
      "http://127.0.0.1:7070/snapshots/etcd/cp-1/2026-03-01T12%3A00%3A00Z%20snap.db",
    );
    expect(put?.headers).toMatchObject({
      "content-length": "5",
      "content-type": "application/octet-stream",
      "x-amz-content-sha256": sha,
      "x-amz-date": "20260301T120000Z",
      "x-amz-security-token": sessionToken,
    });
    expect(put?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=backup-writer\/20260301\/eu-central-1\/s3\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(new TextDecoder().decode(put?.body)).toBe("hello");
  });

  it("uses the bucket's virtual host when path style is off", async () => {
    const { client, sent } = fakeClient(() => new Response(null, { status: 204 }), {
      ...pathStyle,
      endpoint: "https://s3.example.test:8443",
      forcePathStyle: false,
    });
    await client.deleteObject("a/b");
    expect(sent[0]?.url.href).toBe("https://snapshots.s3.example.test:8443/a/b");
    expect(sent[0]?.method).toBe("DELETE");
  });

  it("refuses a body whose size is not the one announced, before sending anything", async () => {
    const { client, sent } = fakeClient(() => new Response(null));
    await expect(client.putObject("k", new Uint8Array(3), { size: 4, sha256Hex: emptyHash })).rejects.toThrow(
      /3 bytes, not the 4/,
    );
    await expect(client.putObject("k", new Uint8Array(0), { size: 0, sha256Hex: "abc" })).rejects.toThrow(
      /SHA-256/,
    );
    expect(sent).toEqual([]);
  });

  it("refuses keys URL parsing would rewrite", async () => {
    const { client, sent } = fakeClient(() => new Response(null));
    for (const key of ["a/../b", "./a", "a/.", ""]) {
      expect((await caught(client.deleteObject(key))).code).toBe("InvalidKey");
    }
    expect(sent).toEqual([]);
  });

  it("refuses an endpoint with a path and a bucket name a host cannot carry", () => {
    expect(() => new S3Client({ ...pathStyle, endpoint: "http://h/prefix" }, credentials)).toThrow(
      /without a path/,
    );
    expect(() => new S3Client({ ...pathStyle, bucket: "a/b" }, credentials)).toThrow(/bucket name/);
    expect(
      () => new S3Client({ ...pathStyle, bucket: "Under_score", forcePathStyle: false }, credentials),
    ).toThrow(/bucket name/);
  });

  it("streams an object back and says its size", async () => {
    const { client, sent } = fakeClient(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode("abc"));
              controller.enqueue(new TextEncoder().encode("de"));
              controller.close();
            },
          }),
          { headers: { "content-length": "5" } },
        ),
    );
    const object = await client.getObject("x:y-z");
    expect(object.size).toBe(5);
    const chunks: string[] = [];
    for await (const chunk of object.body) chunks.push(new TextDecoder().decode(chunk));
    expect(chunks.join("")).toBe("abcde");
    expect(sent[0]?.url.pathname).toBe("/snapshots/x%3Ay-z");
    expect(sent[0]?.headers["accept-encoding"]).toBe("identity");
  });

  it("fails a download that ends short of its Content-Length", async () => {
    const { client } = fakeClient(() => new Response("abc", { headers: { "content-length": "5" } }));
    const object = await client.getObject("k");
    const read = async () => {
      for await (const _ of object.body) {
        // drain
      }
    };
    await expect(read()).rejects.toMatchObject({ code: "IncompleteBody", operation: "GetObject" });
  });
});

describe("S3Client listing", () => {
  const contents = (key: string, size: number) =>
    `<Contents><Key>${key}</Key><LastModified>2026-03-01T10:00:00.000Z</LastModified>` +
    `<ETag>&quot;0&quot;</ETag><Size>${size}</Size><Owner><ID>x</ID></Owner>` +
    "<StorageClass>STANDARD</StorageClass></Contents>";

  it("follows continuation tokens page by page", async () => {
    const pages = [
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>snapshots</Name><Prefix>etcd/</Prefix>${contents("etcd/1", 1)}${contents("etcd/2", 2)}<IsTruncated>true</IsTruncated><NextContinuationToken>tok+1/=</NextContinuationToken><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys></ListBucketResult>`,
      `<ListBucketResult><Prefix>etcd/</Prefix>${contents("etcd/3", 3)}${contents("etcd/4", 4)}<IsTruncated>true</IsTruncated><NextContinuationToken>tok2</NextContinuationToken></ListBucketResult>`,
      `<ListBucketResult><Prefix>etcd/</Prefix>${contents("etcd/5", 5)}<IsTruncated>false</IsTruncated></ListBucketResult>`,
    ];
    let page = 0;
    const { client, sent } = fakeClient(() => xml(pages[page++] ?? ""));
    const listed = await client.listObjects("etcd/", undefined, 2);
    expect(listed.map((o) => [o.key, o.size])).toEqual([
      ["etcd/1", 1],
      ["etcd/2", 2],
      ["etcd/3", 3],
      ["etcd/4", 4],
      ["etcd/5", 5],
    ]);
    expect(listed[0]?.lastModified).toEqual(new Date("2026-03-01T10:00:00Z"));
    expect(sent.map((s) => s.url.search)).toEqual([
      "?list-type=2&max-keys=2&prefix=etcd%2F",
      "?continuation-token=tok%2B1%2F%3D&list-type=2&max-keys=2&prefix=etcd%2F",
      "?continuation-token=tok2&list-type=2&max-keys=2&prefix=etcd%2F",
    ]);
    expect(sent.every((s) => s.url.pathname === "/snapshots")).toBe(true);
  });

  it("decodes entities, character references and CDATA in keys, and skips comments", async () => {
    const { client } = fakeClient(() =>
      xml(
        `<!-- a comment --><ListBucketResult>${contents("a&amp;b &lt;c&gt; &#233;&#x1F642; &apos;q&quot;", 7)}` +
          `<Contents><Key><![CDATA[raw <&> key]]></Key><LastModified>2026-03-01T10:00:00Z</LastModified><Size> 8 </Size></Contents>` +
          "<IsTruncated>false</IsTruncated></ListBucketResult>",
      ),
    );
    expect((await client.listObjects("")).map((o) => [o.key, o.size])).toEqual([
      ["a&b <c> é🙂 'q\"", 7],
      ["raw <&> key", 8],
    ]);
  });

  it("answers an empty list for an empty prefix", async () => {
    const { client } = fakeClient(() =>
      xml("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"),
    );
    expect(await client.listObjects("none/")).toEqual([]);
  });

  it.each([
    [
      "a truncated page without a token",
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
    ],
    [
      "a size that is not a number",
      `<ListBucketResult>${contents("k", -1)}<IsTruncated>false</IsTruncated></ListBucketResult>`,
    ],
    ["a missing IsTruncated", "<ListBucketResult></ListBucketResult>"],
    ["unbalanced XML", "<ListBucketResult><Contents></ListBucketResult>"],
    [
      "an unknown entity",
      "<ListBucketResult><Prefix>&nbsp;</Prefix><IsTruncated>false</IsTruncated></ListBucketResult>",
    ],
    ["another document", "<ListAllMyBucketsResult/>"],
  ])("calls %s an InvalidResponse", async (_, body) => {
    const { client } = fakeClient(() => xml(body));
    expect(await caught(client.listObjects("p"))).toMatchObject({
      code: "InvalidResponse",
      operation: "ListObjectsV2",
    });
  });
});

describe("S3Client errors", () => {
  it("names the operation, bucket/key and S3's code", async () => {
    const { client } = fakeClient(() => errorXml("NoSuchKey", 404, "<Key>etcd/missing</Key>"));
    const error = await caught(client.getObject("etcd/missing"));
    expect(error).toMatchObject({ code: "NoSuchKey", status: 404, operation: "GetObject" });
    expect(error.message).toBe("S3 GetObject snapshots/etcd/missing: NoSuchKey (HTTP 404)");
  });

  it("reads the code of an error body with a namespace and entities", async () => {
    const { client } = fakeClient(() =>
      xml('<Error xmlns="urn:x"><Code>Sig&#110;atureDoesNotMatch</Code></Error>', 403),
    );
    expect((await caught(client.deleteObject("k"))).code).toBe("SignatureDoesNotMatch");
  });

  it("never carries the credentials, even when the server echoes them", async () => {
    const echo = `<StringToSign>${secret}</StringToSign><AWSAccessKeyId>backup-writer</AWSAccessKeyId><Token>${sessionToken}</Token>`;
    const { client } = fakeClient(() => errorXml("SignatureDoesNotMatch", 403, echo));
    const error = await caught(client.putObject("k", new Uint8Array(1), { size: 1, sha256Hex: emptyHash }));
    expect(error.code).toBe("SignatureDoesNotMatch");
    const everything = [error.message, error.stack, String(error), JSON.stringify(error), error.code].join(
      "\n",
    );
    for (const leaked of [secret, sessionToken, "never-printed"]) expect(everything).not.toContain(leaked);
  });

  it("gives a code from the status when the answer has no error body", async () => {
    const answers = [new Response(null, { status: 404 }), new Response(null, { status: 403 })];
    const { client } = fakeClient(() => answers.shift() ?? new Response(null, { status: 500 }));
    expect(await caught(client.listObjects(""))).toMatchObject({ code: "NotFound", status: 404 });
    expect(await caught(client.listObjects(""))).toMatchObject({ code: "Forbidden", status: 403 });
    expect(await caught(client.listObjects(""))).toMatchObject({ code: "HTTP500", status: 500 });
  });

  it("turns an unreachable server into an S3Error with status 0 and the system's code", async () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    const client = new S3Client(pathStyle, credentials, {
      fetch: (async () => Promise.reject(refused)) as typeof fetch,
    });
    expect(await caught(client.listObjects(""))).toMatchObject({
      code: "ECONNREFUSED",
      status: 0,
      operation: "ListObjectsV2",
    });
  });

  it("lets an abort through as the abort it is", async () => {
    const { client } = fakeClient(() => new Response(null));
    const controller = new AbortController();
    controller.abort();
    await expect(client.listObjects("", controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});
