// An etcd snapshot taken before a pass first touches a control plane (a Talos version step, or
// the Kubernetes phase), stored in an S3-compatible bucket and verified there. Talos' own upgrade
// guide asks for one; with it, a control plane lost mid-upgrade can be recovered.
import { z } from "zod";
import { duration } from "./duration.ts";

const secretKey = z.string().min(1).max(253);

export const s3DestinationSchema = z
  .object({
    endpoint: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, "must be an http(s) URL")
      .describe("The S3 endpoint, e.g. https://s3.eu-central-1.amazonaws.com or an in-house gateway."),
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(
        /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
        "must be an S3 bucket name (lowercase letters, digits, dots, dashes)",
      ),
    region: z.string().min(1).max(64).default("us-east-1"),
    prefix: z
      .string()
      .max(256)
      .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, "must be empty or end with / (letters, digits and !_.*'()-)")
      .default("talos-upgrade/")
      .describe("Keys are <prefix><plan>/<UTC time>-<node>.db."),
    forcePathStyle: z
      .boolean()
      .default(true)
      .describe("Path-style URLs (<endpoint>/<bucket>/<key>), as most in-house gateways need."),
    credentialsSecretRef: z
      .object({
        name: z.string().min(1).max(253),
        namespace: z.string().min(1).max(63),
        accessKeyIdKey: secretKey.default("accessKeyId"),
        secretAccessKeyKey: secretKey.default("secretAccessKey"),
        sessionTokenKey: secretKey.optional(),
      })
      .describe("The Secret holding the access key (read in the operator's namespace only)."),
  })
  .describe("An S3-compatible bucket; requests are signed with AWS Signature Version 4.");

export type S3Destination = z.output<typeof s3DestinationSchema>;

export const etcdBackupSchema = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe(
        "Default: on when a destination is known (s3 here, or the operator's default destination). On without a destination stalls the plan before its first control plane.",
      ),
    s3: s3DestinationSchema.optional(),
    retention: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(5)
      .describe(
        "The plan's snapshots kept in the bucket; older ones are deleted after a new one is verified.",
      ),
    timeout: duration.default("15m").describe("One attempt: stream, upload and read-back."),
    maxAge: duration
      .default("1h")
      .describe(
        "A verified snapshot older than this is taken again before the pass's first control plane starts, and before the next one once the pass has not worked on a control plane for this long (a closed window, a retry).",
      ),
  })
  .describe("An etcd snapshot before each pass first touches a control plane.");

const etcdBackupStates = ["Running", "Verified", "Failed"] as const;

export const etcdBackupStatusSchema = z
  .object({
    pass: z
      .string()
      .describe('The pass it guards: "talos v1.12.4" (a version step) or "kubernetes v1.36.0".'),
    state: z.enum(etcdBackupStates),
    node: z.string().optional().describe("The control plane the snapshot is streamed from."),
    key: z
      .string()
      .optional()
      .describe("The object key, fixed when the attempt is recorded: a repeated run writes the same object."),
    location: z.string().optional().describe("s3://<bucket>/<key>"),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional().describe("When it was verified, or failed."),
    size: z.number().int().optional().describe("Bytes stored: etcd's database and its SHA-256 trailer."),
    sha256: z.string().optional().describe("SHA-256 of the stored object, as read back from the bucket."),
    attempts: z
      .number()
      .int()
      .default(0)
      .describe("Attempts for this pass; a retry of a failed one counts on."),
    reason: z.string().optional(),
    message: z
      .string()
      .optional()
      .describe("Why the last attempt failed, or that older snapshots were not pruned."),
    retained: z
      .number()
      .int()
      .optional()
      .describe("Snapshots of this plan left in the bucket after pruning."),
  })
  .describe("The etcd snapshot of the current or last pass that touched control planes.");

export type EtcdBackupStatus = z.infer<typeof etcdBackupStatusSchema>;
