// apid's authentication and routing as a gRPC client sees them: no client certificate or one from
// another CA is Unauthenticated; roles come from the certificate; `nodes` fans out with metadata.
import * as grpc from "@grpc/grpc-js";
import { services } from "../../src/talos/proto.ts";
import { createAuthority, issueCertificate } from "../control-plane/pki.ts";
import { Fleet } from "./fleet.ts";

type Callback = (error: grpc.ServiceError | null, response?: { messages: Record<string, unknown>[] }) => void;
interface MachineClient {
  Hostname(request: object, metadata: grpc.Metadata, callback: Callback): void;
  Version(request: object, metadata: grpc.Metadata, callback: Callback): void;
  close(): void;
}

function call(client: MachineClient, method: "Hostname" | "Version", metadata = new grpc.Metadata()) {
  return new Promise<{ messages: Record<string, unknown>[] }>((resolve, reject) =>
    client[method]({}, metadata, (error, response) =>
      error ? reject(error) : resolve(response ?? { messages: [] }),
    ),
  );
}

describe("apid authentication and routing", () => {
  let fleet: Fleet;
  const clients: MachineClient[] = [];
  const client = (credentials: grpc.ChannelCredentials) => {
    const made = new services.machine(
      `${fleet.node("cp-1").address}:50000`,
      credentials,
    ) as unknown as MachineClient;
    clients.push(made);
    return made;
  };
  const clientWith = (pair: { certPem: string; keyPem: string }): MachineClient =>
    client(
      grpc.credentials.createSsl(
        Buffer.from(fleet.ca.certPem),
        Buffer.from(pair.keyPem),
        Buffer.from(pair.certPem),
      ),
    );

  beforeAll(async () => {
    fleet = await Fleet.start({ controlPlanes: 1, workers: 2, talosVersion: "v1.12.4" });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await fleet.stop();
  });

  it("refuses a caller without a client certificate as Unauthenticated", async () => {
    const anonymous = client(grpc.credentials.createSsl(Buffer.from(fleet.ca.certPem)));
    await expect(call(anonymous, "Hostname")).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("refuses a certificate from another CA, and an expired one, as Unauthenticated", async () => {
    const foreignCa = await createAuthority("not-talos", "ed25519");
    const foreign = await issueCertificate(foreignCa, {
      commonName: "x",
      organizations: ["os:admin"],
      usage: "client",
    });
    const stranger = clientWith(foreign);
    await expect(call(stranger, "Hostname")).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });

    const expired = await issueCertificate(fleet.ca, {
      commonName: "old",
      organizations: ["os:admin"],
      usage: "client",
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    const late = clientWith(expired);
    await expect(call(late, "Hostname")).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("fans out over `nodes` with per-node metadata, and reports a down node in its message", async () => {
    const reader = await issueCertificate(fleet.ca, {
      commonName: "r",
      organizations: ["os:reader"],
      usage: "client",
    });
    const caller = clientWith(reader);
    const [first, second] = fleet.workers();
    second?.apidOutage(5_000);
    const metadata = new grpc.Metadata();
    metadata.add("nodes", first?.address ?? "");
    metadata.add("nodes", second?.address ?? "");
    const { messages } = await call(caller, "Hostname", metadata);
    expect(messages[0]).toMatchObject({ metadata: { hostname: first?.address }, hostname: first?.hostname });
    expect(messages[1]).toMatchObject({
      metadata: { hostname: second?.address, error: expect.stringContaining("refused") },
    });

    const single = new grpc.Metadata();
    single.set("node", first?.address ?? "");
    const routed = await call(caller, "Version", single);
    expect(routed.messages).toHaveLength(1);
    expect(routed.messages[0]?.metadata).toBeNull();
  });
});
