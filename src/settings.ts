// Process settings from the environment, validated with zod: every timeout is a setting, so tests
// can run fast and production can be patient.
import { hostname } from "node:os";
import { z } from "zod";
import { s3DestinationSchema } from "./api/v1alpha1/etcd-backup.ts";
import { defaultTalosconfigPath } from "./talos/talosconfig.ts";

const milliseconds = z.coerce.number().int().min(1);

const schema = z.object({
  kubeconfig: z.string().optional(),
  talosconfig: z.string().default(defaultTalosconfigPath),
  namespace: z.string().default("talos-upgrade-system"),
  leaderElection: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  leaseName: z.string().default("talos-upgrade-operator"),
  identity: z.string().default(`${hostname()}-${process.pid}`),
  leaseDurationMs: milliseconds.default(15_000),
  renewDeadlineMs: milliseconds.default(10_000),
  retryPeriodMs: milliseconds.default(2_000),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(8080),
  metricsHost: z.string().default("0.0.0.0"),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
  talosDeadlineMs: milliseconds.default(15_000),
  factsTtlMs: milliseconds.default(60_000),
  /** Only plans with this label selector are handled (several operators sharing a cluster in tests). */
  planSelector: z.string().optional(),
  /** Where plans store etcd snapshots unless they name a bucket: the chart's etcdBackup.s3, as JSON. */
  etcdBackupS3: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object" });
        return z.NEVER;
      }
    })
    .pipe(s3DestinationSchema)
    .optional(),
});

export type Settings = z.infer<typeof schema>;

const variables: Record<keyof z.input<typeof schema>, string> = {
  kubeconfig: "KUBECONFIG",
  talosconfig: "TALOSCONFIG",
  namespace: "OPERATOR_NAMESPACE",
  leaderElection: "LEADER_ELECTION",
  leaseName: "LEASE_NAME",
  identity: "POD_NAME",
  leaseDurationMs: "LEASE_DURATION_MS",
  renewDeadlineMs: "RENEW_DEADLINE_MS",
  retryPeriodMs: "RETRY_PERIOD_MS",
  metricsPort: "METRICS_PORT",
  metricsHost: "METRICS_HOST",
  logLevel: "LOG_LEVEL",
  talosDeadlineMs: "TALOS_DEADLINE_MS",
  factsTtlMs: "FACTS_TTL_MS",
  planSelector: "PLAN_SELECTOR",
  etcdBackupS3: "ETCD_BACKUP_S3",
};

type SettingsResult = { ok: true; settings: Settings } | { ok: false; message: string };

export function loadSettings(env: NodeJS.ProcessEnv): SettingsResult {
  const raw = Object.fromEntries(
    Object.entries(variables)
      .map(([key, variable]) => [key, env[variable]])
      .filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, settings: parsed.data };
  const issue = parsed.error.issues[0];
  const key = issue?.path[0] as keyof typeof variables | undefined;
  return { ok: false, message: `${key ? variables[key] : "settings"}: ${issue?.message ?? "invalid"}` };
}

export function settingsHelp(): string {
  return Object.entries(variables)
    .map(([key, variable]) => `  ${variable.padEnd(20)} ${key}`)
    .join("\n");
}
