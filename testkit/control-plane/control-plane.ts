// The envtest equivalent: a real etcd and kube-apiserver (and optionally the real
// kube-controller-manager and kube-scheduler) on loopback, on free ports, in a fresh folder.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthority, createSigningKey, issueCertificate, type KeyPairPem } from "./pki.ts";
import { freePorts, logTail, type ManagedProcess, startProcess } from "./process.ts";
import { tool } from "./tools.ts";
import { waitUntil } from "./wait.ts";

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager and kube-scheduler (PDB status, ReplicaSets, GC, node lifecycle). */
  controllers?: boolean;
  /** Extra kube-apiserver flags, e.g. `--audit-log-path=…`. */
  apiServerFlags?: string[];
  /** Extra kube-controller-manager flags, e.g. a shorter `--node-monitor-grace-period`. */
  controllerManagerFlags?: string[];
  /** Extra kube-scheduler flags, e.g. its client's `--kube-api-qps`. */
  schedulerFlags?: string[];
  /** Keep the data folder after stop() for post-mortems. */
  keepDir?: boolean;
  /** An audit policy (YAML): kube-apiserver then writes what it records to `auditLogPath`, as JSON lines. */
  auditPolicy?: string;
}

export interface ControlPlaneVersions {
  kubeApiServer: string;
  etcd: string;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
}

const readyTimeoutMs = 60_000;

/** Writes a kubeconfig (JSON, which kubectl and client libraries read as YAML). */
export function writeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: { name: string; token?: string; certPem?: string; keyPem?: string },
): void {
  const credentials = user.token
    ? { token: user.token }
    : {
        "client-certificate-data": Buffer.from(user.certPem ?? "").toString("base64"),
        "client-key-data": Buffer.from(user.keyPem ?? "").toString("base64"),
      };
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "envtest",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: user.name, user: credentials }],
    contexts: [{ name: user.name, context: { cluster: "envtest", user: user.name } }],
    "current-context": user.name,
  };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

export class ControlPlane {
  readonly dir: string;
  readonly server: string;
  /** etcd's client URL (plain http on loopback): what kube-apiserver uses, and what a fleet snapshots. */
  readonly etcdUrl: string;
  readonly kubeconfigPath: string;
  /** The audit log, when started with an audit policy. */
  readonly auditLogPath: string | undefined;
  readonly caPem: string;
  readonly admin: KeyPairPem;
  readonly versions: ControlPlaneVersions;
  private readonly ports: Ports;
  private options: ControlPlaneOptions;
  private processes = new Map<string, ManagedProcess>();

