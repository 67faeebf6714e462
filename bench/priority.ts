// The simulated machines and the kubelet stand-in live in the bench's own process, where real
// machines would each have their own CPUs. On a small host the control plane and the tool under
// measure can starve them, and the lag rule then refuses the case. So everything else the bench
// starts runs at a lower priority than the bench itself: the operator, the talosctl loop and the
// control plane share one level, so neither tool is favoured over the apiserver it talks to.
import { setPriority } from "node:os";

/** The nice value of every process the bench starts; the bench itself keeps its own (0). */
export const othersNice = 5;

/**
 * Lowers a started process to `othersNice`. A host that refuses (no permission) runs it at the
 * bench's level; the lag rule still guards the figures, and the caller is told.
 */
export function lowerPriority(pid: number): string | undefined {
  try {
    setPriority(pid, othersNice);
    return undefined;
  } catch (error) {
    return `could not lower process ${pid} to nice ${othersNice}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
