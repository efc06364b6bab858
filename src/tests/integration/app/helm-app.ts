/**
 * The app chart through the real helm binary: write the generated chart to a temp folder,
 * run `helm lint` / `helm template`, parse what comes out; and compare objects by identity.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import type { PlatformConfig } from "../../../config/types.js";
import { underDir } from "../../../cozystack/charts/files.js";
import { appChartPath, definitionChartDir, renderAppFiles, resourceDefinitionChart } from "../../../cozystack/app/index.js";
import { helmPath } from "../../../tools/helm.js";

const run = promisify(execFile);

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

/** A scratch folder removed by `dispose`. */
export function scratch(prefix: string): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the app and definition charts of a config under `dir`; returns their folders. */
export function writeAppCharts(dir: string, config: PlatformConfig): { app: string; definition: string } {
  const definitionPath = `packages/system/${definitionChartDir}`;
  for (const [path, content] of [...renderAppFiles(config), ...underDir(definitionPath, resourceDefinitionChart(config))]) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return { app: join(dir, appChartPath), definition: join(dir, definitionPath) };
}

/** Runs helm; resolves with stdout, or rejects with an Error whose message is helm's stderr. */
export async function helm(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(helmPath(), args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(e.stderr?.trim() || e.message, { cause: err });
  }
}

export interface TemplateOptions {
  readonly release: string;
  readonly namespace: string;
  /** Values given with -f (as a user's custom resource spec would be). */
  readonly values?: Record<string, unknown>;
}

let valuesFiles = 0;

/** `helm template` of a chart folder, parsed into objects. */
export async function helmTemplate(chartDir: string, o: TemplateOptions): Promise<Obj[]> {
  const args = ["template", o.release, chartDir, "--namespace", o.namespace];
  if (o.values) {
    const file = join(dirname(chartDir), `values-${process.pid}-${valuesFiles++}.yaml`);
    // YAML 1.1, as Helm reads it: "y", "no", "on" must stay strings
    writeFileSync(file, stringify(o.values, { version: "1.1" }));
    args.push("-f", file);
  }
  return parseObjects(await helm(...args));
}

export function parseObjects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`helm produced invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);
}

export const identity = (o: Obj): string => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** Objects by identity; throws on a duplicate. */
export function byIdentity(objects: readonly Obj[]): Map<string, Obj> {
  const map = new Map<string, Obj>();
  for (const o of objects) {
    if (map.has(identity(o))) throw new Error(`two objects ${identity(o)}`);
    map.set(identity(o), o);
  }
  return map;
}
