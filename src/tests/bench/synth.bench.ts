/**
 * Synth time for 1, 10 and 100 tenants: the whole in-process synth (render everything, write
 * all-or-nothing into a temp folder), the tenant rendering alone (the part that grows with
 * tenants: its per-tenant cost should stay flat), strict --check validation, and the real
 * CLI as a fresh process. Target: 100 tenants in under 5 s on the 2-core machine.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { execa } from "execa";
import { renderTenants } from "../../capi/index.js";
import { checkTenants, synth } from "../../cli/synth.js";
import { defaultConfig, defaultTenant, printConfig, type PlatformConfig } from "../../config/index.js";
import { repoRoot } from "../../paths.js";

/** The default platform with `count` tenants on a /16 node network, each with its own /24 slice. */
export function manyTenants(count: number): PlatformConfig {
  const base = defaultConfig();
  return {
    ...base,
    network: { ...base.network, addressRanges: [{ start: "10.0.1.0", end: "10.0.255.254" }], prefix: 16 },
    tenants: Array.from({ length: count }, (_, i) => ({
      ...defaultTenant(`t${i}`, "v1.32.6"),
      addressRanges: [{ start: `10.0.${i + 1}.10`, end: `10.0.${i + 1}.200` }],
    })),
  };
}

// A full collection before each run keeps one run's garbage out of the next run's time.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function timed(fn: () => unknown | Promise<unknown>): Promise<number> {
  collectGarbage();
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median of a few runs: the machine is shared, single runs are noisy. */
async function median(fn: () => unknown | Promise<unknown>, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(fn));
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "synth-bench-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function synthRows(): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  await withTemp((dir) => synth(manyTenants(1), { outDir: join(dir, "out"), bundleFile: join(dir, "bundle.yaml") }));
  const totals = new Map<number, number>();
  for (const n of [1, 10, 100]) {
    const config = manyTenants(n);
    const ms = await withTemp((dir) => median(() => synth(config, { outDir: join(dir, "out"), bundleFile: join(dir, "bundle.yaml") })));
    totals.set(n, ms);
    rows.push({ measure: `synth in-process, ${n} tenant(s)`, ms: Math.round(ms), target: n === 100 ? "< 5000 ms" : "", status: n === 100 ? (ms < 5000 ? "ok" : "MISSED") : "" });
  }
  const marginal = ((totals.get(100) ?? 0) - (totals.get(1) ?? 0)) / 99;
  rows.push({ measure: "synth marginal cost per tenant (1→100)", ms: marginal, target: "", status: "" });
  return rows;
}

async function renderRows(): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  // warm up module loading and the JIT, or the first sizes pay for it
  for (let i = 0; i < 3; i++) renderTenants(manyTenants(100));
  for (const n of [1, 10, 100]) {
    const config = manyTenants(n);
    const ms = await median(() => renderTenants(config), 7);
    rows.push({ measure: `render tenants only, ${n} tenant(s)`, ms, target: "", status: `${(ms / n).toFixed(2)} ms/tenant` });
  }
  // Linearity: the same 100 tenants in one config, or as ten configs of ten. Equal times mean
  // a tenant costs the same however many others the config has.
  const all = manyTenants(100);
  const tens = Array.from({ length: 10 }, (_, k) => ({ ...all, tenants: all.tenants.slice(k * 10, k * 10 + 10) }));
  const one = await median(() => renderTenants(all), 7);
  const split = await median(() => tens.forEach((c) => renderTenants(c)), 7);
  const ratio = one / split;
  rows.push({ measure: "growth: 1 config x 100 tenants / 10 configs x 10 (1.0 = linear)", ms: ratio, target: "<= 1.5", status: ratio <= 1.5 ? "ok" : "MISSED" });
  return rows;
}

async function checkRows(): Promise<Record<string, string | number>[]> {
  const config = manyTenants(100);
  const tenants = renderTenants(config);
  const cold = await timed(() => checkTenants(renderTenants(manyTenants(1)), config));
  const warm = await median(() => checkTenants(tenants, config));
  return [
    { measure: "strict check: load + compile CRD schemas (once)", ms: Math.round(cold), target: "", status: "" },
    { measure: "strict check, 100 tenants (700 objects)", ms: Math.round(warm), target: "", status: "" },
  ];
}

async function cliRows(): Promise<Record<string, string | number>[]> {
  return withTemp(async (dir) => {
    const file = join(dir, "platform.yaml");
    await writeFile(file, printConfig(manyTenants(100)));
    // What `npm run synth` starts (without npm's own start-up), so build/ is compiled if stale.
    const ms = await timed(() =>
      execa(process.execPath, ["--import", "./scripts/build.mjs", "build/scripts/synth.js", "--config", file, "--out", join(dir, "out"), "--bundle", join(dir, "bundle.yaml")], {
        cwd: repoRoot,
      }),
    );
    return [{ measure: "synth CLI as a new process (compiled), 100 tenants", ms: Math.round(ms), target: "< 5000 ms", status: ms < 5000 ? "ok" : "MISSED" }];
  });
}

export async function run(): Promise<Array<Record<string, string | number>>> {
  return [...(await synthRows()), ...(await renderRows()), ...(await checkRows()), ...(await cliRows())];
}
