/**
 * Start-up against a yardstick: `synth` of the default config as a whole new process, next to
 * `helm template` of CozyStack v0.37.10's whole platform chart (packages/core/platform with its
 * paas-full bundle), the render a CozyStack user already waits for. The commands run
 * alternately, one after the other, so load from other processes hits them alike; each
 * figure is the median. Target: synth / helm ≤ 10, stretch 5 (issue 11).
 *
 * Two synth rows: the compiled entry point as `npm run synth` starts it (node, the build
 * freshness check, build/scripts/synth.js), and `npm run synth` itself, which adds npm's own
 * start-up.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { referencePath, repoRoot } from "../../paths.js";
import { helmPath } from "../../tools/helm.js";

const RUNS = 11;
const TARGET = 10;
const STRETCH = 5;

interface Command {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
}

/** Wall time of one run in ms; throws with its stderr when the command fails. */
function timeRun(command: Command): number {
  const t0 = performance.now();
  const result = spawnSync(command.file, command.args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - t0;
  if (result.status !== 0) throw new Error(`${command.name} failed (exit ${result.status ?? result.signal}): ${result.stderr}`);
  return ms;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * A copy of the platform chart that renders offline: helm renders client-side, where
 * `lookup` finds nothing, so the `cozystack` ConfigMap comes in as a value instead.
 */
function platformChart(dir: string): { chart: string; values: string } {
  const chart = join(dir, "platform");
  cpSync(referencePath("cozystack-v0.37.10", "release", "packages", "core", "platform"), chart, { recursive: true });
  const lookup = 'lookup "v1" "ConfigMap" "cozy-system" "cozystack"';
  for (const sub of ["templates", "bundles"]) {
    for (const file of readdirSync(join(chart, sub)).map((f) => join(chart, sub, f))) {
      writeFileSync(file, readFileSync(file, "utf8").replaceAll(lookup, ".Values.cozyConfig"));
    }
  }
  const values = join(dir, "cozy.json");
  const data = { "bundle-name": "paas-full", "root-host": "example.org", "api-server-endpoint": "https://api.example.org:6443" };
  writeFileSync(values, JSON.stringify({ cozyConfig: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cozystack", namespace: "cozy-system" }, data } }));
  return { chart, values };
}

export async function run(): Promise<Array<Record<string, string | number>>> {
  const dir = mkdtempSync(join(tmpdir(), "startup-bench-"));
  try {
    const { chart, values } = platformChart(dir);
    const out = ["--out", join(dir, "out"), "--bundle", join(dir, "bundle.yaml")];
    const commands: Command[] = [
      { name: "synth: node build/scripts/synth.js", file: process.execPath, args: ["--import", "./scripts/build.mjs", "build/scripts/synth.js", ...out] },
      { name: "synth: npm run synth", file: "npm", args: ["run", "--silent", "synth", "--", ...out] },
      { name: "helm template (platform chart)", file: helmPath(), args: ["template", "platform", chart, "--namespace", "cozy-system", "-f", values] },
    ];
    // One untimed round: compiles build/ if a source changed, fills the file cache.
    for (const command of commands) timeRun(command);
    const times = commands.map((): number[] => []);
    for (let i = 0; i < RUNS; i++) commands.forEach((command, k) => times[k]!.push(timeRun(command)));
    const medians = times.map(median);
    const helm = medians[2]!;
    return commands.map((command, k) => {
      const ratio = medians[k]! / helm;
      const isSynth = k < 2;
      return {
        measure: command.name,
        runs: RUNS,
        "median ms": Math.round(medians[k]!),
        "/ helm": isSynth ? ratio : "",
        target: isSynth ? `<= ${TARGET} (stretch ${STRETCH})` : "",
        status: isSynth ? (ratio <= STRETCH ? "ok (stretch)" : ratio <= TARGET ? "ok" : "MISSED") : "",
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
