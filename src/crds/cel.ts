/**
 * The CEL rules of a CRD (`x-kubernetes-validations`), evaluated with `self` bound to the
 * value, as the API server does on create. Transition rules (those that use `oldSelf`) only
 * apply to updates: on create the API server does not run them either. A rule that reads a
 * field the object lacks fails, as on the API server ("no such key"). A rule this evaluator
 * cannot run (syntax it does not parse, a Kubernetes CEL library function it lacks) is
 * reported as unchecked, never as passed.
 */
import { parse, type ParseResult } from "@marcbachmann/cel-js";

export interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/** What evaluating one rule on one value gave. */
export type CelOutcome =
  | { readonly kind: "passed" }
  /** Transition rule on a create: the API server skips it too. */
  | { readonly kind: "not-applicable" }
  | { readonly kind: "failed"; readonly message: string }
  /** The evaluator could not run the rule; `reason` says why. */
  | { readonly kind: "unchecked"; readonly reason: string };

const compiled = new Map<string, ParseResult | Error>();

function program(rule: string): ParseResult | Error {
  if (!compiled.has(rule)) {
    let parsed: ParseResult | Error;
    try {
      parsed = parse(rule);
    } catch (error) {
      parsed = error instanceof Error ? error : new Error(String(error));
    }
    compiled.set(rule, parsed);
  }
  return compiled.get(rule)!;
}

const firstLine = (text: string): string => text.split("\n")[0] ?? text;

/** Evaluates the rule for this value. */
export function celOutcome(rule: CelRule, value: unknown): CelOutcome {
  if (/\boldSelf\b/.test(rule.rule)) return { kind: "not-applicable" };
  const run = program(rule.rule);
  if (run instanceof Error) return { kind: "unchecked", reason: `the validator cannot parse it: ${firstLine(run.message)}` };
  try {
    return run({ self: value }) === true ? { kind: "passed" } : { kind: "failed", message: rule.message ?? `failed rule: ${rule.rule}` };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/No such key/i.test(text)) return { kind: "failed", message: rule.message ?? `failed rule: ${rule.rule} (${firstLine(text)})` };
    return { kind: "unchecked", reason: `the validator cannot evaluate it: ${firstLine(text)}` };
  }
}
