// 200 simulated machines in one process, each answering through one control plane endpoint with
// `node` routing. The time taken is printed for the record; speed is the benchmark's business.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { services } from "../../src/talos/proto.ts";
import { Fleet } from "./fleet.ts";

function credentialsFrom(talosconfig: string): { endpoint: string; credentials: grpc.ChannelCredentials } {
  const text = readFileSync(talosconfig, "utf8");
  const field = (key: string) => Buffer.from(new RegExp(`${key}: (\\S+)`).exec(text)?.[1] ?? "", "base64");
  const endpoint = /endpoints: \["([^"]+)"/.exec(text)?.[1] ?? "";
  return { endpoint, credentials: grpc.credentials.createSsl(field("ca"), field("key"), field("crt")) };
}

it("runs 200 machines in one process, each reachable through a control plane endpoint", async () => {
  const started = Date.now();
  const fleet = await Fleet.start({ controlPlanes: 3, workers: 197, talosVersion: "v1.12.4" });
  const startMs = Date.now() - started;
  try {
    const { endpoint, credentials } = credentialsFrom(fleet.talosconfig.reader);
    const client = new services.machine(`${endpoint}:50000`, credentials) as unknown as {
      Hostname(
        req: object,
        md: grpc.Metadata,
        cb: (e: grpc.ServiceError | null, r?: { messages: { hostname: string }[] }) => void,
      ): void;
      close(): void;
    };
    const hostnames = await Promise.all(
      fleet.nodes().map(
        (node) =>
          new Promise<string>((resolve, reject) => {
            const metadata = new grpc.Metadata();
            metadata.set("node", node.address);
            client.Hostname({}, metadata, (error, response) =>
              error ? reject(error) : resolve(response?.messages[0]?.hostname ?? ""),
            );
          }),
      ),
    );
    client.close();
    expect(hostnames).toEqual(fleet.nodes().map((n) => n.hostname));
    console.log(
      `200 simulated machines: started in ${startMs} ms, all 200 answered Hostname through ${endpoint}`,
    );
  } finally {
    await fleet.stop();
  }
});
