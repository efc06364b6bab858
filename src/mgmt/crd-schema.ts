/**
 * A chart's values schema (JSON Schema, as Helm validates values) as the OpenAPI v3 schema
 * of a CRD, so the API server itself refuses bad values, naming the field. CRD schemas must
 * be structural and lack some JSON Schema keywords; each is translated into what the API
 * server does enforce:
 *
 * - `additionalProperties: false` beside `properties`: dropped; the API server refuses
 *   unknown fields under strict field validation (kubectl's default);
 * - `patternProperties` (one pattern) with `additionalProperties: false`: the pattern's
 *   schema for every value; the key pattern is left to Helm's check of the chart's
 *   values.schema.json at install (a CEL rule over an unbounded map's keys is refused by
 *   the API server as too costly), so a bad key fails the HelmRelease, naming it;
 * - `uniqueItems: true` on a list of scalars: `x-kubernetes-list-type: set`;
 * - `const`: a one-value `enum`;
 * - `anyOf` of an integer and a string schema: `x-kubernetes-int-or-string` with each
 *   branch's bounds and pattern on the node (each applies only to its own type);
 * - `allOf` of `if {properties: {k: {const: v}}} then {required: [...]}`: one CEL rule each;
 * - a property with `not: {}` beside its shape (a field refused whatever its value, such as
 *   KubeVirt's `instanceType`): kept with its shape, so the API server does not call it
 *   unknown and CEL can name it, plus a CEL rule `!has(self.<key>)` on the object with the
 *   property's description as the message and the field as its path, so the refusal says why.
 * Anything else that a CRD cannot hold is an error naming the path, never silently dropped.
 */

export type JsonSchema = { readonly [key: string]: unknown };

/** Keywords copied as they are. */
const plain = new Set([
  "type",
  "title",
  "description",
  "default",
  "enum",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "multipleOf",
  "required",
  "nullable",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
]);

/** Handled by the translation itself. */
const translated = new Set(["properties", "items", "additionalProperties", "patternProperties", "uniqueItems", "const", "anyOf", "allOf", "not", "$schema"]);

interface Rule {
  readonly rule: string;
  readonly message: string;
  /** The field the API server names in its error (relative to the object). */
  readonly fieldPath?: string;
}

/** `not: {}` beside the property's shape: a property no value may take. */
function isRefused(schema: JsonSchema): boolean {
  const not = schema["not"] as JsonSchema | undefined;
  return not !== undefined && Object.keys(not).length === 0;
}

/** The object's CEL rule that refuses a property, saying why (its description). */
function refusal(key: string, schema: JsonSchema, path: string): Rule {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(`${path}/${key}`, "a refused property whose name is not a CEL identifier");
  const why = typeof schema["description"] === "string" ? schema["description"] : "refused";
  return { rule: `!has(self.${key})`, message: `${key}: ${why}`, fieldPath: `.${key}` };
}

/** A CEL string literal. */
const celString = (text: string): string => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function fail(path: string, what: string): never {
  throw new Error(`values schema at ${path || "/"}: ${what} has no CRD equivalent`);
}

/** Keywords the OpenAPI validator applies only to values of one type (the others pass them). */
const numberOnly = new Set(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]);
const stringOnly = new Set(["pattern", "minLength", "maxLength", "format"]);

/**
 * `anyOf` of an integer and a string schema, as Kubernetes spells a quantity: int-or-string
 * with each branch's checks on the node itself. That keeps their meaning, because the API
 * server checks `minimum` only on numbers and `pattern` only on strings (as controller-gen's
 * schema for resource.Quantity relies on).
 */
function intOrString(anyOf: readonly JsonSchema[], path: string): JsonSchema | undefined {
  const integer = anyOf.find((b) => b["type"] === "integer");
  const string = anyOf.find((b) => b["type"] === "string");
  if (anyOf.length !== 2 || !integer || !string) return undefined;
  const checks: Record<string, unknown> = {};
  for (const [branch, allowed] of [[integer, numberOnly], [string, stringOnly]] as const) {
    for (const [key, value] of Object.entries(branch)) {
      if (key === "type" || key === "description") continue;
      if (!allowed.has(key)) fail(path, `\`${key}\` in the ${String(branch["type"])} branch of an integer-or-string`);
      checks[key] = value;
    }
  }
  return { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }], ...checks };
}

