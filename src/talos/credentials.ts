// Talos credentials per plan: the mounted talosconfig (re-read when the file changes: its
// certificate rotates every few hours) or the Secret a plan names. One client per distinct config;
// the one a source read before it rotated is closed once no call uses it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Plan } from "../api/v1alpha1/plan.ts";
import { readSecretKey } from "../kube/secrets.ts";
import { type CallObserver, TalosClient } from "./client.ts";
import { parseTalosconfig } from "./talosconfig.ts";

export class TalosCredentials {
  private readonly clients = new Map<string, { client: TalosClient; notAfter: Date }>();
  /** The config each source (the mounted file, a Secret's key) read last, by its hash. */
  private readonly current = new Map<string, string>();
  private readonly core: CoreV1Api;
  private readonly path: string;
  private readonly deadlineMs: number;
  private readonly observe: CallObserver | undefined;

  constructor(kc: KubeConfig, options: { path: string; deadlineMs: number; observe?: CallObserver }) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.path = options.path;
    this.deadlineMs = options.deadlineMs;
    this.observe = options.observe;
  }

  async clientFor(plan: Plan): Promise<TalosClient | { error: string }> {
    const ref = plan.spec.talosConfig?.secretRef;
    let text: string;
    let source: string;
    if (ref) {
      source = `secret ${ref.namespace}/${ref.name} key ${ref.key}`;
      const read = await readSecretKey(this.core, ref);
      if (typeof read !== "string") return read;
      text = read;
    } else {
      source = this.path;
      try {
        text = await readFile(this.path, "utf8");
      } catch (error) {
        return { error: `${source}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}` };
      }
    }
    const expired = (notAfter: Date) => ({
      error: `${source}: the client certificate expired at ${notAfter.toISOString()}`,
    });
    const key = createHash("sha256").update(text).digest("hex");
    this.replace(source, key);
    const known = this.clients.get(key);
    // A client made while its certificate was valid is checked again on every use: the same
    // config read later may have expired meanwhile.
    if (known && known.notAfter.getTime() >= Date.now()) return known.client;
    if (known) {
      known.client.close();
      this.clients.delete(key);
      return expired(known.notAfter);
    }
    const parsed = parseTalosconfig(text, source);
    if (!parsed.ok) return { error: parsed.message };
    if (parsed.config.notAfter.getTime() < Date.now()) return expired(parsed.config.notAfter);
    const client = new TalosClient(parsed.config, {
      deadlineMs: this.deadlineMs,
      ...(this.observe ? { observe: this.observe } : {}),
    });
    this.clients.set(key, { client, notAfter: parsed.config.notAfter });
    return client;
  }

  /**
   * The source now reads `key`: a client of what it read before, that no other source reads, is
   * retired (closed once its calls under way end), so rotations do not pile up open channels.
   */
  private replace(source: string, key: string): void {
    const before = this.current.get(source);
    this.current.set(source, key);
    if (before === undefined || before === key) return;
    if ([...this.current.values()].includes(before)) return;
    this.clients.get(before)?.client.retire();
    this.clients.delete(before);
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
