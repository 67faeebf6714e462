// What a pass concludes about a plan, before it becomes phase and conditions.
export type Verdict =
  | { kind: "progressing" }
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "paused" }
  | { kind: "dryRun"; detail?: string }
  | { kind: "stalled"; reason: string; message: string; retrying?: boolean }
  | { kind: "failed"; reason: string; message: string };
