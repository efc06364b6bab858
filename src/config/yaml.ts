/**
 * platform.yaml text → plain data, guarded: a size limit before parsing, a nesting limit
 * before the (recursive) composer runs, duplicate keys found in one pass with a Set per map,
 * aliases expanded by our own walk with a bound on the values they produce, and YAML errors
 * reported in our own words. The parser's messages are never shown: some quote the source,
 * and the source may hold a secret. Every step is linear in the size of the text.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, type CST, type Document, type Node, type Pair } from "yaml";
import { documentIssue, type PathSegment } from "./errors.js";
import { limits } from "./limits.js";
import { configJsonSchema } from "./schema.js";
import type { ConfigIssue } from "./types.js";

type Schema = Record<string, unknown>;

/** Plain words for each YAML error code: where, not what the source says. */
const syntaxMessages: Readonly<Record<string, string>> = {
  ALIAS_PROPS: "an alias cannot carry an anchor or a tag",
  BAD_ALIAS: "an alias is not valid here",
  BAD_DIRECTIVE: "a directive (a line starting with %) is not valid here",
  BAD_DQ_ESCAPE: "a double-quoted string has an invalid escape",
  BAD_INDENT: "the indentation is wrong",
  BAD_PROP_ORDER: "an anchor or tag is in the wrong place",
  BAD_SCALAR_START: "a plain value cannot start with this character: quote it",
  BLOCK_AS_IMPLICIT_KEY: "a block value cannot be a key",
  BLOCK_IN_FLOW: "a block value cannot be inside [ ] or { }",
  IMPOSSIBLE: "the YAML cannot be read here",
  KEY_OVER_1024_CHARS: "a key without '?' is longer than 1024 characters",
  MISSING_CHAR: "a closing quote or bracket is missing",
  MULTILINE_IMPLICIT_KEY: "a key spans several lines",
  MULTIPLE_ANCHORS: "a value has more than one anchor",
  MULTIPLE_DOCS: "holds more than one YAML document: platform.yaml is one document",
  MULTIPLE_TAGS: "a value has more than one tag",
  NON_STRING_KEY: "a key must be a plain value",
  RESOURCE_EXHAUSTION: `the document nests too deeply (at most ${limits.maxDepth} levels)`,
  TAB_AS_INDENT: "a tab is used for indentation: use spaces",
  TAG_RESOLVE_FAILED: "a value does not fit its tag",
  UNEXPECTED_TOKEN: "unexpected text here: a key, value or indentation is wrong",
  BAD_COLLECTION_TYPE: "a list or mapping does not fit its tag",
};

/** The result of reading the text: the data, or the problems that stopped it. */
export interface YamlResult {
  readonly raw?: unknown;
  readonly issues: ConfigIssue[];
}

function where(lines: LineCounter, offset: number): string {
  const at = lines.linePos(offset);
  return `line ${at.line}, column ${at.col}: `;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The size limit, in UTF-8 bytes; `size` when the caller knows it already. */
export function sizeIssue(bytes: number): ConfigIssue | undefined {
  if (bytes <= limits.maxBytes) return undefined;
  return documentIssue([], `the config is ${bytes} bytes (${mib(bytes)}): at most ${limits.maxBytes} bytes (${mib(limits.maxBytes)}) are accepted`);
}

/** Children of a CST token that are themselves tokens. */
function cstChildren(token: CST.Token): CST.Token[] {
  switch (token.type) {
    case "document":
      return token.value ? [token.value] : [];
    case "block-map":
    case "block-seq":
    case "flow-collection":
      return token.items.flatMap((item) => [item.key, item.value].filter((t): t is CST.Token => t !== undefined && t !== null));
    default:
      return [];
  }
}

/** The offset of the first collection nested deeper than the limit, walking without recursion. */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    const collection = token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection";
    const inner = collection ? depth + 1 : depth;
    if (inner > limits.maxDepth) return token.offset;
    for (const child of cstChildren(token)) stack.push([child, inner]);
  }
  return undefined;
}

/** Where in the config an offset is, by schema field names only: a key near broken YAML may be a misplaced value. */
function fieldAt(contents: unknown, offset: number): PathSegment[] {
  const path: PathSegment[] = [];
  let node = contents;
  let schema: Schema | undefined = configJsonSchema();
  const within = (n: unknown): boolean => {
    const range = (n as Node | null)?.range;
    return range !== undefined && range !== null && offset >= range[0] && offset <= range[2];
  };
  for (let depth = 0; schema && depth < limits.maxDepth; depth += 1) {
    if (isMap(node)) {
      const properties: Record<string, Schema> = (schema.properties ?? {}) as Record<string, Schema>;
      const pair = node.items.find((p) => within(p.key) || within(p.value));
      const key = pair && isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (!pair || key === undefined || !Object.hasOwn(properties, key)) break;
      path.push(key);
      node = pair.value;
      schema = properties[key];
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => within(item));
      if (index < 0) break;
      path.push(index);
      node = node.items[index];
      schema = schema.items as Schema | undefined;
    } else {
      break;
    }
  }
  return path;
}

