/**
 * Which `Package` objects CozyStack v1.6.2's platform chart renders for given platform
 * values: its `templates/bundles/*.yaml` call the `cozystack.platform.package*` helpers of
 * `_helpers.tpl`, inside `if` guards on the values. This reads those calls and guards (see
 * conditions.ts for the expressions it understands) with the values the operator gives the
 * chart: `values.yaml`, then `values-<variant>.yaml`, then the platform Package's own
 * values, merged as Helm merges them. A guard it cannot read around a Package is refused,
 * naming the file and the package. The integration test renders the same values with the
 * real helm and requires this exact set.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { evaluate, type Scope } from "./conditions.js";
import { platformChartDir } from "./source.js";

/** A Package the platform chart renders. */
export interface PlatformPackage {
  readonly name: string;
  readonly variant: string;
  /** `templates/bundles/<file>`, for messages. */
  readonly file: string;
}

/** A Package call the chart holds but does not render under the values, and why. */
export interface SkippedPackage {
  readonly name: string;
  readonly file: string;
  readonly why: "guard" | "disabled" | "not enabled";
}

export interface PlatformRender {
  readonly packages: readonly PlatformPackage[];
  readonly skipped: readonly SkippedPackage[];
}

type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => v !== null && typeof v === "object" && !Array.isArray(v);

/** Helm's values merge: maps merge key by key, anything else replaces. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v);
  return out;
}

/** The values the chart sees for a platform variant and the platform Package's values. */
export function platformValues(variant: string, packageValues: Values): Values {
  const read = (file: string): Values => (parse(readFileSync(platformChartDir(file), "utf8")) as Values | null) ?? {};
  return mergeValues(mergeValues(read("values.yaml"), read(`values-${variant}.yaml`)), packageValues) as Values;
}

const comment = /\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g;
const action = /\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const packageInclude = /^include\s+"(cozystack\.platform\.package(?:\.default|\.optional|\.optional\.default)?)"\s+\(list\s+([\s\S]*)\)$/;
const helperInclude = /^include\s+"([^"]+)"\s+\$$/;

function actions(text: string): string[] {
  return [...text.replace(comment, "").matchAll(action)].map((m) => m[1]!.trim());
}

/** The bodies of `define` blocks, as action lists. */
function defines(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: { name: string; depth: number; body: string[] } | undefined;
  for (const a of actions(text)) {
    const def = /^define\s+"([^"]+)"$/.exec(a);
    if (!current) {
      if (def) current = { name: def[1]!, depth: 0, body: [] };
      continue;
    }
    if (/^(if|range|with|define)\b/.test(a)) current.depth++;
    if (a === "end") {
      if (current.depth === 0) {
        out.set(current.name, current.body);
        current = undefined;
        continue;
      }
      current.depth--;
    }
    current.body.push(a);
  }
  return out;
}

function args(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

const literal = (t: string | undefined): string | undefined => (t?.startsWith('"') ? (JSON.parse(t) as string) : undefined);

/** Renders the model: the Packages of every bundle file under the values, in file order. */
export function platformPackages(values: Values, dir = platformChartDir()): PlatformRender {
  const helpers = defines(readFileSync(`${dir}/templates/_helpers.tpl`, "utf8"));
  const bundles = values.bundles as Values | undefined;
  const enabled = (bundles?.enabledPackages as string[] | undefined) ?? [];
  const disabled = (bundles?.disabledPackages as string[] | undefined) ?? [];
  const packages: PlatformPackage[] = [];
  const skipped: SkippedPackage[] = [];
  const problems: string[] = [];

  const walk = (list: readonly string[], file: string, variables: Record<string, unknown>): void => {
    const guards: { text: string; value: boolean | undefined; taken: boolean | undefined }[] = [];
    for (const a of list) {
      const scope: Scope = { values, variables };
      const assign = /^(\$\w+)\s*:=\s*([\s\S]+)$/.exec(a);
      if (assign) {
        const lit = literal(assign[2]!.trim());
        variables[assign[1]!] = lit ?? evaluate(assign[2]!, scope);
        continue;
      }
      if (a.startsWith("if ")) {
        const value = evaluate(a.slice(3), scope);
        guards.push({ text: a.slice(3), value, taken: value });
      } else if (/^(range|with)\b/.test(a)) guards.push({ text: a, value: undefined, taken: undefined });
      else if (a === "else" || a.startsWith("else if ")) {
        // A branch runs when no earlier branch of its chain did and its own condition holds.
        const top = guards.pop();
        const own = a === "else" ? true : evaluate(a.slice(8), scope);
        const earlier = top?.taken;
        const value = earlier === true ? false : earlier === false ? own : undefined;
        const taken = earlier === true || own === true ? true : earlier === false && own === false ? false : undefined;
        guards.push({ text: `${a} (after ${top?.text})`, value, taken });
      } else if (a === "end") guards.pop();
      const inc = packageInclude.exec(a);
      const helper = helperInclude.exec(a);
      if (!inc && !helper) continue;
      if (guards.some((g) => g.value === false)) {
        if (inc) skipped.push({ name: literal(args(inc[2]!)[0]) ?? inc[2]!, file, why: "guard" });
        continue;
      }
      const unread = guards.find((g) => g.value === undefined);
      if (helper) {
        const body = helpers.get(helper[1]!);
        if (body && !helper[1]!.startsWith("cozystack.platform.package")) {
          if (unread) problems.push(`${file}: {{ if ${unread.text} }} around ${helper[1]}: the platform model cannot read it`);
          else walk(body, file, {});
        }
        continue;
      }
      const [helperName, argText] = [inc![1]!, inc![2]!];
      const a0 = args(argText);
      const name = literal(a0[0]);
      if (!name) {
        problems.push(`${file}: a Package include with a computed name (${argText}): the platform model cannot read it`);
        continue;
      }
      if (unread) {
        problems.push(`${file}: {{ if ${unread.text} }} around Package ${name}: the platform model cannot read it`);
        continue;
      }
      const optional = helperName.includes(".optional");
      const variant = helperName.endsWith(".default") ? "default" : a0[1] === undefined ? "default" : (literal(a0[1]) ?? (variables[a0[1]] as string | undefined));
      if (disabled.includes(name)) skipped.push({ name, file, why: "disabled" });
      else if (optional && !enabled.includes(name)) skipped.push({ name, file, why: "not enabled" });
      else if (typeof variant !== "string") problems.push(`${file}: Package ${name} gets its variant from ${a0[1]}: the platform model cannot read it`);
      else packages.push({ name, variant: variant || "default", file });
    }
  };

  for (const file of readdirSync(`${dir}/templates/bundles`).filter((f) => f.endsWith(".yaml")).sort()) {
    walk(actions(readFileSync(`${dir}/templates/bundles/${file}`, "utf8")), `templates/bundles/${file}`, {});
  }
  if (problems.length > 0) throw new Error(`CozyStack v1.6.2's platform chart: ${problems.join("; ")}`);
  return { packages, skipped };
}
