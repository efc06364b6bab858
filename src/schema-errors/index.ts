/**
 * ajv's errors in our words, for every JSON Schema the project checks (platform.yaml, the
 * lab's scenario, the CRDs of generated objects): where each error points as path segments,
 * the value found there, and one message per keyword. Each caller then writes its own
 * prefix (a config field path, `scenario.…`, a CRD field path) and its own wording for
 * unknown and missing fields.
 *
 * Types only from ajv: this module is on `npm run synth`'s path and must not load a validator.
 */
import type { ErrorObject } from "ajv";

/** One step of a path: an object key or an array index. */
export type PathSegment = string | number;

/**
 * What one ajv error says, resolved against the validated document:
 * - `unknown-field`: `at` ends with the key that the schema does not allow;
 * - `missing`: `at` ends with the required key that is absent;
 * - `key`: `at` ends with an object key that fails `propertyNames` (`message` is about the key);
 * - `value`: the value at `at` fails `message`.
 */
export interface SchemaProblem {
  readonly kind: "unknown-field" | "missing" | "key" | "value";
  readonly at: readonly PathSegment[];
  /** The value at `at` (undefined when missing). */
  readonly value: unknown;
  readonly message: string;
  /** The ajv keyword, for callers with keywords of their own. */
  readonly keyword: string;
}

/** `/a/0/b~1c` → `["a", 0, "b/c"]` (RFC 6901 unescaping; digit-only segments are indexes). */
export function pointerSegments(instancePath: string): PathSegment[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The node at `segments` under `root`, or undefined. */
export function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let node = root;
  for (const s of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PathSegment, unknown>)[s];
  }
  return node;
}

/** `["spec", "ports", 0, "port"]` → `spec.ports[0].port`; with `root`, `root.spec…`. */
export function fieldPath(segments: readonly PathSegment[], root = ""): string {
  return segments.reduce<string>((text, s) => (typeof s === "number" ? `${text}[${s}]` : text === "" ? s : `${text}.${s}`), root);
}

/** A schema's own description of a pattern (`x-hint`), when it has one. */
function hint(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  return typeof parent?.["x-hint"] === "string" ? parent["x-hint"] : undefined;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** The message for a value (or a key) that fails keyword `e.keyword`. */
export function problemMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "pattern":
      return `must be ${hint(e) ?? `a string matching ${String(p.pattern)}`}`;
    case "enum":
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(", ")}`;
    case "type": {
      // YAML reads 1e309 as Infinity: say so, rather than "must be an integer"
      if (typeof e.data === "number" && !Number.isFinite(e.data)) return "must be a finite number: this one is out of range";
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(",")).map(String);
      return `must be ${types.map((t) => (t === "null" ? t : `${article(t)} ${t}`)).join(" or ")}`;
    }
    case "multipleOf":
      return `must be a multiple of ${String(p.multipleOf)}`;
    case "uniqueItems":
      return `must not repeat an item (items ${String(p.j)} and ${String(p.i)} are equal)`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * One ajv error against `root`, the document it validated. `propertyNames` errors give
 * undefined: ajv reports the failing key again, as its own error with `propertyName`.
 */
export function schemaProblem(root: unknown, e: ErrorObject): SchemaProblem | undefined {
  const at = pointerSegments(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const base = { keyword: e.keyword };
  switch (e.keyword) {
    case "additionalProperties": {
      const key = [...at, String(p.additionalProperty)];
      return { ...base, kind: "unknown-field", at: key, value: valueAt(root, key), message: "unknown field" };
    }
    case "required":
      return { ...base, kind: "missing", at: [...at, String(p.missingProperty)], value: undefined, message: "is required" };
    case "propertyNames":
      return undefined;
    default:
      if (e.propertyName !== undefined) return { ...base, kind: "key", at: [...at, e.propertyName], value: e.propertyName, message: problemMessage(e) };
      return { ...base, kind: "value", at, value: valueAt(root, at), message: problemMessage(e) };
  }
}
