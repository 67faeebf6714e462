import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";

export default async function e2eTeardown(): Promise<void> {
  await (globalThis as { tuoE2eControlPlane?: ControlPlane }).tuoE2eControlPlane?.stop();
}
