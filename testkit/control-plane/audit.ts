// What one identity asked a kube-apiserver for, from its audit log (JSON lines): requests counted
// by verb and resource, and the pod reads with the scope they carried.

export interface AuditCount {
  requests: number;
  /** By verb and resource, e.g. `update leases`. */
  byVerb: Record<string, number>;
}

/**
 * Requests one user made, from a kube-apiserver audit log (JSON lines). A request can appear in
 * several stages (a watch: ResponseStarted, then ResponseComplete), so requests count by auditID.
 */
export function auditRequests(auditLog: string, username: string, from: number, to: number): AuditCount {
  const seen = new Set<string>();
  const byVerb: Record<string, number> = {};
  for (const line of auditLog.split("\n")) {
    if (!line.includes(username)) continue;
    const event = JSON.parse(line) as {
      auditID: string;
      verb: string;
      objectRef?: { resource?: string; subresource?: string };
      user?: { username?: string };
      requestReceivedTimestamp: string;
    };
    if (event.user?.username !== username || seen.has(event.auditID)) continue;
    const at = Date.parse(event.requestReceivedTimestamp);
    if (at < from || at > to) continue;
    seen.add(event.auditID);
    const resource = [event.objectRef?.resource, event.objectRef?.subresource].filter(Boolean).join("/");
    const key = `${event.verb} ${resource}`;
    byVerb[key] = (byVerb[key] ?? 0) + 1;
  }
  return { requests: seen.size, byVerb };
}

/** The pod lists and watches `username` made (each once), as their request URIs. */
export function auditedPodReads(logText: string, username: string): string[] {
  const uris = new Set<string>();
  for (const line of logText.split("\n")) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as {
      verb?: string;
      requestURI?: string;
      user?: { username?: string };
      objectRef?: { resource?: string; subresource?: string };
    };
    if (event.user?.username !== username || event.objectRef?.resource !== "pods") continue;
    if (event.objectRef.subresource || (event.verb !== "list" && event.verb !== "watch")) continue;
    if (event.requestURI) uris.add(event.requestURI);
  }
  return [...uris];
}

/** The operator's ServiceAccount as e2e clusters create it (deploy/base in the default namespace). */
export const operatorUser = "system:serviceaccount:default:talos-upgrade-operator";

/** An audit policy that records every request of the operator's identity, and nothing else. */
export const operatorAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - {level: Metadata, users: ["${operatorUser}"]}
  - {level: None}
`;
