/**
 * Helpers to write Go template text from TypeScript, so the chart uses the constructs' own
 * naming rules instead of a second copy of them.
 */

/** A Go string literal. JSON string syntax is valid Go string syntax for the texts used here. */
export function goString(text: string): string {
  return JSON.stringify(text);
}

const mark = (i: number): string => `\u0000${i}\u0000`;

/**
 * A Go template expression, `(printf "…" $a $b)`, that computes what `fn` computes from
 * template variables. Only for naming functions that concatenate their arguments with fixed
 * text; anything else (case changes, truncation) is refused, checked on sample arguments.
 */
export function printfOf(fn: (...args: string[]) => string, ...vars: string[]): string {
  const text = fn(...vars.map((_, i) => mark(i)));
  const order: number[] = [];
  const format = text
    .split(/(\u0000\d+\u0000)/)
    .map((part) => {
      const m = /^\u0000(\d+)\u0000$/.exec(part);
      if (!m) return part.replace(/%/g, "%%");
      order.push(Number(m[1]));
      return "%s";
    })
    .join("");
  const samples = vars.map((_, i) => `sample${i}`);
  let k = 0;
  const simulated = format.replace(/%s|%%/g, (t) => (t === "%%" ? "%" : (samples[order[k++]!] ?? "")));
  if (simulated !== fn(...samples) || order.length === 0) {
    throw new Error(`printfOf: ${fn.name || "function"} does not only concatenate its arguments; write its template by hand`);
  }
  return `(printf ${goString(format)} ${order.map((i) => vars[i]).join(" ")})`;
}