function syntaxIssues(doc: Document.Parsed, lines: LineCounter): ConfigIssue[] {
  const shown = doc.errors.slice(0, limits.maxSyntaxErrors).map((e) => {
    const words = syntaxMessages[e.code] ?? "not valid YAML here";
    return documentIssue(fieldAt(doc.contents, e.pos[0]), `${where(lines, e.pos[0])}${words}`);
  });
  const more = doc.errors.length - shown.length;
  return more > 0 ? [...shown, documentIssue([], `${more} more YAML syntax errors`)] : shown;
}

/** Stops the walk: the document is too big once its aliases are expanded. */
class TooBig extends Error {
  constructor(readonly found: ConfigIssue) {
    super(found.message);
  }
}

type Anchored = { readonly value: unknown; readonly size: number } | "pending";

/** YAML nodes → plain data: what `toJS` does, in one linear pass with our checks. */
class Converter {
  readonly issues: ConfigIssue[] = [];
  readonly #path: PathSegment[] = [];
  readonly #anchors = new Map<string, Anchored>();
  readonly #lines: LineCounter;
  #count = 0;

  constructor(lines: LineCounter) {
    this.#lines = lines;
  }

  #at(node: unknown): string {
    const range = (node as Node | null)?.range;
    return range ? where(this.#lines, range[0]) : "";
  }

  #add(n: number, node: unknown): void {
    this.#count += n;
    if (this.#count > limits.maxValues) {
      const why = isAlias(node) ? "this alias expands the document to" : "the document holds";
      throw new TooBig(documentIssue(this.#path, `${this.#at(node)}${why} more than ${limits.maxValues} values (keys, list items and scalars, after YAML aliases are expanded)`));
    }
  }

  #problem(node: unknown, message: string): void {
    this.issues.push(documentIssue(this.#path, `${this.#at(node)}${message}`));
  }

  convert(node: unknown): unknown {
    this.#add(1, node);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.#alias(node);
    const anchor = (node as Node).anchor;
    const before = this.#count;
    if (anchor) this.#anchors.set(anchor, "pending");
    const value = isScalar(node) ? (node.value ?? null) : isMap(node) ? this.#map(node.items) : isSeq(node) ? this.#seq(node.items) : null;
    if (anchor) this.#anchors.set(anchor, { value, size: this.#count - before + 1 });
    return value;
  }

  #alias(node: Node & { source: string }): unknown {
    const target = this.#anchors.get(node.source);
    if (target === undefined) {
      this.#problem(node, "an alias names no anchor defined before it");
      return null;
    }
    if (target === "pending") {
      this.#problem(node, "an alias refers to a value that contains it (a loop)");
      return null;
    }
    this.#add(target.size - 1, node);
    return target.value;
  }

  #map(pairs: readonly Pair[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    for (const pair of pairs) {
      const keyNode = pair.key;
      this.#add(1, keyNode);
      if (!isScalar(keyNode)) {
        this.#problem(keyNode ?? pair.value, "a key must be written out as a plain value, not a list, mapping or alias");
        continue;
      }
      const key = keyNode.value === null || keyNode.value === undefined ? "" : String(keyNode.value);
      this.#path.push(key);
      const first = seen.get(key);
      if (first !== undefined) {
        this.#problem(keyNode, `is given twice (first on line ${first}): each key may appear once`);
      } else {
        seen.set(key, keyNode.range ? this.#lines.linePos(keyNode.range[0]).line : 0);
        const value = this.convert(pair.value);
        // a key named __proto__ is data, not the object's prototype
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      this.#path.pop();
    }
    return out;
  }

  #seq(items: readonly unknown[]): unknown[] {
    return items.map((item, i) => {
      this.#path.push(i);
      // `[a: 1]` is a list holding a one-key mapping
      const value = isPair(item) ? this.#map([item]) : this.convert(item);
      this.#path.pop();
      return value;
    });
  }
}

/** Reads one YAML document into plain data; never throws for any text. */
export function readYaml(text: string): YamlResult {
  const big = sizeIssue(Buffer.byteLength(text, "utf8"));
  if (big) return { issues: [big] };
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    return { issues: [documentIssue([], `${where(lines, deep)}the document nests deeper than ${limits.maxDepth} levels`)] };
  }
  const docs = new Composer({ uniqueKeys: false, version: "1.2" }).compose(tokens, true, text.length);
  const doc = docs.next().value as Document.Parsed;
  const second = docs.next().value as Document.Parsed | undefined;
  const issues = syntaxIssues(doc, lines);
  if (second) issues.push(documentIssue([], `${where(lines, second.range[0])}${syntaxMessages.MULTIPLE_DOCS}`));
  if (issues.length > 0) return { issues };
  const converter = new Converter(lines);
  try {
    const raw = converter.convert(doc.contents);
    return converter.issues.length > 0 ? { issues: converter.issues } : { raw, issues: [] };
  } catch (error) {
    if (error instanceof TooBig) return { issues: [error.found] };
    throw error;
  }
}
