/**
 * A parser for the subset of Go's text/template that CozyStack bundles use: text, actions
 * with trim markers, comments, variables (`:=`, `=`), pipelines, parenthesised
 * sub-pipelines, field chains, `if`/`else if`/`else`/`with`/`range`/`end`, `break`,
 * `continue`. Bundle files are Helm templates; the platform chart renders them with `tpl`,
 * so reading them needs the same grammar.
 */

export class TemplateError extends Error {
  override readonly name: string = "TemplateError";
}

/** An operand: a literal, a variable or dot with a field chain, a function name, or a sub-pipeline. */
export type Operand =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "dot"; readonly fields: readonly string[] }
  | { readonly kind: "var"; readonly name: string; readonly fields: readonly string[] }
  | { readonly kind: "ident"; readonly name: string }
  | { readonly kind: "sub"; readonly pipe: Pipeline; readonly fields: readonly string[] };

export interface Command {
  readonly operands: readonly Operand[];
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  readonly vars: readonly string[];
  readonly assign: "declare" | "set" | undefined;
  readonly commands: readonly Command[];
}

/** `if`, `with` or `range` with its body and its `else` branch. */
export interface BlockNode {
  readonly kind: "if" | "with" | "range";
  readonly pipe: Pipeline;
  readonly body: readonly Node[];
  readonly elseBody: readonly Node[];
}

export type Node =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "action"; readonly pipe: Pipeline }
  | BlockNode
  | { readonly kind: "break" }
  | { readonly kind: "continue" };

/** One `{{ … }}` with its trim markers removed, or a run of text. */
type Token = { readonly kind: "text"; text: string } | { readonly kind: "action"; readonly src: string; readonly line: number };

function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
}

/** Splits a template into text and action tokens, applying `{{-` and `-}}` trimming. */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < src.length) {
    const open = src.indexOf("{{", pos);
    let text = open < 0 ? src.slice(pos) : src.slice(pos, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      if (text) tokens.push({ kind: "text", text });
      break;
    }
    let inner = open + 2;
    // `{{- ` trims the text before it; the dash must be followed by a space.
    if (src[inner] === "-" && /\s/.test(src[inner + 1] ?? "")) {
      text = text.replace(/\s+$/, "");
      inner += 2;
    }
    if (text) tokens.push({ kind: "text", text });
    const close = findClose(src, inner);
    if (close < 0) throw new TemplateError(`line ${lineOf(src, open)}: unclosed action`);
    let end = close;
    trimNext = false;
    if (src[close - 1] === "-" && /\s/.test(src[close - 2] ?? "")) {
      trimNext = true;
      end = close - 2;
    }
    const body = src.slice(inner, end).trim();
    if (!(body.startsWith("/*") && body.endsWith("*/"))) {
      tokens.push({ kind: "action", src: body, line: lineOf(src, open) });
    }
    pos = close + 2;
  }
  return tokens;
}

/** Index of the `}}` that closes an action, skipping quoted strings and comments. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === "`" || c === "'") {
      i = skipQuoted(src, i);
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) return -1;
      i = end + 2;
      continue;
    }
    if (c === "}" && src[i + 1] === "}") return i;
    i++;
  }
  return -1;
}

function skipQuoted(src: string, start: number): number {
  const quote = src[start];
  let i = start + 1;
  while (i < src.length && src[i] !== quote) {
    if (quote !== "`" && src[i] === "\\") i++;
    i++;
  }
  return i + 1;
}

type Lexeme =
  | { readonly t: "str" | "num" | "ident" | "var" | "dot" | "bool" | "nil"; readonly v: string }
  /** `adjacent`: no space before it, so it continues the previous operand's field chain. */
  | { readonly t: "field"; readonly v: string; readonly adjacent: boolean }
  | { readonly t: "(" | ")" | "|" | ":=" | "=" | "," };

/** Splits the inside of one action into lexemes. */
function lex(src: string, line: number): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new TemplateError(`line ${line}: ${what} in {{ ${src} }}`);
  };
  while (i < src.length) {
    const c = src[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      const end = skipQuoted(src, i);
      if (end > src.length) fail("unterminated string");
      out.push({ t: "str", v: JSON.parse(src.slice(i, end).replace(/\\'/g, "'")) as string });
      i = end;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) fail("unterminated raw string");
      out.push({ t: "str", v: src.slice(i + 1, end) });
      i = end + 1;
    } else if (c === "(" || c === ")" || c === "|" || c === ",") {
      out.push({ t: c });
      i++;
    } else if (c === ":" && src[i + 1] === "=") {
      out.push({ t: ":=" });
      i += 2;
    } else if (c === "=") {
      out.push({ t: "=" });
      i++;
    } else if (c === "$") {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i));
      out.push({ t: "var", v: m![0] });
      i += m![0].length;
    } else if (c === ".") {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (m) {
        out.push({ t: "field", v: m[0].slice(1), adjacent: i > 0 && !/\s/.test(src[i - 1] ?? "") });
        i += m[0].length;
      } else {
        out.push({ t: "dot", v: "." });
        i++;
      }
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)/.exec(src.slice(i));
      if (!m) fail(`unexpected ${JSON.stringify(c)}`);
      out.push({ t: "num", v: m![0] });
      i += m![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      if (m === "true" || m === "false") out.push({ t: "bool", v: m });
      else if (m === "nil") out.push({ t: "nil", v: m });
      else out.push({ t: "ident", v: m });
      i += m.length;
    } else {
      fail(`unexpected ${JSON.stringify(c)}`);
    }
  }
  return out;
}

