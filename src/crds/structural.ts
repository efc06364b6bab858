/**
 * A CRD's openAPIV3Schema → a JSON Schema ajv can check strictly, the way the API server
 * with `--validate=strict` sees it:
 * - an object's fields are closed unless `x-kubernetes-preserve-unknown-fields` (unknown
 *   fields are errors, not silently pruned);
 * - `x-kubernetes-int-or-string` accepts an integer or a string;
 * - `x-kubernetes-embedded-resource` objects carry apiVersion/kind/metadata;
 * - `nullable` admits null, OpenAPI 3.0's boolean exclusiveMinimum/Maximum become numbers;
 * - list types `set`/`map` must not repeat items/keys, and CEL rules (`x-kubernetes-validations`)
 *   become the `k8sCel` keyword.
 */
import { objectMetaSchema } from "./object-meta.js";

type Schema = Record<string, unknown>;

const passThrough = [
  "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "multipleOf",
  "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required", "format",
] as const;

function mapValues(record: Record<string, Schema>, fn: (s: Schema) => Schema): Record<string, Schema> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

function exclusiveBounds(node: Schema, out: Schema): void {
  for (const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
    if (node[flag] === true && typeof node[bound] === "number") {
      out[flag] = node[bound];
      delete out[bound];
    }
  }
}

function combinators(node: Schema, out: Schema): void {
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    // inside combinators k8s schemas only constrain values; they never open or close fields
    if (Array.isArray(node[key])) out[key] = (node[key] as Schema[]).map((s) => convert(s, { inner: true }));
  }
  if (node.not) out.not = convert(node.not as Schema, { inner: true });
}

function objectRules(node: Schema, out: Schema, inner: boolean): void {
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  const properties = { ...((node.properties as Record<string, Schema> | undefined) ?? {}) };
  if (node["x-kubernetes-embedded-resource"] === true) {
    properties.apiVersion ??= { type: "string" };
    properties.kind ??= { type: "string" };
    properties.metadata = objectMetaSchema(false);
  }
  if (Object.keys(properties).length > 0) out.properties = mapValues(properties, (s) => convert(s));
  if (node.additionalProperties !== undefined) {
    out.additionalProperties = typeof node.additionalProperties === "boolean" ? node.additionalProperties : convert(node.additionalProperties as Schema);
  } else if (!preserve && !inner && (node.type === "object" || out.properties)) {
    out.additionalProperties = false;
  }
}

function listRules(node: Schema, out: Schema): void {
  if (node.items) out.items = convert(node.items as Schema);
  if (node["x-kubernetes-list-type"] === "set") out.uniqueItems = true;
  if (node["x-kubernetes-list-type"] === "map" && Array.isArray(node["x-kubernetes-list-map-keys"])) {
    out.k8sListMapKeys = node["x-kubernetes-list-map-keys"];
  }
}

/** One schema node converted; `inner` marks nodes inside allOf/anyOf/oneOf/not. */
export function convert(node: Schema, options: { inner?: boolean } = {}): Schema {
  const out: Schema = {};
  for (const key of passThrough) if (node[key] !== undefined) out[key] = node[key];
  exclusiveBounds(node, out);
  if (node["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    if (!node.anyOf) out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (node.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (node.nullable === true && Array.isArray(out.enum)) out.enum = [...out.enum, null];
  combinators(node, out);
  objectRules(node, out, options.inner === true);
  listRules(node, out);
  if (Array.isArray(node["x-kubernetes-validations"])) out.k8sCel = node["x-kubernetes-validations"];
  return out;
}

/** The schema of a whole object of the CRD version: apiVersion/kind required, metadata checked. */
export function rootSchema(openApi: Schema): Schema {
  const converted = convert(openApi);
  const properties = { ...(converted.properties as Record<string, Schema> | undefined) };
  properties.apiVersion = { type: "string" };
  properties.kind = { type: "string" };
  properties.metadata = objectMetaSchema(true);
  const required = [...new Set([...((converted.required as string[] | undefined) ?? []), "apiVersion", "kind", "metadata"])];
  return { ...converted, type: "object", properties, required, additionalProperties: false };
}

/** Applies the schema's defaults to a copy of the value, as the API server does before CEL rules run. */
export function withDefaults(node: Schema, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = node.items as Schema | undefined;
    return items ? value.map((v) => withDefaults(items, v)) : value;
  }
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const properties = (node.properties as Record<string, Schema> | undefined) ?? {};
  for (const [key, child] of Object.entries(properties)) {
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
    if (out[key] !== undefined) out[key] = withDefaults(child, out[key]);
  }
  const extra = node.additionalProperties;
  if (extra && typeof extra === "object") {
    for (const key of Object.keys(out)) if (!(key in properties)) out[key] = withDefaults(extra as Schema, out[key]);
  }
  return out;
}
