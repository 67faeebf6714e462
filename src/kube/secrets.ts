// One key of a Secret, read with the operator's rights: its text, or why it cannot be had. The
// error names the Secret and the key, never what it holds.
import type { CoreV1Api } from "@kubernetes/client-node";
import { apiMessage, httpStatus } from "./client.ts";

export interface SecretKey {
  namespace: string;
  name: string;
  key: string;
}

export async function readSecretKey(core: CoreV1Api, ref: SecretKey): Promise<string | { error: string }> {
  const source = `secret ${ref.namespace}/${ref.name} key ${ref.key}`;
  try {
    const secret = await core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
    const data = secret.data?.[ref.key];
    if (!data) return { error: `${source}: the key is missing` };
    return Buffer.from(data, "base64").toString("utf8");
  } catch (error) {
    return { error: httpStatus(error) === 404 ? `${source}: not found` : `${source}: ${apiMessage(error)}` };
  }
}
