/**
 * `npm run bench [-- <filter>]`: runs every bench module and prints its rows. A bench module
 * is `src/tests/bench/*.bench.ts` or any `src/**\/bench.ts` exporting
 * `run(): Promise<Array<Record<string, string | number>>>`; drop a file there to add a section.
 * Modules run one after another (the machine is small); a failing module is reported and the
 * rest still run; the exit code is 1 if any failed.
 */
import { readdir } from "node:fs/promises";
import { dirname, extname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Row = Record<string, string | number>;
interface BenchModule {
  run: () => Promise<Row[]> | Row[];
}

/**
 * Where the bench modules are: beside this script's own `src`, so the compiled bench
 * (build/scripts/bench.js) runs build/src/**\/*.bench.js and `tsx scripts/bench.ts` the sources.
 */
const here = fileURLToPath(import.meta.url);
const ext = extname(here);
const srcRoot = join(dirname(here), "..", "src");

async function benchModules(): Promise<string[]> {
  const entries = await readdir(srcRoot, { recursive: true });
  return entries
    .map((e) => join(srcRoot, e))
    .filter((p) => !p.includes(`${join("capi", "imports")}`))
    .filter((p) => (p.includes(join("tests", "bench")) && p.endsWith(`.bench${ext}`)) || p.endsWith(`${sep}bench${ext}`))
    .sort();
}

function table(rows: readonly Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : (v ?? ""));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

async function main(): Promise<number> {
  const filter = process.argv[2];
  let failed = 0;
  for (const file of await benchModules()) {
    const name = join("src", relative(srcRoot, file));
    if (filter && !name.includes(filter)) continue;
    console.log(`\n## ${name}\n`);
    try {
      const mod = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
      if (typeof mod.run !== "function") throw new Error("exports no run() function");
      console.log(table(await mod.run()));
    } catch (error) {
      failed++;
      console.log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
