/**
 * The few Go-template expressions the platform chart guards its Package includes with,
 * evaluated against plain values: `.Values.a.b`, `$var`, string literals, and the functions
 * `eq`, `ne`, `not`, `and`, `or`, `has`, `default`, `list`. Three-valued: anything else is
 * `undefined` (cannot say), and the caller refuses to guess where that matters. Not a
 * template engine: the tests hold the result against the real helm's render.
 */

export type Scope = { readonly values: unknown; readonly variables: Readonly<Record<string, unknown>> };

const unknown = Symbol("unknown");
type Value = unknown;

function tokenize(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+/g) ?? [];
}

function truthy(v: Value): boolean | undefined {
  if (v === unknown) return undefined;
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== false && v !== "" && v !== 0;
}

function lookupPath(root: unknown, path: string): Value {
  let cur: unknown = root;
  for (const key of path.split(".").filter(Boolean)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Parses tokens into nested arrays: `(f a (g b))` → ["f", "a", ["g", "b"]]. */
function parse(tokens: string[]): unknown[] {
  const stack: unknown[][] = [[]];
  for (const t of tokens) {
    if (t === "(") stack.push([]);
    else if (t === ")") {
      const inner = stack.pop();
      if (!inner || stack.length === 0) throw new Error("unbalanced parentheses");
      stack[stack.length - 1]!.push(inner);
    } else stack[stack.length - 1]!.push(t);
  }
  if (stack.length !== 1) throw new Error("unbalanced parentheses");
  return stack[0]!;
}

function atom(token: unknown, scope: Scope): Value {
  if (Array.isArray(token)) return call(token, scope);
  const t = String(token);
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t === "true" || t === "false") return t === "true";
  if (t.startsWith(".Values.")) return lookupPath(scope.values, t.slice(".Values.".length));
  if (t.startsWith("$") && t in scope.variables) return scope.variables[t];
  return unknown;
}

const functions: Readonly<Record<string, (args: Value[]) => Value>> = {
  eq: ([a, b]) => (a === unknown || b === unknown ? unknown : a === b),
  ne: ([a, b]) => (a === unknown || b === unknown ? unknown : a !== b),
  not: ([a]) => {
    const t = truthy(a);
    return t === undefined ? unknown : !t;
  },
  and: (args) => {
    const ts = args.map(truthy);
    if (ts.includes(false)) return false;
    return ts.includes(undefined) ? unknown : true;
  },
  or: (args) => {
    const ts = args.map(truthy);
    if (ts.includes(true)) return true;
    return ts.includes(undefined) ? unknown : false;
  },
  has: ([needle, list]) => (needle === unknown || list === unknown ? unknown : Array.isArray(list) && list.includes(needle)),
  // `default d v`: v when it is set, else d.
  default: ([d, v]) => (v === unknown ? unknown : truthy(v) ? v : d),
  list: (args) => (args.includes(unknown) ? unknown : args),
};

function call(expr: unknown[], scope: Scope): Value {
  const [head, ...rest] = expr;
  if (typeof head === "string" && head in functions) return functions[head]!(rest.map((a) => atom(a, scope)));
  if (rest.length === 0) return atom(head, scope);
  return unknown;
}

/** The truth of a Go-template condition under the scope, or undefined when it cannot be read. */
export function evaluate(condition: string, scope: Scope): boolean | undefined {
  let expr: unknown[];
  try {
    expr = parse(tokenize(condition));
  } catch {
    return undefined;
  }
  return truthy(call(expr, scope));
}
