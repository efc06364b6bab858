/**
 * Executes a parsed template the way Helm runs Go's text/template: `missingkey=zero`
 * (a missing map key is nil), nil prints as nothing, truthiness as Go defines it, and
 * `and`/`or` short-circuit (Go ≥ 1.18).
 */
import { parseTemplate, TemplateError, type BlockNode, type Command, type Node, type Operand, type Pipeline } from "./parse.js";

/** A template function. Arguments arrive evaluated, the piped value last. */
export type TemplateFunction = (...args: unknown[]) => unknown;

/** Go's notion of an empty value: false, 0, nil, "" and empty collections. */
export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** How Go's fmt prints a value inside a template (`{{ $x }}`). */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.keys(v)
      .sort()
      .map((k) => `${k}:${printValue((v as Record<string, unknown>)[k])}`);
    return `map[${entries.join(" ")}]`;
  }
  return String(v);
}

class Scope {
  private readonly vars = new Map<string, unknown>();
  constructor(private readonly parent?: Scope) {}
  declare(name: string, value: unknown): void {
    this.vars.set(name, value);
  }
  set(name: string, value: unknown): void {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, value);
        return;
      }
    }
    throw new TemplateError(`undefined variable ${name}`);
  }
  get(name: string): unknown {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      if (s.vars.has(name)) return s.vars.get(name);
    }
    throw new TemplateError(`undefined variable ${name}`);
  }
}

const BREAK = Symbol("break");
const CONTINUE = Symbol("continue");

function field(value: unknown, name: string, chain: string): unknown {
  if (value === null || value === undefined) {
    throw new TemplateError(`nil pointer evaluating ${chain}.${name}`);
  }
  if (typeof value !== "object") {
    throw new TemplateError(`can't evaluate field ${name} in type ${typeof value}`);
  }
  const v = (value as Record<string, unknown>)[name];
  // Methods such as `.Capabilities.APIVersions.Has` are bound so a later call keeps `this`.
  return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(value) : v;
}

function fieldChain(value: unknown, fields: readonly string[], start: string): unknown {
  let v = value;
  let chain = start;
  for (const f of fields) {
    v = field(v, f, chain);
    chain += `.${f}`;
  }
  return v;
}

export class Executor {
  constructor(private readonly funcs: Readonly<Record<string, TemplateFunction>>) {}

  /** Renders template text against a root value (`.` and `$`). */
  render(src: string, root: unknown): string {
    const scope = new Scope();
    scope.declare("$", root);
    const out: string[] = [];
    this.walk(parseTemplate(src), root, scope, out);
    return out.join("");
  }

  private walk(nodes: readonly Node[], dot: unknown, scope: Scope, out: string[]): typeof BREAK | typeof CONTINUE | undefined {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          out.push(node.text);
          break;
        case "action": {
          const v = this.pipeline(node.pipe, dot, scope);
          if (!node.pipe.assign) out.push(printValue(v));
          break;
        }
        case "if":
        case "with": {
          const inner = new Scope(scope);
          const v = this.pipeline(node.pipe, dot, inner);
          // Variables declared in the condition are visible in both branches, as in Go.
          const signal = isTruthy(v)
            ? this.walk(node.body, node.kind === "with" ? v : dot, inner, out)
            : this.walk(node.elseBody, dot, inner, out);
          if (signal) return signal;
          break;
        }
        case "range": {
          const signal = this.range(node, dot, scope, out);
          if (signal) return signal;
          break;
        }
        case "break":
          return BREAK;
        case "continue":
          return CONTINUE;
      }
    }
    return undefined;
  }

  private range(node: BlockNode, dot: unknown, scope: Scope, out: string[]): undefined {
    // The range pipeline declares its variables itself; evaluate it without assigning.
    const source = this.pipeline({ ...node.pipe, vars: [], assign: undefined }, dot, scope);
    const items: [unknown, unknown][] = Array.isArray(source)
      ? source.map((v, i) => [i, v])
      : source && typeof source === "object"
        ? Object.keys(source)
            .sort()
            .map((k) => [k, (source as Record<string, unknown>)[k]])
        : [];
    if (source !== null && source !== undefined && typeof source !== "object") {
      throw new TemplateError(`range can't iterate over ${printValue(source)}`);
    }
    if (items.length === 0) {
      this.walk(node.elseBody, dot, new Scope(scope), out);
      return undefined;
    }
    for (const [key, value] of items) {
      const inner = new Scope(scope);
      const vars = node.pipe.vars;
      if (vars.length === 1) inner.declare(vars[0]!, value);
      if (vars.length === 2) {
        inner.declare(vars[0]!, key);
        inner.declare(vars[1]!, value);
      }
      if (this.walk(node.body, value, inner, out) === BREAK) break;
    }
    return undefined;
  }

  private pipeline(pipe: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    let piped = false;
    for (const cmd of pipe.commands) {
      value = this.command(cmd, dot, scope, piped ? [value] : []);
      piped = true;
    }
    for (const name of pipe.vars) {
      if (pipe.assign === "declare") scope.declare(name, value);
      else scope.set(name, value);
    }
    return value;
  }

  private command(cmd: Command, dot: unknown, scope: Scope, piped: unknown[]): unknown {
    const [first, ...rest] = cmd.operands;
    if (!first) throw new TemplateError("empty command");
    if (first.kind === "ident") {
      // `and`/`or` stop at the first operand that decides the result, as Go does.
      if (first.name === "and" || first.name === "or") {
        const thunks = [...rest.map((op) => () => this.operand(op, dot, scope)), ...piped.map((v) => () => v)];
        let v: unknown;
        for (const t of thunks) {
          v = t();
          if (first.name === "and" ? !isTruthy(v) : isTruthy(v)) return v;
        }
        return v;
      }
      const fn = this.funcs[first.name];
      if (!fn) throw new TemplateError(`function "${first.name}" not defined`);
      return fn(...rest.map((op) => this.operand(op, dot, scope)), ...piped);
    }
    const head = this.operand(first, dot, scope);
    if (typeof head === "function") {
      return (head as TemplateFunction)(...rest.map((op) => this.operand(op, dot, scope)), ...piped);
    }
    if (rest.length > 0 || piped.length > 0) {
      throw new TemplateError(`can't give argument to non-function ${printValue(head)}`);
    }
    return head;
  }

  private operand(op: Operand, dot: unknown, scope: Scope): unknown {
    switch (op.kind) {
      case "literal":
        return op.value;
      case "dot":
        return fieldChain(dot, op.fields, "");
      case "var":
        return fieldChain(scope.get(op.name), op.fields, op.name);
      case "sub":
        return fieldChain(this.pipeline(op.pipe, dot, new Scope(scope)), op.fields, "(…)");
      case "ident": {
        const fn = this.funcs[op.name];
        if (!fn) throw new TemplateError(`function "${op.name}" not defined`);
        return fn();
      }
    }
  }
}
