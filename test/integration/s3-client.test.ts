// The S3 client (src/backup/s3.ts) against a real S3 server (testkit/control-plane/s3.ts): what it puts is
// on the server's disk byte for byte, comes back streamed, is listed page by page and deleted; the
// server's own refusals (a wrong secret, a body that is not the signed hash, a missing bucket)
// arrive as S3Errors with the server's codes.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client, S3Error } from "../../src/backup/s3.ts";
import { type S3Server, startS3 } from "../../testkit/control-plane/s3.ts";

let s3: S3Server;
let client: S3Client;
let dir: string;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Writes `bytes` to a file of the test's folder and returns what putObject needs. */
function file(name: string, bytes: Uint8Array) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { body: { path }, meta: { size: bytes.byteLength, sha256Hex: sha256(bytes) } };
}

async function download(key: string): Promise<{ size: number; bytes: Buffer }> {
  const object = await client.getObject(key);
  const chunks: Uint8Array[] = [];
  for await (const chunk of object.body) chunks.push(chunk);
  return { size: object.size, bytes: Buffer.concat(chunks) };
}

async function caught(promise: Promise<unknown>): Promise<S3Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error("expected an S3Error");
}

const location = () => ({
  endpoint: s3.endpoint,
  bucket: s3.bucket,
  region: s3.region,
  forcePathStyle: true,
});