/** Field chain directly attached to the previous operand (`.a.b` after `$x`, `)` or `.a`). */
function takeFields(lx: Lexeme[], pos: { i: number }): string[] {
  const fields: string[] = [];
  let next = lx[pos.i];
  while (next && next.t === "field" && next.adjacent) {
    fields.push(next.v);
    pos.i++;
    next = lx[pos.i];
  }
  return fields;
}

function parsePipeline(lx: Lexeme[], pos: { i: number }, line: number, src: string, nested: boolean): Pipeline {
  const vars: string[] = [];
  let assign: Pipeline["assign"];
  // `$a := …`, `$a = …`, `$i, $v := …`
  const save = pos.i;
  while (lx[pos.i]?.t === "var") {
    const v = lx[pos.i] as { v: string };
    const after = lx[pos.i + 1];
    if (after?.t === ",") {
      vars.push(v.v);
      pos.i += 2;
      continue;
    }
    if (after?.t === ":=" || after?.t === "=") {
      vars.push(v.v);
      assign = after.t === ":=" ? "declare" : "set";
      pos.i += 2;
    }
    break;
  }
  if (!assign) {
    vars.length = 0;
    pos.i = save;
  }
  const commands: Command[] = [];
  let operands: Operand[] = [];
  for (;;) {
    const lxm = lx[pos.i];
    if (!lxm || (nested && lxm.t === ")")) break;
    pos.i++;
    switch (lxm.t) {
      case "|":
        if (operands.length === 0) throw new TemplateError(`line ${line}: empty command in {{ ${src} }}`);
        commands.push({ operands });
        operands = [];
        break;
      case "str":
        operands.push({ kind: "literal", value: lxm.v });
        break;
      case "num":
        operands.push({ kind: "literal", value: Number(lxm.v) });
        break;
      case "bool":
        operands.push({ kind: "literal", value: lxm.v === "true" });
        break;
      case "nil":
        operands.push({ kind: "literal", value: null });
        break;
      case "ident":
        operands.push({ kind: "ident", name: lxm.v });
        break;
      case "var":
        operands.push({ kind: "var", name: lxm.v, fields: takeFields(lx, pos) });
        break;
      case "dot":
        operands.push({ kind: "dot", fields: [] });
        break;
      case "field":
        operands.push({ kind: "dot", fields: [lxm.v, ...takeFields(lx, pos)] });
        break;
      case "(": {
        const pipe = parsePipeline(lx, pos, line, src, true);
        if (lx[pos.i]?.t !== ")") throw new TemplateError(`line ${line}: missing ) in {{ ${src} }}`);
        pos.i++;
        operands.push({ kind: "sub", pipe, fields: takeFields(lx, pos) });
        break;
      }
      default:
        throw new TemplateError(`line ${line}: unexpected ${lxm.t} in {{ ${src} }}`);
    }
  }
  if (operands.length > 0) commands.push({ operands });
  if (commands.length === 0) throw new TemplateError(`line ${line}: missing value in {{ ${src} }}`);
  return { vars, assign, commands };
}

function pipelineOf(src: string, line: number): Pipeline {
  const lx = lex(src, line);
  const pos = { i: 0 };
  const pipe = parsePipeline(lx, pos, line, src, false);
  if (pos.i < lx.length) throw new TemplateError(`line ${line}: unexpected ) in {{ ${src} }}`);
  return pipe;
}

const keyword = /^(if|else|end|with|range|break|continue|define|template|block)\b\s*/;

/** Parses template text into a node tree. */
export function parseTemplate(src: string): Node[] {
  const tokens = tokenize(src);
  let i = 0;

  // Parses nodes until `end` or `else`; returns the nodes and the terminator.
  function parseList(inside: string | undefined): { nodes: Node[]; stop: "end" | "else" | "eof"; elseRest: string } {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      if (tok.kind === "text") {
        nodes.push({ kind: "text", text: tok.text });
        continue;
      }
      const kw = keyword.exec(tok.src);
      if (!kw) {
        nodes.push({ kind: "action", pipe: pipelineOf(tok.src, tok.line) });
        continue;
      }
      const word = kw[1]!;
      const rest = tok.src.slice(kw[0].length);
      switch (word) {
        case "end":
        case "else":
          if (!inside) throw new TemplateError(`line ${tok.line}: unexpected {{ ${word} }}`);
          return { nodes, stop: word, elseRest: rest };
        case "break":
        case "continue":
          nodes.push({ kind: word });
          break;
        case "if":
        case "with":
        case "range":
          nodes.push(parseBlock(word, rest, tok.line));
          break;
        default:
          throw new TemplateError(`line ${tok.line}: {{ ${word} }} is not supported`);
      }
    }
    if (inside) throw new TemplateError(`unexpected end of template: {{ ${inside} }} is never closed`);
    return { nodes, stop: "eof", elseRest: "" };
  }

  function parseBlock(word: "if" | "with" | "range", rest: string, line: number): Node {
    const pipe = pipelineOf(rest, line);
    const body = parseList(word);
    let elseBody: Node[] = [];
    if (body.stop === "else") {
      const chained = /^(if|with)\b\s*/.exec(body.elseRest);
      if (chained) {
        // `{{ else if x }}` is an `if` nested in the else branch that shares the `end`.
        elseBody = [parseBlock(chained[1] as "if" | "with", body.elseRest.slice(chained[0].length), line)];
      } else {
        const tail = parseList(word);
        if (tail.stop !== "end") throw new TemplateError(`line ${line}: {{ ${word} }} has two {{ else }}`);
        elseBody = tail.nodes;
      }
    }
    return { kind: word, pipe, body: body.nodes, elseBody };
  }

  return parseList(undefined).nodes;
}
