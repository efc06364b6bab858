/**
 * The release model of a bundle file: for each entry, the fields the platform chart decides
 * the install with (name, chart, namespace, privileged, optional, dependsOn), read from the
 * entry's text under given install settings. It is what synth checks, what the overlay
 * takes its charts from and what bootstrap prepares namespaces for.
 *
 * Not a template engine: those fields are plain YAML in every entry, except where a
 * top-level `{{- if }}` guard (the keycloak releases) or an `{{- if }}` inside a dependsOn
 * list (the dashboard's keycloak dependency) switches on OIDC. Those conditions are the
 * only ones it knows; any other template text on one of those fields is refused, naming
 * the release. Values stay templates for the platform chart: the tests render the bundle
 * with CozyStack's real chart and the real helm.
 */
import { BundleError, type GraphRelease } from "./release.js";
import { parseBundleSource, type BundleEntry } from "./source.js";

/** What the `cozystack` ConfigMap says about which releases run. */
export interface ModelSettings {
  /** The ConfigMap's `oidc-enabled`, as written (unset, "true", "false", …). @default unset */
  readonly oidcEnabled?: string;
}

/** One release as the model reads it. */
export interface ModelRelease extends GraphRelease {
  readonly releaseName: string;
  readonly privileged: boolean;
  readonly optional: boolean;
  readonly dependsOn: readonly string[];
}

/**
 * Conditions the model evaluates. paas-full guards the keycloak entries with
 * `$oidcEnabled` (any non-empty value: "false" too, which puts them in the bundle, and their
 * namespace in the cluster, though the platform chart installs them only for "true") and
 * the dashboard's dependency with `eq $oidcEnabled "true"`.
 */
const conditions: Readonly<Record<string, (s: ModelSettings) => boolean>> = {
  $oidcEnabled: (s) => (s.oidcEnabled ?? "") !== "",
  'eq $oidcEnabled "true"': (s) => s.oidcEnabled === "true",
};

const graphScalars = ["name", "releaseName", "chart", "namespace", "privileged", "optional"] as const;
const ifLine = /^\s*\{\{-?\s*if\s+(.+?)\s*-?\}\}\s*$/;
const endLine = /^\s*\{\{-?\s*end\s*-?\}\}\s*$/;
const actionLine = /^\s*\{\{.*\}\}\s*$/;
const topKey = /^(?:- | {2})([A-Za-z]+):\s*(.*?)\s*$/;

function condition(text: string, release: string, s: ModelSettings): boolean {
  const known = conditions[text];
  if (!known) throw new BundleError([`release ${release}: {{ if ${text} }} around its dependsOn, privileged or optional: the release model cannot read it`]);
  return known(s);
}

function unquote(v: string): string {
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

function flowList(v: string, release: string): string[] {
  if (!/^\[.*\]$/.test(v)) throw new BundleError([`release ${release}: dependsOn ${JSON.stringify(v)} is neither a [a,b] list nor a block list`]);
  return v
    .slice(1, -1)
    .split(",")
    .map((d) => unquote(d.trim()))
    .filter((d) => d !== "");
}

/** Reads one entry's fields under the settings. Lines deeper than the entry's keys (values) are skipped. */
export function readRelease(entry: BundleEntry, s: ModelSettings = {}): ModelRelease {
  const fields = new Map<string, string>();
  const dependsOn: string[] = [];
  /** Open `{{- if }}` blocks at the entry's key level: undefined = a condition the model does not know. */
  const open: (boolean | undefined)[] = [];
  let inDependsOn = false;
  for (const line of entry.text.split("\n")) {
    const cond = ifLine.exec(line);
    if (cond) {
      open.push(inDependsOn ? condition(cond[1]!, entry.name, s) : (conditions[cond[1]!]?.(s) ?? undefined));
      continue;
    }
    if (endLine.test(line)) {
      open.pop();
      continue;
    }
    if (actionLine.test(line) || line.trim() === "") continue;
    const active = open.every((c) => c !== false);
    const item = /^ {2}- (.+?)\s*$/.exec(line);
    if (inDependsOn && item) {
      if (active) dependsOn.push(unquote(item[1]!));
      continue;
    }
    inDependsOn = false;
    const key = topKey.exec(line);
    if (!key) continue;
    const [, name, value] = key as unknown as [string, string, string];
    if (!(graphScalars as readonly string[]).includes(name) && name !== "dependsOn") continue;
    if (open.includes(undefined) || value.includes("{{")) {
      throw new BundleError([`release ${entry.name}: ${name} is templated; the release model cannot read it`]);
    }
    if (!active) continue;
    if (name === "dependsOn") {
      if (value === "") inDependsOn = true;
      else dependsOn.push(...flowList(value, entry.name));
    } else {
      fields.set(name, unquote(value));
    }
  }
  const chart = fields.get("chart");
  const namespace = fields.get("namespace");
  if (!chart || !namespace) throw new BundleError([`release ${entry.name}: no chart or namespace`]);
  return {
    name: entry.name,
    releaseName: fields.get("releaseName") || entry.name,
    chart,
    namespace,
    privileged: fields.get("privileged") === "true",
    optional: fields.get("optional") === "true",
    dependsOn,
  };
}

/** Whether an entry is in the bundle under the settings (its top-level guards hold). */
function guarded(entry: BundleEntry, s: ModelSettings): boolean {
  return entry.guards.every((g) => condition(g, entry.name, s));
}

/** Every release of bundle text under the settings, in file order, installed or not. */
export function bundleReleases(bundleText: string, settings: ModelSettings = {}): ModelRelease[] {
  return parseBundleSource(bundleText).entries.filter((e) => guarded(e, settings)).map((e) => readRelease(e, settings));
}
