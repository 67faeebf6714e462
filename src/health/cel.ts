// CEL health checks over any Kubernetes object: the expression sees it as `object` and must be
// true. A missing object, a missing field or an expression that does not compile fails the check
// with that message; it is never a silent pass.
import { isCelError, parse, run } from "@bufbuild/cel";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import type { GateResult } from "../model/observation.ts";

type CelCheck = PlanSpec["healthChecks"]["cel"][number];

/** Parses once to tell a broken expression from a failing one. */
function celCompileError(expression: string): string | undefined {
  try {
    parse(expression);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function evaluateCel(
  check: CelCheck,
  object: KubernetesObject | undefined,
  readError?: string,
): GateResult {
  const name = `cel/${check.name}`;
  const compileError = celCompileError(check.expression);
  if (compileError)
    return { name, passing: false, invalid: true, message: `expression does not compile: ${compileError}` };
  if (!object)
    return {
      name,
      passing: false,
      message: readError ?? `${check.resource.kind} ${check.resource.name} not found`,
    };
  const plain = JSON.parse(JSON.stringify(object));
  const failed = (message: string): GateResult => ({
    name,
    passing: false,
    message: quotesValue(message, plain)
      ? "evaluation failed (the error quotes a value of the object, so it is not shown)"
      : `evaluation failed: ${message}`,
  });
  try {
    const result = run(check.expression, { object: plain });
    if (isCelError(result)) return failed(result.message);
    if (result === true) return { name, passing: true, message: "passed" };
    // Never the value itself: the object is read with the operator's rights (a Secret, say), and
    // status and Events are read by anyone who can read plans.
    if (result === false) return { name, passing: false, message: "failed: the expression is false" };
    return {
      name,
      passing: false,
      invalid: true,
      message: `the expression returned a ${result === null ? "null" : typeof result}, not a boolean`,
    };
  } catch (error) {
    return failed((error as Error).message);
  }
}

/** Whether a message contains any string the object holds (a field's value, not its name). */
function quotesValue(message: string, value: unknown): boolean {
  if (typeof value === "string") {
    if (value.length >= 4 && message.includes(value.slice(0, 64))) return true;
    return value.split(/\s+/).some((piece) => piece.length >= 8 && message.includes(piece));
  }
  if (Array.isArray(value)) return value.some((item) => quotesValue(message, item));
  if (value !== null && typeof value === "object")
    return Object.values(value).some((v) => quotesValue(message, v));
  return false;
}