  private constructor(init: {
    dir: string;
    ports: Ports;
    caPem: string;
    admin: KeyPairPem;
    versions: ControlPlaneVersions;
    options: ControlPlaneOptions;
  }) {
    this.dir = init.dir;
    this.ports = init.ports;
    this.caPem = init.caPem;
    this.admin = init.admin;
    this.versions = init.versions;
    this.options = init.options;
    this.server = `https://127.0.0.1:${init.ports.apiServer}`;
    this.etcdUrl = `http://127.0.0.1:${init.ports.etcdClient}`;
    this.kubeconfigPath = join(init.dir, "admin.kubeconfig");
    this.auditLogPath = init.options.auditPolicy ? join(init.dir, "audit.log") : undefined;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const bins = {
      etcd: tool("kube", "etcd"),
      apiServer: tool("kube", "kube-apiserver"),
    };
    const dir = mkdtempSync(join(tmpdir(), "tuo-control-plane-"));
    const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = await freePorts(5);
    const ports = { etcdClient, etcdPeer, apiServer, controllerManager, scheduler } as Ports;

    const ca = await createAuthority("envtest-ca", "ecdsa-p256");
    const serving = await issueCertificate(ca, {
      commonName: "kube-apiserver",
      sans: ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
      usage: "server",
    });
    const admin = await issueCertificate(ca, {
      commonName: "envtest-admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    const serviceAccountKey = await createSigningKey("ecdsa-p256");
    const pki = join(dir, "pki");
    mkdirSync(pki);
    const files: Record<string, string> = {
      "ca.crt": ca.certPem,
      "ca.key": ca.keyPem,
      "apiserver.crt": serving.certPem,
      "apiserver.key": serving.keyPem,
      "sa.pub": serviceAccountKey.publicPem,
      "sa.key": serviceAccountKey.privatePem,
    };
    for (const [name, content] of Object.entries(files))
      writeFileSync(join(pki, name), content, { mode: 0o600 });

    const versions = {
      kubeApiServer: execFileSync(bins.apiServer, ["--version"], { encoding: "utf8" })
        .trim()
        .replace(/^Kubernetes /, ""),
      etcd:
        /etcd Version: (\S+)/.exec(execFileSync(bins.etcd, ["--version"], { encoding: "utf8" }))?.[1] ??
        "unknown",
    };
    const plane = new ControlPlane({ dir, ports, caPem: ca.certPem, admin, versions, options });
    writeKubeconfig(plane.kubeconfigPath, plane.server, ca.certPem, { name: "admin", ...admin });
    try {
      await plane.startEtcd();
      await plane.startApiServer();
      if (options.controllers) {
        await plane.startControllerManager();
        await plane.startScheduler();
      }
    } catch (error) {
      await plane.stop();
      throw error;
    }
    return plane;
  }

  /** Path of a file in the control plane's PKI folder (ca.crt, ca.key, sa.key, ...). */
  pkiFile(name: string): string {
    return join(this.dir, "pki", name);
  }

  async startEtcd(): Promise<void> {
    const client = this.etcdUrl;
    const peer = `http://127.0.0.1:${this.ports.etcdPeer}`;
    await this.launch(
      "etcd",
      tool("kube", "etcd"),
      [
        "--name=envtest",
        `--data-dir=${join(this.dir, "etcd")}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=envtest=${peer}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
      () => httpOk(`${client}/health`),
    );
  }

  async startApiServer(): Promise<void> {
    const audit: string[] = [];
    if (this.options.auditPolicy && this.auditLogPath) {
      const policy = join(this.dir, "audit-policy.yaml");
      writeFileSync(policy, this.options.auditPolicy);
      audit.push(
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${this.auditLogPath}`,
        "--audit-log-format=json",
      );
    }
    await this.launch(
      "kube-apiserver",
      tool("kube", "kube-apiserver"),
      [
        `--etcd-servers=${this.etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${this.ports.apiServer}`,
        `--cert-dir=${join(this.dir, "apiserver-certs")}`,
        `--tls-cert-file=${this.pkiFile("apiserver.crt")}`,
        `--tls-private-key-file=${this.pkiFile("apiserver.key")}`,
        `--client-ca-file=${this.pkiFile("ca.crt")}`,
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${this.pkiFile("sa.pub")}`,
        `--service-account-signing-key-file=${this.pkiFile("sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/24",
        "--allow-privileged=true",
        "--enable-admission-plugins=NodeRestriction",
        "--profiling=false",
        ...audit,
        ...(this.options.apiServerFlags ?? []),
      ],
      () => this.apiGetOk("/readyz"),
    );
  }

  async startControllerManager(): Promise<void> {
    const kubeconfig = this.kubeconfigPath;
    await this.launch(
      "kube-controller-manager",
      tool("kube", "kube-controller-manager"),
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${this.ports.controllerManager}`,
        `--cert-dir=${join(this.dir, "controller-manager-certs")}`,
        "--leader-elect=false",
        "--use-service-account-credentials=true",
        `--root-ca-file=${this.pkiFile("ca.crt")}`,
        `--service-account-private-key-file=${this.pkiFile("sa.key")}`,
        `--cluster-signing-cert-file=${this.pkiFile("ca.crt")}`,
        `--cluster-signing-key-file=${this.pkiFile("ca.key")}`,
        "--controllers=*",
        ...(this.options.controllerManagerFlags ?? []),
      ],
      () => httpsOk(`https://127.0.0.1:${this.ports.controllerManager}/healthz`),
    );
  }

  async startScheduler(): Promise<void> {
    const kubeconfig = this.kubeconfigPath;
    await this.launch(
      "kube-scheduler",
      tool("kube", "kube-scheduler"),
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${this.ports.scheduler}`,
        `--cert-dir=${join(this.dir, "scheduler-certs")}`,
        "--leader-elect=false",
        ...(this.options.schedulerFlags ?? []),
      ],
      () => httpsOk(`https://127.0.0.1:${this.ports.scheduler}/healthz`),
    );
  }

  /** Stops one component (a fault); `start*()` brings it back on the same port and data. */
  async stopComponent(name: string, how: "stop" | "kill" = "stop"): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc) return;
    await (how === "kill" ? proc.kill() : proc.stop());
    this.processes.delete(name);
  }

  /** Restarts the apiserver on the same port and data; with `apiServerFlags`, with those instead. */
  async restartApiServer(apiServerFlags?: string[]): Promise<void> {
    await this.stopComponent("kube-apiserver");
    if (apiServerFlags) this.options = { ...this.options, apiServerFlags };
    await this.startApiServer();
  }

  running(name: string): boolean {
    return this.processes.get(name)?.running() ?? false;
  }

  pids(): number[] {
    return [...this.processes.values()].map((p) => p.pid);
  }

  /** The process of each running component, by name (kube-apiserver, etcd, ...). */
  pidsByName(): Record<string, number> {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.pid]));
  }

  /** Stops every component, dependants first, and removes the data folder unless asked to keep it. */
  async stop(): Promise<void> {
    for (const name of ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]) {
      await this.stopComponent(name);
    }
    if (!this.options.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(name: string, binary: string, args: string[], ready: () => Promise<boolean>) {
    if (this.processes.get(name)?.running()) throw new Error(`${name} is already running`);
    const logFile = join(this.dir, `${name}.log`);
    const proc = startProcess(name, binary, args, { logFile });
    this.processes.set(name, proc);
    await waitUntil(name, ready, {
      timeoutMs: readyTimeoutMs,
      alive: proc.running,
      describe: () => logTail(logFile),
    });
  }

  private apiGetOk(path: string): Promise<boolean> {
    return httpsOk(`${this.server}${path}`, {
      ca: this.caPem,
      cert: this.admin.certPem,
      key: this.admin.keyPem,
    });
  }
}

function httpOk(url: string): Promise<boolean> {
  return fetch(url).then(
    (r) => r.ok,
    () => false,
  );
}

/** A GET over TLS; without `ca` the peer is not verified (local health endpoints with self-signed certs). */
function httpsOk(url: string, tls: { ca?: string; cert?: string; key?: string } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, rejectUnauthorized: tls.ca !== undefined, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}
