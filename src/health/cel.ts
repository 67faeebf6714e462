// CEL health checks over any Kubernetes object: the expression sees it as `object` and must be
// true. A missing object, a missing field or an expression that does not compile fails the check
// with that message; it is never a silent pass.
import { isCelError, parse, run } from "@bufbuild/cel";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { PlanSpec } from "../api/v1alpha1/plan.ts";
import type { GateResult } from "../model/observation.ts";

type CelCheck = PlanSpec["healthChecks"]["cel"][number];

/** Parses once to tell a broken expression from a failing one. */
export function celCompileError(expression: string): string | undefined {
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
  try {
    const result = run(check.expression, { object: JSON.parse(JSON.stringify(object)) });
    if (isCelError(result)) return { name, passing: false, message: `evaluation failed: ${result.message}` };
    if (result === true) return { name, passing: true, message: "true" };
    return { name, passing: false, message: `expression is ${String(result)}` };
  } catch (error) {
    return { name, passing: false, message: `evaluation failed: ${(error as Error).message}` };
  }
}
