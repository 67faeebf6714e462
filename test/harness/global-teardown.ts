import type { ControlPlane } from "../../testkit/control-plane/control-plane.ts";

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { tuoControlPlane?: ControlPlane }).tuoControlPlane?.stop();
}
