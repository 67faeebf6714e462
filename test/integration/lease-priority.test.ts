// The operator's Lease requests and API Priority and Fairness on the real apiserver: with
// deploy/base/flowschema.yaml applied, the apiserver classifies a Lease request made with the
// operator's ServiceAccount token into the leader-election priority level (it names the flow
// schema and priority level of each request in response headers), while its other requests stay
// where the suggested configuration puts service accounts.
import { request } from "node:https";
import { join } from "node:path";
import { kubectl } from "../../testkit/control-plane/kubectl.ts";
import { mintServiceAccountToken } from "../../testkit/control-plane/service-accounts.ts";
import { adminKubeConfig } from "../../testkit/control-plane/shared-control-plane.ts";
import { waitUntil } from "../../testkit/control-plane/wait.ts";

const base = join(import.meta.dirname, "..", "..", "deploy", "base");
const namespace = "talos-upgrade-system";

/** The UIDs of the flow schema and priority level the apiserver put a GET of `path` in. */
async function classified(
  path: string,
  token: string,
): Promise<{ flowSchema: string; priorityLevel: string }> {
  const cluster = adminKubeConfig().getCurrentCluster();
  if (!cluster?.caData) throw new Error("the admin kubeconfig has no cluster CA");
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: Buffer.from(cluster.caData as string, "base64"),
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        resolve({
          flowSchema: String(res.headers["x-kubernetes-pf-flowschema-uid"] ?? ""),
          priorityLevel: String(res.headers["x-kubernetes-pf-prioritylevel-uid"] ?? ""),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const uidOf = async (kind: string, name: string) =>
  (await kubectl(["get", kind, name, "-o", "jsonpath={.metadata.uid}"])).stdout;

it("serves the operator's Lease requests at the leader-election priority level, and only those", async () => {
  await kubectl(["apply", "-f", join(base, "namespace.yaml")]);
  for (const file of ["serviceaccount.yaml", "rbac.yaml", "flowschema.yaml"])
    await kubectl(["apply", "-f", join(base, file)]);
  // The apiserver marks a schema whose priority level does not exist as dangling.
  await waitUntil(
    "the FlowSchema is not dangling",
    async () =>
      (
        await kubectl([
          "get",
          "flowschema",
          "talos-upgrade-operator-leases",
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Dangling")].status}',
        ])
      ).stdout === "False",
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  const leaderElection = await uidOf("prioritylevelconfiguration", "leader-election");
  const ours = await uidOf("flowschema", "talos-upgrade-operator-leases");
  const workloadLow = await uidOf("prioritylevelconfiguration", "workload-low");
  const token = await mintServiceAccountToken(adminKubeConfig(), namespace, "talos-upgrade-operator");

  // The schema is read by the apiserver's configuration controller a moment after it is written.
  let lease = await classified(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/tuo`, token);
  await waitUntil(
    "the Lease request is classified by the operator's FlowSchema",
    async () => {
      lease = await classified(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/tuo`, token);
      return lease.flowSchema === ours;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expect(lease).toEqual({ flowSchema: ours, priorityLevel: leaderElection });

  // Its drains' reads and everything else stay in workload-low, and Leases of other namespaces too.
  const nodes = await classified("/api/v1/nodes", token);
  expect(nodes.priorityLevel).toBe(workloadLow);
  const elsewhere = await classified("/apis/coordination.k8s.io/v1/namespaces/default/leases/tuo", token);
  expect(elsewhere.flowSchema).not.toBe(ours);
  expect(elsewhere.priorityLevel).toBe(workloadLow);
});
