/**
 * The PVE API schema (apidata, one key per "METHOD /path") loaded from the shared reference
 * data: a route table for matching request paths to templates and the parameter validation
 * PVE::JSONSchema performs, with its exact error strings.
 */
import { readFileSync } from "node:fs";
import { referencePath } from "../paths.js";
import { paramError } from "./errors.js";

/** A JSON-schema-like property of PVE's apidata (numbers may appear as strings). */
export interface ApiProperty {
  readonly type?: string;
  readonly optional?: number;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly minimum?: number | string;
  readonly maximum?: number | string;
  readonly maxLength?: number | string;
  readonly minLength?: number | string;
  readonly format?: string | Readonly<Record<string, ApiProperty & { alias?: string; keyAlias?: string; default_key?: number }>>;
  readonly items?: ApiProperty;
  readonly properties?: Readonly<Record<string, ApiProperty>>;
  readonly description?: string;
  readonly requires?: string;
  readonly default?: unknown;
}

/** One API method. */
export interface ApiMethod {
  readonly method: string;
  readonly name: string;
  readonly allowtoken?: number;
  readonly protected?: number;
  readonly proxyto?: string;
  readonly permissions?: { readonly user?: string; readonly check?: unknown[]; readonly description?: string };
  readonly parameters: { readonly additionalProperties?: number; readonly properties?: Readonly<Record<string, ApiProperty>> };
  readonly returns?: ApiProperty;
}

/** A matched route. */
export interface RouteMatch {
  /** `"METHOD /template"`, the schema key. */
  readonly key: string;
  readonly template: string;
  readonly api: ApiMethod;
  readonly pathParams: Readonly<Record<string, string>>;
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  params: Array<{ name: string; node: TrieNode }>;
  methods: Map<string, { template: string; api: ApiMethod }>;
}

const newTrie = (): TrieNode => ({ literal: new Map(), params: [], methods: new Map() });

const num = (v: number | string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

// PVE's own verifiers for the named formats the lab's endpoints use (PVE::JSONSchema).
const NAMED_FORMATS: Record<string, (v: string) => string | undefined> = {
  "pve-node": (v) =>
    /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? undefined : "value does not look like a valid node name\n",
  "pve-storage-id": (v) =>
    /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? undefined : `storage ID '${v}' contains illegal characters\n`,
  "pve-configid": (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? undefined : `invalid configuration ID '${v}'\n`),
  "pve-configid-list": (v) => {
    const bad = v.split(/[,;\s]+/).find((id) => id !== "" && !/^[a-z][a-z0-9_-]+$/i.test(id));
    return bad === undefined ? undefined : `invalid configuration ID '${bad}'\n`;
  },
  "pve-poolid": (v) => (/^[A-Za-z0-9_\-]+$/.test(v) ? undefined : `invalid pool ID '${v}'\n`),
  "pve-tag-list": (v) => {
    const bad = v.split(/[;, ]+/).find((t) => t !== "" && !/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(t));
    return bad === undefined ? undefined : `invalid tag '${bad}'\n`;
  },
  "dns-name": (v) =>
    /^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)$/.test(v)
      ? undefined
      : `value does not look like a valid DNS name\n`,
  "mac-addr": (v) =>
    /^[0-9a-f][02468ace](?::[0-9a-f]{2}){5}$/i.test(v) ? undefined : "value does not look like a valid unicast MAC address\n",
  "pve-bridge-id": (v) => (/^[-_.\w\d]+$/.test(v) ? undefined : `invalid bridge ID '${v}'\n`),
};

const TYPE_ERROR = (type: string, got: unknown): string =>
  `type check ('${type}') failed - got '${Array.isArray(got) ? "ARRAY" : String(got)}'`;

/** Validates a scalar against a property; returns [coerced value, error]. */
function checkScalar(prop: ApiProperty, value: unknown): [unknown, string | undefined] {
  const type = prop.type ?? "string";
  let v: unknown = value;
  if (type === "boolean") {
    if (v === true || v === 1 || v === "1") v = 1;
    else if (v === false || v === 0 || v === "0") v = 0;
    else return [v, TYPE_ERROR(type, v)];
    return [v, undefined];
  }
  if (Array.isArray(v) || (v !== null && typeof v === "object")) return [v, TYPE_ERROR(type, v)];
  if (typeof v === "boolean") v = v ? 1 : 0;
  if (type === "integer") {
    const s = String(v);
    if (!/^-?\d+$/.test(s)) return [v, TYPE_ERROR(type, s)];
    v = Number(s);
  } else if (type === "number") {
    const s = String(v);
    if (!/^[+-]?(\d+|\d+\.\d*|\d*\.\d+)([eE][+-]?\d+)?$/.test(s)) return [v, TYPE_ERROR(type, s)];
    v = Number(s);
  } else {
    v = String(v);
  }
  if (typeof v === "number") {
    const min = num(prop.minimum);
    const max = num(prop.maximum);
    if (min !== undefined && v < min) return [v, `value must have a minimum value of ${min}`];
    if (max !== undefined && v > max) return [v, `value must have a maximum value of ${max}`];
  }
  if (typeof v === "string") {
    const maxLen = num(prop.maxLength);
    const minLen = num(prop.minLength);
    if (maxLen !== undefined && v.length > maxLen) return [v, `value may only be ${maxLen} characters long`];
    if (minLen !== undefined && v.length < minLen) return [v, `value must be at least ${minLen} characters long`];
  }
  if (prop.enum && !prop.enum.includes(String(v))) {
    return [v, `value '${String(v)}' does not have a value in the enumeration '${prop.enum.join(", ")}'`];
  }
  if (prop.pattern !== undefined) {
    const re = perlPattern(prop.pattern);
    if (re && !re.test(String(v))) return [v, "value does not match the regex pattern"];
  }
  return [v, undefined];
}

