// The real Alertmanager the silence tests use (testkit/control-plane/alertmanager.ts): it starts alone (no
// cluster), and its v2 API creates, lists and expires a silence.
import { type AlertmanagerServer, startAlertmanager } from "./alertmanager.ts";

let alertmanager: AlertmanagerServer | undefined;
afterEach(async () => {
  await alertmanager?.stop();
  alertmanager = undefined;
});

it("starts on loopback with clustering off, and its v2 API creates, lists and expires a silence", async () => {
  alertmanager = await startAlertmanager();
  const status = (await (await fetch(`${alertmanager.url}/api/v2/status`)).json()) as {
    cluster: { status: string };
    versionInfo: { version: string };
  };
  expect(status.cluster.status).toBe("disabled");
  expect(status.versionInfo.version).toMatch(/^\d+\.\d+\.\d+$/);

  const now = Date.now();
  const created = await fetch(`${alertmanager.url}/api/v2/silences`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      matchers: [{ name: "node", value: "cp-1", isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 600_000).toISOString(),
      createdBy: "talos-upgrade-operator tests",
      comment: "harness check",
    }),
  });
  expect(created.status).toBe(200);
  const { silenceID } = (await created.json()) as { silenceID: string };
  expect(await alertmanager.silences()).toEqual([
    expect.objectContaining({
      id: silenceID,
      status: { state: "active" },
      matchers: [expect.objectContaining({ name: "node", value: "cp-1" })],
    }),
  ]);

  expect((await fetch(`${alertmanager.url}/api/v2/silence/${silenceID}`, { method: "DELETE" })).status).toBe(
    200,
  );
  expect((await alertmanager.silences()).map((s) => [s.id, s.status.state])).toEqual([
    [silenceID, "expired"],
  ]);
});