/** `if {properties: {k: {const: v}}} then {required: [...]}` as a CEL rule. */
function conditionalRequired(entry: JsonSchema, path: string): Rule {
  const condition = entry["if"] as JsonSchema | undefined;
  const then = entry["then"] as JsonSchema | undefined;
  const props = condition?.["properties"] as Record<string, JsonSchema> | undefined;
  const required = then?.["required"] as string[] | undefined;
  const keys = Object.keys(entry);
  if (!props || !required || keys.some((k) => k !== "if" && k !== "then") || Object.keys(condition ?? {}).length !== 1 || Object.keys(then ?? {}).length !== 1) {
    fail(path, "an `allOf` entry other than if/then-required");
  }
  const clauses = Object.entries(props).map(([key, schema]) => {
    if (!("const" in schema) || Object.keys(schema).length !== 1) fail(`${path}/if/${key}`, "a condition other than `const`");
    return { key, value: schema["const"] };
  });
  const when = clauses.map(({ key, value }) => `has(self.${key}) && self.${key} == ${typeof value === "string" ? celString(value) : JSON.stringify(value)}`).join(" && ");
  const has = required.map((key) => `has(self.${key})`).join(" && ");
  const whenText = clauses.map(({ key, value }) => `${key} is ${JSON.stringify(value)}`).join(" and ");
  return { rule: `!(${when}) || (${has})`, message: `when ${whenText}, ${required.join(", ")} must be set` };
}

/** The structural CRD schema of a JSON Schema node. */
export function crdSchema(schema: JsonSchema, path = ""): JsonSchema {
  const out: Record<string, unknown> = {};
  const rules: Rule[] = [...((schema["x-kubernetes-validations"] as Rule[] | undefined) ?? [])];
  for (const key of Object.keys(schema)) if (!plain.has(key) && !translated.has(key)) fail(path, `\`${key}\``);
  for (const [key, value] of Object.entries(schema)) if (plain.has(key) && key !== "x-kubernetes-validations") out[key] = value;
  if ("const" in schema) out["enum"] = [schema["const"]];
  const properties = schema["properties"] as Record<string, JsonSchema> | undefined;
  if ("not" in schema) fail(path, "`not` other than a refused property's `not: {}`");
  if (properties) {
    out["properties"] = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => {
        if (!isRefused(v)) return [k, crdSchema(v, `${path}/${k}`)];
        rules.push(refusal(k, v, path));
        // its shape stays (CEL needs a typed field), so only the rule refuses it
        const { not: _not, ...shape } = v;
        return [k, crdSchema(shape, `${path}/${k}`)];
      }),
    );
  }
  const patterns = schema["patternProperties"] as Record<string, JsonSchema> | undefined;
  const additional = schema["additionalProperties"];
  if (patterns) {
    const entries = Object.entries(patterns);
    const [pattern, valueSchema] = entries[0] ?? [];
    if (entries.length !== 1 || !pattern || !valueSchema || properties || additional !== false) fail(path, "`patternProperties` other than one pattern with additionalProperties false");
    // The key pattern stays with Helm (the chart's values.schema.json, checked at install): a
    // CEL rule over the keys of an unbounded map exceeds the API server's cost budget.
    out["additionalProperties"] = crdSchema(valueSchema, `${path}/${pattern}`);
  } else if (additional !== undefined && additional !== false) {
    if (properties) fail(path, "`additionalProperties` beside `properties`");
    out["additionalProperties"] = additional === true ? { "x-kubernetes-preserve-unknown-fields": true } : crdSchema(additional as JsonSchema, `${path}/*`);
  } else if (additional === false && !properties) {
    fail(path, "`additionalProperties: false` without `properties`");
  }
  if (schema["items"]) out["items"] = crdSchema(schema["items"] as JsonSchema, `${path}[]`);
  if (schema["uniqueItems"] === true) {
    const itemType = (schema["items"] as JsonSchema | undefined)?.["type"];
    if (itemType === "object" || itemType === "array") fail(path, "`uniqueItems` on a list of objects or lists");
    out["x-kubernetes-list-type"] = "set";
  }
  const anyOf = schema["anyOf"] as JsonSchema[] | undefined;
  if (anyOf) {
    const translatedAnyOf = intOrString(anyOf, path);
    if (!translatedAnyOf) fail(path, "an `anyOf` other than integer-or-string");
    Object.assign(out, translatedAnyOf);
    // int-or-string carries no type of its own.
    delete out["type"];
  }
  for (const entry of (schema["allOf"] as JsonSchema[] | undefined) ?? []) rules.push(conditionalRequired(entry, path));
  if (rules.length > 0) out["x-kubernetes-validations"] = rules;
  return out;
}