const patternCache = new Map<string, RegExp | null>();

/** PVE anchors patterns (`m/^$pattern$/`); Perl's `(?^:` becomes `(?:`. Untranslatable ones are skipped. */
function perlPattern(pattern: string): RegExp | undefined {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern.replace(/\(\?\^[a-z]*:/g, "(?:")})$`);
    } catch {
      re = null;
    }
    patternCache.set(pattern, re);
  }
  return re ?? undefined;
}

/** Validates a property string against an object format (net[n], scsi[n], agent, memory...). */
function checkPropertyString(
  param: string,
  format: NonNullable<Exclude<ApiProperty["format"], string>>,
  value: string,
  errors: Record<string, string>,
): void {
  const defaultKey = Object.entries(format).find(([, p]) => p.default_key)?.[0];
  const seen = new Map<string, string>();
  for (const part of value.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let key = eq < 0 ? defaultKey : part.slice(0, eq);
    let val = eq < 0 ? part : part.slice(eq + 1);
    if (key === undefined) {
      errors[param] = `invalid format - value without key, but schema does not define a default key\n`;
      return;
    }
    const spec = format[key];
    if (spec?.keyAlias !== undefined) {
      seen.set(spec.keyAlias, key);
      key = spec.alias ?? key;
    } else if (spec?.alias !== undefined) {
      key = spec.alias;
    }
    if (!format[key]) {
      errors[param] = `invalid format - invalid key in comma-separated list property: ${key}\n`;
      return;
    }
    if (seen.has(key)) {
      errors[param] = `invalid format - duplicate key in comma-separated list property: ${key}\n`;
      return;
    }
    seen.set(key, val);
  }
  for (const [key, spec] of Object.entries(format)) {
    if (spec.alias !== undefined || spec.keyAlias !== undefined) continue;
    const val = seen.get(key);
    if (val === undefined) {
      if (!spec.optional && !spec.default_key && spec.type !== undefined && spec.default === undefined) {
        errors[`${param}.${key}`] = "property is missing and it is not optional";
      }
      continue;
    }
    const [, err] = checkScalar(spec, val);
    if (err) errors[`${param}.${key}`] = err;
  }
}

/** `pve-qm-boot`: `order=<dev;dev>` or the deprecated `[legacy=]<[acdn]{1,4}>`. */
function checkBoot(param: string, value: string, errors: Record<string, string>): void {
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? "legacy" : part.slice(0, eq);
    const val = eq < 0 ? part : part.slice(eq + 1);
    if (key === "legacy" && !/^[acdn]{1,4}$/.test(val)) errors[`${param}.legacy`] = "value does not match the regex pattern";
    else if (key === "order" && !/^[a-z0-9]+(;[a-z0-9]+)*$/.test(val)) errors[`${param}.order`] = "value does not match the regex pattern";
    else if (key !== "legacy" && key !== "order") {
      errors[param] = `invalid format - invalid key in comma-separated list property: ${key}\n`;
    }
  }
}

/** The schema property a parameter name resolves to (`net0` → `net[n]`). */
export function propertyFor(
  properties: Readonly<Record<string, ApiProperty>>,
  name: string,
): ApiProperty | undefined {
  const direct = properties[name];
  if (direct) return direct;
  const m = /^([a-z_-]+?)(\d+)$/i.exec(name);
  if (!m) return undefined;
  const indexed = properties[`${m[1]}[n]`];
  if (!indexed) return undefined;
  // "(n is 0 to 30)" in the description bounds the index.
  const range = /n is (\d+) to (\d+)/.exec(indexed.description ?? "");
  if (range && (Number(m[2]) < Number(range[1]) || Number(m[2]) > Number(range[2]))) return undefined;
  return indexed;
}

/** The loaded schema. */
export class ApiSchema {
  readonly methods: ReadonlyMap<string, ApiMethod>;
  private readonly trie: TrieNode = newTrie();

  constructor(methods: Record<string, ApiMethod>) {
    this.methods = new Map(Object.entries(methods));
    for (const [key, api] of this.methods) {
      const space = key.indexOf(" ");
      const method = key.slice(0, space);
      const template = key.slice(space + 1);
      let node = this.trie;
      for (const seg of template.split("/").filter(Boolean)) {
        const pm = /^\{(.+)\}$/.exec(seg);
        if (pm) {
          const name = pm[1] ?? "";
          let child = node.params.find((p) => p.name === name);
          if (!child) {
            child = { name, node: newTrie() };
            node.params.push(child);
          }
          node = child.node;
        } else {
          let child = node.literal.get(seg);
          if (!child) {
            child = newTrie();
            node.literal.set(seg, child);
          }
          node = child;
        }
      }
      node.methods.set(method, { template, api });
    }
  }

  /** Matches a decoded path (`/nodes/pve1/qemu/100/config`); undefined when PVE has no such route. */
  match(method: string, segments: readonly string[]): RouteMatch | undefined {
    const params: Record<string, string> = {};
    const walk = (node: TrieNode, i: number): RouteMatch | undefined => {
      if (i === segments.length) {
        const hit = node.methods.get(method);
        return hit ? { key: `${method} ${hit.template}`, template: hit.template, api: hit.api, pathParams: { ...params } } : undefined;
      }
      const seg = segments[i] ?? "";
      const lit = node.literal.get(seg);
      if (lit) {
        const found = walk(lit, i + 1);
        if (found) return found;
      }
      for (const p of node.params) {
        // A trailing {volume} takes the rest of the path: volids contain '/' (`local:iso/x.iso`).
        if (p.name === "volume" && i < segments.length - 1 && p.node.methods.size > 0) {
          params[p.name] = segments.slice(i).join("/");
          const found = walk(p.node, segments.length);
          if (found) return found;
        }
        params[p.name] = seg;
        const found = walk(p.node, i + 1);
        if (found) return found;
        delete params[p.name];
      }
      return undefined;
    };
    return walk(this.trie, 0);
  }

  /**
   * Validates request parameters as PVE::JSONSchema does and returns them coerced
   * (integers and numbers as numbers, booleans as 0/1, arrays as string arrays).
   * Throws a 400 `Parameter verification failed.` naming each bad parameter.
   */
  validate(api: ApiMethod, params: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const properties = api.parameters.properties ?? {};
    const errors: Record<string, string> = {};
    const out: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(params)) {
      const prop = propertyFor(properties, name);
      if (!prop) {
        if (!api.parameters.additionalProperties) {
          errors[name] = "property is not defined in schema and the schema does not allow additional properties";
        } else {
          out[name] = raw;
        }
        continue;
      }
      if (prop.type === "array") {
        const list = Array.isArray(raw) ? raw : [raw];
        const items: unknown[] = [];
        for (const item of list) {
          const [v, err] = checkScalar(prop.items ?? { type: "string" }, item);
          if (err) errors[name] = err;
          items.push(v);
        }
        out[name] = items;
        continue;
      }
      const [value, err] = checkScalar(prop, raw);
      if (err) {
        errors[name] = err;
        continue;
      }
      if (typeof prop.format === "string" && typeof value === "string") {
        if (prop.format === "pve-qm-boot") checkBoot(name, value, errors);
        const verify = NAMED_FORMATS[prop.format];
        const ferr = verify?.(value);
        if (ferr) errors[name] = `invalid format - ${ferr}`;
      } else if (typeof prop.format === "object" && typeof value === "string") {
        checkPropertyString(name, prop.format, value, errors);
      }
      out[name] = value;
    }
    for (const [name, prop] of Object.entries(properties)) {
      if (name.endsWith("[n]") || prop.optional) continue;
      if (params[name] === undefined && errors[name] === undefined) {
        errors[name] = "property is missing and it is not optional";
      }
    }
    for (const [name, prop] of Object.entries(properties)) {
      if (prop.requires !== undefined && params[name] !== undefined && params[prop.requires] === undefined) {
        errors[prop.requires] = `missing property - '${name}' requires this property`;
      }
    }
    if (Object.keys(errors).length > 0) throw paramError(errors);
    return out;
  }
}

let loaded: ApiSchema | undefined;

function readApidata(file: string): Record<string, ApiMethod> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, ApiMethod>;
  } catch (cause) {
    throw new Error(`cannot load the PVE API schema from ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** The PVE 9.1 schema from `shared/reference/pve/apidata-pve9.1.flat.json` (loaded once per process). */
export function loadApiSchema(file = referencePath("pve", "apidata-pve9.1.flat.json")): ApiSchema {
  if (loaded && file === referencePath("pve", "apidata-pve9.1.flat.json")) return loaded;
  const schema = new ApiSchema(readApidata(file));
  if (file === referencePath("pve", "apidata-pve9.1.flat.json")) loaded = schema;
  return schema;
}

let pve8: ReadonlyMap<string, ApiMethod["permissions"]> | undefined;

/**
 * The `permissions` of every endpoint of the PVE 8.4 schema (`apidata-pve8.4.flat.json`),
 * by `"METHOD /path"`; loaded on first use, once per process. Only a PVE 8 lab asks: routes and
 * parameter validation stay the 9.1 schema's.
 */
export function pve8Permissions(): ReadonlyMap<string, ApiMethod["permissions"]> {
  if (pve8) return pve8;
  const parsed = readApidata(referencePath("pve", "apidata-pve8.4.flat.json"));
  pve8 = new Map(Object.entries(parsed).map(([key, api]) => [key, api.permissions]));
  return pve8;
}
