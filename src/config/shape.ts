/**
 * Shape checks of the raw YAML against the config's JSON Schema, with every ajv error turned
 * (by src/schema-errors, shared with the CRD and scenario checks) into a ConfigIssue that names
 * the field path and the value.
 */
import { Ajv, type ErrorObject } from "ajv";
import { schemaProblem } from "../schema-errors/index.js";
import { configJsonSchema } from "./schema.js";
import { issue } from "./errors.js";
import type { ConfigIssue } from "./types.js";

let compiled: ReturnType<Ajv["compile"]> | undefined;

function validator(): ReturnType<Ajv["compile"]> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
    compiled = ajv.compile(configJsonSchema());
  }
  return compiled;
}

function toIssue(raw: unknown, e: ErrorObject): ConfigIssue | undefined {
  const problem = schemaProblem(raw, e);
  if (!problem) return undefined;
  const message = problem.kind === "key" ? `key ${problem.message}` : problem.message;
  return issue(problem.at, problem.value, message);
}

/** Every shape problem of the raw config; empty when it has the right shape. */
export function checkShape(raw: unknown): ConfigIssue[] {
  const validate = validator();
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => toIssue(raw, e)).filter((i): i is ConfigIssue => i !== undefined);
}
