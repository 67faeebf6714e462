// ServiceAccount identities for tests: a token minted through the TokenRequest API and a kubeconfig
// that carries it, so that RBAC is exercised with a real non-admin identity.
import { join } from "node:path";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { writeKubeconfig } from "./control-plane.ts";
import { waitUntil } from "./wait.ts";

export async function mintServiceAccountToken(
  admin: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const review = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = review.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** Writes a kubeconfig for `system:serviceaccount:<namespace>:<name>` into `dir` and returns its path. */
export async function serviceAccountKubeconfig(
  admin: KubeConfig,
  dir: string,
  namespace: string,
  name: string,
): Promise<string> {
  const cluster = admin.getCurrentCluster();
  if (!cluster?.caData) throw new Error("the admin kubeconfig has no cluster CA");
  const path = join(dir, `${namespace}-${name}.kubeconfig`);
  writeKubeconfig(path, cluster.server, Buffer.from(cluster.caData, "base64").toString(), {
    name: `${namespace}-${name}`,
    token: await mintServiceAccountToken(admin, namespace, name),
  });
  return path;
}

/**
 * Waits for a namespace's default ServiceAccount, which a pod's admission looks up: the controller
 * manager makes it a moment after the namespace, so a pod created at once may be refused.
 */
export async function defaultServiceAccount(core: CoreV1Api, namespace: string): Promise<void> {
  await waitUntil(
    `the default ServiceAccount of ${namespace}`,
    async () =>
      core.readNamespacedServiceAccount({ namespace, name: "default" }).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 60_000 },
  );
}
