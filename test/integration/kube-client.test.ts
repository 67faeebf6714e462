// The operator's Kubernetes client against the real apiserver: its requests share one connection
// (the client library alone opens one per request), and a new agent takes over after its lifetime.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { SharedAgentKubeConfig } from "../../src/kube/client.ts";
import { sharedKubeconfigPath } from "../../testkit/control-plane/shared-control-plane.ts";

/** New connections the HTTP client opened while `work` ran. */
async function connectionsDuring(work: () => Promise<void>): Promise<number> {
  let connections = 0;
  const onConnect = () => {
    connections++;
  };
  subscribe("undici:client:connected", onConnect);
  try {
    await work();
  } finally {
    unsubscribe("undici:client:connected", onConnect);
  }
  return connections;
}

async function tenRequests(kc: KubeConfig): Promise<void> {
  kc.loadFromFile(sharedKubeconfigPath());
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 10; i++) expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
}

describe("the operator's Kubernetes client", () => {
  it("sends ten requests over one connection", async () => {
    expect(await connectionsDuring(() => tenRequests(new SharedAgentKubeConfig()))).toBe(1);
  });

  it("replaces its agent once the agent's lifetime is over", async () => {
    expect(await connectionsDuring(() => tenRequests(new SharedAgentKubeConfig(0)))).toBe(10);
  });

  it("is needed: the library's own KubeConfig opens a connection per request", async () => {
    expect(await connectionsDuring(() => tenRequests(new KubeConfig()))).toBe(10);
  });
});
