/**
 * The CEL rules of a CRD (`x-kubernetes-validations`), evaluated with `self` bound to the
 * value, as the API server does on create. Transition rules (those that use `oldSelf`) only
 * apply to updates and are skipped. A rule that reads a field the object lacks fails, as on
 * the API server ("no such key"); a rule using a Kubernetes CEL library function this
 * evaluator lacks is skipped rather than guessed.
 */
import { parse, type ParseResult } from "@marcbachmann/cel-js";

export interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

const compiled = new Map<string, ParseResult | null>();

function program(rule: string): ParseResult | null {
  if (!compiled.has(rule)) {
    let parsed: ParseResult | null = null;
    try {
      parsed = parse(rule);
    } catch {
      parsed = null; // syntax outside what the evaluator knows
    }
    compiled.set(rule, parsed);
  }
  return compiled.get(rule) ?? null;
}

/** The failure message of the rule for this value, or undefined when it holds (or cannot be evaluated). */
export function celFailure(rule: CelRule, value: unknown): string | undefined {
  if (/\boldSelf\b/.test(rule.rule)) return undefined;
  const run = program(rule.rule);
  if (!run) return undefined;
  try {
    return run({ self: value }) === true ? undefined : (rule.message ?? `failed rule: ${rule.rule}`);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/No such key/i.test(text)) return rule.message ?? `failed rule: ${rule.rule} (${text.split("\n")[0]})`;
    return undefined;
  }
}
