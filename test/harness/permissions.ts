// Permissions as (API group, resource, verb) triples: what RBAC rules grant, and what an identity
// used according to the apiserver's audit log, so that a test can find grants nobody uses.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** "group/resource:verb", the core group written as "core". */
export type Permission = string;

export const permission = (group: string, resource: string, verb: string): Permission =>
  `${group === "" ? "core" : group}/${resource}:${verb}`;

/** Every triple a list of rules grants; a wildcard is kept as "*" (and is what the caller checks for). */
export function expand(rules: Rule[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const rule of rules)
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) out.add(permission(group, resource, verb));
  return out;
}

/** The rules of every Role and ClusterRole in a manifest file. */
export function manifestRules(path: string): Rule[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as { kind?: string; rules?: Rule[] } | null)
    .filter((o) => o?.kind === "ClusterRole" || o?.kind === "Role")
    .flatMap((o) => o?.rules ?? []);
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

export interface AuditUse {
  /** Requests the apiserver allowed (any answer but 403). */
  used: Set<Permission>;
  /** Requests RBAC refused. */
  forbidden: Set<Permission>;
}

/** What `username` asked the apiserver for, from a JSON-lines audit log; non-resource URLs are left out. */
export function auditedUse(logText: string, username: string): AuditUse {
  const used = new Set<Permission>();
  const forbidden = new Set<Permission>();
  for (const line of logText.split("\n")) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as AuditEvent;
    // A watch is logged when its response starts, and again only when it ends.
    if (event.user?.username !== username || event.stage === "RequestReceived") continue;
    const ref = event.objectRef;
    if (!ref?.resource || !event.verb) continue;
    const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
    const triple = permission(ref.apiGroup ?? "", resource, event.verb);
    (event.responseStatus?.code === 403 ? forbidden : used).add(triple);
  }
  return { used, forbidden };
}
