// Access for test files to the control plane that the jest global setup started for the run: the
// e2e project has one of its own, the integration project another.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

export const kubeconfigEnv = "TUO_TEST_KUBECONFIG";
export const e2eKubeconfigEnv = "TUO_E2E_KUBECONFIG";
/** The operator's own kubeconfig in e2e runs: a ServiceAccount token bound to the chart's RBAC. */
export const operatorKubeconfigEnv = "TUO_E2E_OPERATOR_KUBECONFIG";
/** The etcd client URL of the integration project's control plane, and of the e2e project's. */
export const etcdUrlEnv = "TUO_TEST_ETCD_URL";
export const e2eEtcdUrlEnv = "TUO_E2E_ETCD_URL";

export function sharedKubeconfigPath(): string {
  const inE2e = expect.getState().testPath?.includes(`${sep}test${sep}e2e${sep}`) ?? false;
  const variable = inE2e ? e2eKubeconfigEnv : kubeconfigEnv;
  const path = process.env[variable];
  if (!path)
    throw new Error(`${variable} is not set: these tests need the jest global setup's control plane`);
  return path;
}

/** The client URL of the run's etcd (the one behind the shared kube-apiserver): what a fleet snapshots. */
export function sharedEtcdUrl(): string {
  const inE2e = expect.getState().testPath?.includes(`${sep}test${sep}e2e${sep}`) ?? false;
  const variable = inE2e ? e2eEtcdUrlEnv : etcdUrlEnv;
  const url = process.env[variable];
  if (!url) throw new Error(`${variable} is not set: these tests need the jest global setup's control plane`);
  return url;
}

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  return kc;
}

/** A name unique to this test run, so that tests sharing the control plane stay apart. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tuo-${prefix}-`));
}
