// The conformance suite can fail: a simulator that puts a field under the wrong number is caught
// by the real talosctl, which then no longer sees the simulated fact.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { tool } from "../control-plane/tools.ts";
import { Fleet } from "./fleet.ts";

const run = promisify(execFile);

it("talosctl sees no version when the simulator encodes VersionInfo.tag under a wrong field number", async () => {
  const protoRoot = mkdtempSync(join(tmpdir(), "tuo-mutated-proto-"));
  cpSync(join(import.meta.dirname, "..", "..", "proto"), protoRoot, { recursive: true });
  const machine = join(protoRoot, "machine", "machine.proto");
  const original = readFileSync(machine, "utf8");
  const mutated = original.replace(/(message VersionInfo \{\s*string tag = )1;/, "$17;");
  expect(mutated).not.toBe(original);
  writeFileSync(machine, mutated);

  const talosctl = tool("talosctl", "talosctl");
  const version = async (fleet: Fleet) =>
    (await run(talosctl, ["--talosconfig", fleet.talosconfig.admin, "version"], { timeout: 30_000 })).stdout;
  const faithful = await Fleet.start({ controlPlanes: 1, workers: 0, talosVersion: "v1.12.4" });
  const broken = await Fleet.start({ controlPlanes: 1, workers: 0, talosVersion: "v1.12.4", protoRoot });
  try {
    expect(await version(faithful)).toMatch(/Server:[\s\S]*Tag:\s+v1\.12\.4/);
    expect(await version(broken)).not.toMatch(/Server:[\s\S]*Tag:\s+v1\.12\.4/);
  } finally {
    await faithful.stop();
    await broken.stop();
    rmSync(protoRoot, { recursive: true, force: true });
  }
});
