/**
 * Writes a bundle file: the header verbatim, then `releases:` with one entry per release,
 * blank-line separated like upstream's files, top-level `{{- if }}` guards around the
 * entries that carry them. Same entries, same bytes.
 */
import { stringify } from "yaml";
import { BundleError, type Release } from "./release.js";
import type { BundleEntry } from "./source.js";

const flowList = (items: readonly string[]): string => `[${items.join(",")}]`;

/** Strings that the platform chart's `tpl` would read as template actions. */
function templateProblems(value: unknown, path: string): string[] {
  if (typeof value === "string") {
    return value.includes("{{") ? [`${path}: ${JSON.stringify(value)} contains "{{", which the platform chart would evaluate as a template`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateProblems(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [...templateProblems(k, `${path} key`), ...templateProblems(v, `${path}.${k}`)]);
  }
  return [];
}

function indentBlock(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => (l ? pad + l : l))
    .join("\n");
}

/** The text of one release entry, in upstream's field order. */
export function emitRelease(r: Release): string {
  const problems = templateProblems(r.values, `release ${r.name}: values`);
  if (problems.length > 0) throw new BundleError(problems);
  const lines = [`- name: ${r.name}`, `  releaseName: ${r.releaseName}`, `  chart: ${r.chart}`, `  namespace: ${r.namespace}`];
  if (r.privileged) lines.push("  privileged: true");
  if (r.optional) lines.push("  optional: true");
  lines.push(`  dependsOn: ${flowList(r.dependsOn)}`);
  if (r.values && Object.keys(r.values).length > 0) {
    lines.push("  values:", indentBlock(stringify(r.values, { sortMapEntries: true, lineWidth: 0 }), 4));
  }
  if (r.valuesFiles && r.valuesFiles.length > 0) {
    lines.push("  valuesFiles:", ...r.valuesFiles.map((f) => `  - ${f}`));
  }
  return lines.join("\n");
}

/** The whole bundle file. `preamble` lines (YAML comments) go before the header. */
export function emitBundle(header: string, entries: readonly BundleEntry[], preamble: readonly string[] = []): string {
  const out: string[] = [...preamble.map((l) => `# ${l}`), header.replace(/\n+$/, ""), "", "releases:"];
  let open: readonly string[] = [];
  const close = (to: number): void => {
    while (open.length > to) {
      out[out.length - 1] += "\n{{- end }}";
      open = open.slice(0, -1);
    }
  };
  entries.forEach((entry, i) => {
    let common = 0;
    while (common < open.length && open[common] === entry.guards[common]) common++;
    close(common);
    if (i > 0) out.push("");
    for (const guard of entry.guards.slice(common)) out.push(`{{- if ${guard} }}`);
    open = entry.guards;
    out.push(entry.text);
  });
  close(0);
  return `${out.join("\n")}\n`;
}
