/**
 * `npm run lab`: a Proxmox VE API emulator on loopback until Ctrl-C / SIGTERM.
 *
 *   npm run lab -- [--http] [--port 8006] [--scenario file.yaml] [--token user@realm!id] [--secret s]
 *                  [--task-ms 1000 | --timing capmox] [--seed n] [--latency ms] [--error-rate 0.1] [--offline pve2]
 *                  [--fail-tasks] [--fault '{"match":"POST **\/clone","failTask":"boom"}']
 */
import { parseArgs } from "node:util";
import { defaultScenario, loadScenarioFile, startLab, timingPresets, withAdminToken, type FaultRule, type Scenario } from "../src/lab/index.js";

const usage = `usage: npm run lab -- [--http] [--port <p>] [--scenario <yaml>] [--token <user@realm!id>] [--secret <s>]
                      [--task-ms <ms>] [--timing capmox|instant] [--seed <n>] [--latency <ms>] [--error-rate <0..1>] [--offline <node>]
                      [--fail-tasks] [--fault <json rule>]...`;

function fail(message: string): never {
  process.stderr.write(`lab: ${message}\n${usage}\n`);
  process.exit(2);
}

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} ${JSON.stringify(value)}: expected an integer ${min}..${max}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      http: { type: "boolean", default: false },
      port: { type: "string" },
      scenario: { type: "string" },
      token: { type: "string" },
      secret: { type: "string" },
      "task-ms": { type: "string" },
      timing: { type: "string" },
      seed: { type: "string" },
      latency: { type: "string" },
      "error-rate": { type: "string" },
      offline: { type: "string", multiple: true },
      "fail-tasks": { type: "boolean", default: false },
      fault: { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  fail((e as Error).message);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const port = intFlag("port", args.port, 0, 65535) ?? 8006;
if (args.timing !== undefined && !(args.timing in timingPresets)) fail(`--timing ${JSON.stringify(args.timing)}: expected one of ${Object.keys(timingPresets).join(", ")}`);
if (args.timing !== undefined && args["task-ms"] !== undefined) fail("--timing and --task-ms exclude each other");
const preset = args.timing === undefined ? undefined : timingPresets[args.timing];
const taskDurationMs = preset ? undefined : (intFlag("task-ms", args["task-ms"], 0, 3_600_000) ?? 1000);
const seed = intFlag("seed", args.seed, 0, 2 ** 31 - 1);
const latency = intFlag("latency", args.latency, 0, 600_000);
const errorRate = args["error-rate"] === undefined ? undefined : Number(args["error-rate"]);
if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1)) fail(`--error-rate ${JSON.stringify(args["error-rate"])}: expected a number 0..1`);
if (args.secret !== undefined && args.token === undefined) fail("--secret needs --token");

let scenario: Scenario;
try {
  scenario = args.scenario === undefined ? defaultScenario() : loadScenarioFile(args.scenario);
  if (args.token !== undefined) scenario = withAdminToken(scenario, args.token, args.secret);
} catch (e) {
  fail((e as Error).message);
}
const faults: FaultRule[] = [...(scenario.faults ?? [])];
if (latency !== undefined) faults.push({ match: "*", latencyMs: latency });
if (errorRate !== undefined) faults.push({ match: "*", errorRate, status: 500 });
if (args["fail-tasks"]) faults.push({ match: "*", failTask: true });
for (const text of args.fault ?? []) {
  try {
    faults.push(JSON.parse(text) as FaultRule);
  } catch (e) {
    fail(`--fault ${JSON.stringify(text)}: not JSON (${(e as Error).message})`);
  }
}
const offline = new Set(args.offline ?? []);
for (const name of offline) if (!scenario.nodes.some((n) => n.name === name)) fail(`--offline ${JSON.stringify(name)}: no such node in the scenario`);
scenario = {
  ...scenario,
  ...(preset ? { timing: { ...scenario.timing, ...preset } } : {}),
  nodes: scenario.nodes.map((n) => (offline.has(n.name) ? { ...n, online: false } : n)),
  faults,
  ...(seed === undefined ? {} : { seed }),
};

try {
  // its log (VMs cloned, started, destroyed) goes to stderr, the export lines to stdout
  const lab = await startLab({ http: args.http, port, scenario, log: (line) => process.stderr.write(`lab: ${line}\n`), ...(taskDurationMs === undefined ? {} : { taskDurationMs }) });
  const { admin, readonly } = lab.tokens;
  // The lab's own throwaway credentials: printing them is the point of this command.
  const lines = [
    `Proxmox VE lab (API 9.1) listening on ${lab.url}/api2/json`,
    ...(lab.fingerprint ? [`TLS: self-signed certificate, SHA-256 fingerprint ${lab.fingerprint}`] : ["TLS: off (--http)"]),
    `nodes: ${[...lab.state.nodes.values()].map((n) => `${n.name}${n.online ? "" : " (offline)"}`).join(", ")}`,
    `admin token:     ${admin.id}  secret ${admin.secret}`,
    `read-only token: ${readonly.id}  secret ${readonly.secret}`,
    "",
    "export PROXMOX_URL=" + lab.url,
    `export PROXMOX_TOKEN='${admin.id}'`,
    `export PROXMOX_SECRET='${admin.secret}'`,
    ...(lab.fingerprint ? [`export PROXMOX_FINGERPRINT='${lab.fingerprint}'`] : []),
    "",
    "Ctrl-C stops the lab.",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`\n${signal}: stopping the lab\n`);
    void lab.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (e) {
  fail((e as Error).message);
}
