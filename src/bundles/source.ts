/**
 * Reads a CozyStack v0.37 bundle file (paas-full.yaml) into its templated header and its
 * release entries, each kept as verbatim template text. The project does not copy
 * paas-full: it reads it from shared/reference at run time and transforms it, so the
 * releases it keeps behave exactly as upstream wrote them (their `lookup`s, conditional
 * values and dependencies stay templates the platform chart evaluates on the cluster).
 */
import { readFileSync } from "node:fs";
import { referencePath } from "../paths.js";
import { BundleError } from "./release.js";

/** One release of a bundle file, as template text. */
export interface BundleEntry {
  /** The release's `name:`. */
  readonly name: string;
  /** The entry's lines, from `- name:` to its last non-blank line. */
  readonly text: string;
  /**
   * Conditions of the top-level `{{- if … }}` blocks around the entry, outermost first
   * (paas-full wraps the keycloak releases in `{{- if $oidcEnabled }}`). @default []
   */
  readonly guards: readonly string[];
}

export interface BundleSource {
  /** Everything before `releases:`, verbatim (paas-full's `$cozyConfig` lookup and `fail` guards). */
  readonly header: string;
  readonly entries: readonly BundleEntry[];
}

const guardOpen = /^\{\{-?\s*if\s+(.+?)\s*-?\}\}\s*$/;
const guardClose = /^\{\{-?\s*end\s*-?\}\}\s*$/;
const entryStart = /^- name:\s*(\S+)\s*$/;

/** Splits bundle text into header and entries. Throws BundleError on shapes it does not know. */
export function parseBundleSource(text: string, file = "bundle"): BundleSource {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^releases:\s*$/.test(l));
  if (start < 0) throw new BundleError([`${file}: no top-level releases: line`]);
  const header = lines.slice(0, start).join("\n");
  const entries: BundleEntry[] = [];
  const guards: string[] = [];
  let current: { name: string; lines: string[]; guards: string[] } | undefined;
  const flush = (): void => {
    if (!current) return;
    while (current.lines.length > 0 && current.lines[current.lines.length - 1]!.trim() === "") current.lines.pop();
    entries.push({ name: current.name, text: current.lines.join("\n"), guards: current.guards });
    current = undefined;
  };
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    const where = `${file}:${i + 1}`;
    const open = guardOpen.exec(line);
    const entry = entryStart.exec(line);
    if (open) {
      flush();
      guards.push(open[1]!);
    } else if (guardClose.test(line)) {
      flush();
      if (guards.pop() === undefined) throw new BundleError([`${where}: {{- end }} without a top-level {{- if }}`]);
    } else if (entry) {
      flush();
      current = { name: entry[1]!, lines: [line], guards: [...guards] };
    } else if (line.trim() === "") {
      current?.lines.push(line);
    } else if (/^\s/.test(line) && current) {
      current.lines.push(line);
    } else {
      throw new BundleError([`${where}: unexpected top-level line ${JSON.stringify(line)}`]);
    }
  }
  flush();
  if (guards.length > 0) throw new BundleError([`${file}: {{- if ${guards.join(" / ")} }} is never closed`]);
  return { header, entries };
}

/** Path of CozyStack v0.37.10's paas-full bundle in the reference data. */
export const paasFullPath = (): string => referencePath("cozystack-v0.37.10", "paas-full.yaml");

/** paas-full, read from shared/reference. */
export function loadPaasFull(): BundleSource {
  return parseBundleSource(readFileSync(paasFullPath(), "utf8"), "paas-full.yaml");
}
