/**
 * The Go-template builtins and the Sprig/Helm functions that CozyStack bundles and the
 * platform chart use, with Sprig's semantics where they are surprising (`merge` fills empty
 * values, `mergeOverwrite` replaces lists, `index` of nil fails, `eq` with nil is false).
 */
import { createHash } from "node:crypto";
import { parse, stringify, type Tags } from "yaml";
import { isTruthy, printValue, type TemplateFunction } from "./exec.js";
import { TemplateError } from "./parse.js";

/** Raised by the template's own `fail` call (e.g. the bundle header's root-host guard). */
export class TemplateFailure extends TemplateError {
  override readonly name: string = "TemplateFailure";
}

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => v !== null && typeof v === "object" && !Array.isArray(v);

// go-yaml v2 (behind Helm's fromYaml) reads YAML 1.1 scalars (yes/no are booleans) but
// keeps timestamps and base-60 numbers as strings.
const yamlOptions = {
  version: "1.1" as const,
  customTags: (tags: Tags): Tags =>
    tags.filter((t) => typeof t === "string" || (t.tag !== "tag:yaml.org,2002:timestamp" && t.format !== "TIME")),
};

/** YAML text → plain data, the way Helm's `fromYaml` reads it. Throws on invalid YAML. */
export function readYaml(text: string): unknown {
  return parse(text, { ...yamlOptions, uniqueKeys: true }) ?? null;
}

/** Plain data → YAML text, the way Helm's `toYaml` writes it (sorted keys, no final newline). */
export function writeYaml(value: unknown): string {
  return stringify(value ?? null, { ...yamlOptions, sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, "");
}

/** Go's encoding/json: sorted keys, no spaces, HTML characters escaped. */
export function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (isDict(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]));
    return v ?? null;
  };
  return JSON.stringify(sorted(value))
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * mergo's Merge as Sprig calls it. With `overwrite` (mergeOverwrite) a value from `src`
 * replaces the one in `dst`; without it (merge) `dst` wins unless its value is empty.
 * Maps merge key by key; lists are replaced whole.
 */
export function deepMerge(dst: Dict, src: Dict, overwrite: boolean): Dict {
  for (const key of Object.keys(src)) {
    const s = src[key];
    const d = dst[key];
    if (isDict(s) && isDict(d)) {
      deepMerge(d, s, overwrite);
    } else if (overwrite || !(key in dst) || !isTruthy(d)) {
      dst[key] = clone(s);
    }
  }
  return dst;
}

function compare(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (typeof a !== typeof b) {
    throw new TemplateError(`incompatible types for comparison: ${printValue(a)} and ${printValue(b)}`);
  }
  return a === b;
}

function indexInto(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === null || v === undefined) throw new TemplateError("index of untyped nil");
    if (Array.isArray(v)) {
      if (typeof k !== "number" || k < 0 || k >= v.length) throw new TemplateError(`index out of range: ${printValue(k)}`);
      v = v[k];
    } else if (isDict(v)) {
      v = v[String(k)];
    } else {
      throw new TemplateError(`can't index item of type ${typeof v}`);
    }
  }
  return v ?? null;
}

function indent(n: number, s: unknown): string {
  const pad = " ".repeat(n);
  return pad + printValue(s).replace(/\n/g, `\n${pad}`);
}

function printf(format: unknown, ...args: unknown[]): string {
  let i = 0;
  return String(format).replace(/%[sdvq%]/g, (m) => {
    if (m === "%%") return "%";
    const a = args[i++];
    return m === "%q" ? JSON.stringify(printValue(a)) : printValue(a);
  });
}

/** The function map; callers add `lookup` and `include`, which need cluster data. */
export function baseFunctions(): Record<string, TemplateFunction> {
  return {
    fail: (msg) => {
      throw new TemplateFailure(printValue(msg));
    },
    not: (v) => !isTruthy(v),
    eq: (a, ...bs) => bs.some((b) => compare(a, b)),
    ne: (a, b) => !compare(a, b),
    len: (v) => (Array.isArray(v) ? v.length : isDict(v) ? Object.keys(v).length : printValue(v).length),
    index: (item, ...keys) => indexInto(item, ...keys),
    print: (...a) => a.map(printValue).join(""),
    printf: (f, ...a) => printf(f, ...a),
    default: (d, ...given) => (given.length === 0 || !isTruthy(given[0]) ? d : given[0]),
    empty: (v) => !isTruthy(v),
    required: (msg, v) => {
      if (v === null || v === undefined || v === "") throw new TemplateFailure(printValue(msg));
      return v;
    },
    quote: (...a) => a.filter((x) => x !== null && x !== undefined).map((x) => JSON.stringify(printValue(x))).join(" "),
    squote: (...a) => a.filter((x) => x !== null && x !== undefined).map((x) => `'${printValue(x)}'`).join(" "),
    toString: (v: unknown) => printValue(v),
    trimSuffix: (suffix, s) => {
      const str = printValue(s);
      const suf = printValue(suffix);
      return suf && str.endsWith(suf) ? str.slice(0, -suf.length) : str;
    },
    trim: (s) => printValue(s).trim(),
    base: (p) => printValue(p).split("/").pop() ?? "",
    sha256sum: (s) => createHash("sha256").update(printValue(s)).digest("hex"),
    b64enc: (s) => Buffer.from(printValue(s)).toString("base64"),
    indent: (n, s) => indent(Number(n), s),
    nindent: (n, s) => `\n${indent(Number(n), s)}`,
    toYaml: (v) => writeYaml(v),
    fromYaml: (s) => {
      try {
        const v = readYaml(printValue(s));
        return isDict(v) ? v : {};
      } catch (err) {
        return { Error: (err as Error).message };
      }
    },
    toJson: (v) => goJson(v),
    list: (...a) => a,
    append: (l, v) => [...(Array.isArray(l) ? l : []), v],
    has: (needle, haystack) => Array.isArray(haystack) && haystack.some((h) => h === needle),
    join: (sep, l) => (Array.isArray(l) ? l : [l]).filter((x) => x !== null && x !== undefined).map(printValue).join(printValue(sep)),
    splitList: (sep, s) => printValue(s).split(printValue(sep)),
    dict: (...kv) => {
      const d: Dict = {};
      for (let i = 0; i < kv.length; i += 2) d[printValue(kv[i])] = kv[i + 1] ?? null;
      return d;
    },
    set: (d, k, v) => {
      (d as Dict)[printValue(k)] = v;
      return d;
    },
    hasKey: (d, k) => isDict(d) && printValue(k) in d,
    dig: (...a) => {
      const dict = a[a.length - 1];
      const fallback = a[a.length - 2];
      let v: unknown = dict;
      for (const k of a.slice(0, -2)) {
        if (!isDict(v) || !(printValue(k) in v)) return fallback;
        v = v[printValue(k)];
      }
      return v;
    },
    deepCopy: (v) => clone(v),
    merge: (dst, ...srcs) => srcs.reduce<Dict>((acc, s: unknown) => (isDict(s) ? deepMerge(acc, s, false) : acc), dst as Dict),
    mergeOverwrite: (dst, ...srcs) => srcs.reduce<Dict>((acc, s: unknown) => (isDict(s) ? deepMerge(acc, s, true) : acc), dst as Dict),
  };
}