beforeAll(async () => {
  s3 = await startS3();
  dir = mkdtempSync(join(tmpdir(), "tuo-s3-client-"));
  client = new S3Client(location(), { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
});

afterAll(async () => {
  await s3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("reaches the bucket", async () => {
  await expect(client.listObjects("")).resolves.toEqual(expect.any(Array));
});

it("puts a file that lands on the server's disk byte for byte, and streams it back", async () => {
  const key = "etcd/cp-1/2026-03-01T12:00:00Z-snapshot.db";
  const bytes = randomBytes(100_000);
  const { body, meta } = file("snapshot.db", bytes);
  await client.putObject(key, body, { ...meta, contentType: "application/octet-stream" });

  expect(sha256(readFileSync(s3.objectPath(key)))).toBe(meta.sha256Hex);
  const back = await download(key);
  expect(back.size).toBe(bytes.byteLength);
  expect(back.bytes.equals(bytes)).toBe(true);
});

it("puts bytes from memory, an empty object included", async () => {
  await client.putObject("memory/empty", new Uint8Array(0), {
    size: 0,
    sha256Hex: sha256(new Uint8Array(0)),
  });
  const hello = new TextEncoder().encode("hello: a-b/c");
  await client.putObject("memory/hello:1", hello, { size: hello.byteLength, sha256Hex: sha256(hello) });
  expect(readFileSync(s3.objectPath("memory/empty")).byteLength).toBe(0);
  expect(readFileSync(s3.objectPath("memory/hello:1"), "utf8")).toBe("hello: a-b/c");
  expect((await download("memory/empty")).size).toBe(0);
});

it("lists every key under a prefix across pages of two, and nothing outside it", async () => {
  const keys = [1, 2, 3, 4, 5].map((n) => `list/run-1/2026-03-0${n}T00:00:00Z-cp-${n}.db`);
  for (const [n, key] of keys.entries()) {
    const bytes = randomBytes(10 + n);
    await client.putObject(key, bytes, { size: bytes.byteLength, sha256Hex: sha256(bytes) });
  }
  const foreign = new TextEncoder().encode("not listed");
  await client.putObject("list/run-10/foreign", foreign, {
    size: foreign.byteLength,
    sha256Hex: sha256(foreign),
  });

  const before = Date.now();
  const listed = await client.listObjects("list/run-1/", undefined, 2);
  expect(listed.map((o) => o.key)).toEqual(keys);
  expect(listed.map((o) => o.size)).toEqual([10, 11, 12, 13, 14]);
  for (const o of listed) expect(Math.abs(o.lastModified.getTime() - before)).toBeLessThan(120_000);
  expect((await client.listObjects("list/")).map((o) => o.key)).toEqual(
    [...keys, "list/run-10/foreign"].sort(),
  );
  expect(await client.listObjects("list/none/")).toEqual([]);
});

it("deletes an object, and deleting it again succeeds", async () => {
  const key = "delete/me:now";
  const bytes = randomBytes(64);
  await client.putObject(key, bytes, { size: 64, sha256Hex: sha256(bytes) });
  expect(existsSync(s3.objectPath(key))).toBe(true);

  await client.deleteObject(key);
  expect(existsSync(s3.objectPath(key))).toBe(false);
  expect(await client.listObjects("delete/")).toEqual([]);
  expect(await caught(client.getObject(key))).toMatchObject({ code: "NoSuchKey", status: 404 });
  await expect(client.deleteObject(key)).resolves.toBeUndefined();
});

it("refuses a wrong secret with the server's signature code, and the error carries no secret", async () => {
  const wrongSecret = `${s3.secretAccessKey}-but-wrong`;
  const impostor = new S3Client(location(), { accessKeyId: s3.accessKeyId, secretAccessKey: wrongSecret });
  const bytes = randomBytes(32);
  const error = await caught(impostor.putObject("auth/x", bytes, { size: 32, sha256Hex: sha256(bytes) }));
  expect(error).toMatchObject({ code: "SignatureDoesNotMatch", status: 403, operation: "PutObject" });
  expect(await caught(impostor.listObjects(""))).toMatchObject({
    code: "SignatureDoesNotMatch",
    status: 403,
  });
  expect(existsSync(s3.objectPath("auth/x"))).toBe(false);
  const text = [error.message, error.stack, JSON.stringify(error)].join("\n");
  expect(text).not.toContain(wrongSecret);
  expect(text).not.toContain(s3.secretAccessKey);
});

it("refuses a body that is not the signed SHA-256, and stores nothing", async () => {
  const key = "integrity/snapshot.db";
  const { body, meta } = file("tampered.db", randomBytes(4096));
  const error = await caught(client.putObject(key, body, { ...meta, sha256Hex: sha256(randomBytes(8)) }));
  expect(error).toMatchObject({ code: "XAmzContentSHA256Mismatch", status: 400, operation: "PutObject" });
  expect(error.message).toContain(`${s3.bucket}/${key}`);
  expect(existsSync(s3.objectPath(key))).toBe(false);
});

it("names a missing bucket NoSuchBucket", async () => {
  const elsewhere = new S3Client(
    { ...location(), bucket: "no-such-bucket" },
    { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  );
  expect(await caught(elsewhere.listObjects(""))).toMatchObject({ code: "NoSuchBucket", status: 404 });
  const bytes = randomBytes(8);
  const error = await caught(elsewhere.putObject("k", bytes, { size: 8, sha256Hex: sha256(bytes) }));
  expect(error).toMatchObject({ code: "NoSuchBucket", status: 404 });
  expect(error.message).toBe("S3 PutObject no-such-bucket/k: NoSuchBucket (HTTP 404)");
});

it("round-trips a 20 MiB object streamed from a file", async () => {
  const key = "large/etcd-20MiB.db";
  const bytes = randomBytes(20 * 1024 * 1024);
  const { body, meta } = file("large.db", bytes);
  await client.putObject(key, body, meta);
  expect(sha256(readFileSync(s3.objectPath(key)))).toBe(meta.sha256Hex);

  const object = await client.getObject(key);
  expect(object.size).toBe(bytes.byteLength);
  const hash = createHash("sha256");
  let chunks = 0;
  for await (const chunk of object.body) {
    hash.update(chunk);
    chunks++;
  }
  expect(hash.digest("hex")).toBe(meta.sha256Hex);
  expect(chunks).toBeGreaterThan(1);
});
