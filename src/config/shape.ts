/**
 * Shape checks of the raw YAML against the config's JSON Schema, with every ajv error turned
 * into a ConfigIssue that names the field path and the value.
 */
import { Ajv, type ErrorObject } from "ajv";
import { configJsonSchema } from "./schema.js";
import { issue, type PathSegment } from "./errors.js";
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

function segmentsOf(instancePath: string): PathSegment[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let node = root;
  for (const s of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PathSegment, unknown>)[s];
  }
  return node;
}

function hint(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  return typeof parent?.["x-hint"] === "string" ? parent["x-hint"] : undefined;
}

function message(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "pattern":
      return `must be ${hint(e) ?? `a string matching ${String(p.pattern)}`}`;
    case "enum":
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(", ")}`;
    case "type":
      // YAML reads 1e309 as Infinity: say so, rather than "must be an integer"
      if (typeof e.data === "number" && !Number.isFinite(e.data)) return "must be a finite number: this one is out of range";
      return `must be ${/^[aeiou]/.test(String(p.type)) ? "an" : "a"} ${String(p.type)}`;
    case "multipleOf":
      return `must be a multiple of ${String(p.multipleOf)}`;
    case "uniqueItems":
      return `must not repeat an item (items ${String(p.j)} and ${String(p.i)} are equal)`;
    default:
      return e.message ?? e.keyword;
  }
}

function toIssue(raw: unknown, e: ErrorObject): ConfigIssue | undefined {
  const at = segmentsOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") {
    const key = String(p.additionalProperty);
    return issue([...at, key], valueAt(raw, [...at, key]), "unknown field");
  }
  if (e.keyword === "required") {
    return issue([...at, String(p.missingProperty)], undefined, "is required");
  }
  if (e.keyword === "propertyNames") return undefined; // the inner error names the key
  if (e.propertyName !== undefined) {
    return issue([...at, e.propertyName], e.propertyName, `key ${message(e)}`);
  }
  return issue(at, valueAt(raw, at), message(e));
}

/** Every shape problem of the raw config; empty when it has the right shape. */
export function checkShape(raw: unknown): ConfigIssue[] {
  const validate = validator();
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => toIssue(raw, e)).filter((i): i is ConfigIssue => i !== undefined);
}
