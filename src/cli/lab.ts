/**
 * `npm run lab`: a Proxmox VE API emulator on loopback until Ctrl-C / SIGTERM.
 *
 *   npm run lab -- [--http] [--port 8006] [--scenario file.yaml] [--token user@realm!id] [--secret s]
 *                  [--task-ms 1000 | --timing capmox] [--seed n] [--latency ms] [--error-rate 0.1] [--offline pve2]
 *                  [--fail-tasks] [--fault '{"match":"POST **\/clone","failTask":"boom"}']
 *
 * Exit codes: 0 stopped by a signal, 2 usage, scenario or start error (with the usage).
 */
import { defaultScenario, loadScenarioFile, startLab, timingPresets, withAdminToken, type FaultRule, type LabHandle, type Scenario } from "../lab/index.js";
import { parseCommandLine, runCommand, UsageError, withUsage } from "./command.js";

export const labUsage = `usage: npm run lab -- [--http] [--port <p>] [--scenario <yaml>] [--token <user@realm!id>] [--secret <s>]
                      [--task-ms <ms>] [--timing capmox|instant] [--seed <n>] [--latency <ms>] [--error-rate <0..1>] [--offline <node>]
                      [--fail-tasks] [--fault <json rule>]...`;

/** Where the command writes: the export lines to `stdout`, the lab's log and mistakes to `stderr`. */
export interface LabIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

interface LabArgs {
  readonly http: boolean;
  readonly port: number;
  readonly scenario: Scenario;
  /** Unset when a --timing preset (or the scenario) says. */
  readonly taskDurationMs?: number;
}

type LabFlags = ReturnType<typeof parseLabFlags>;

function parseLabFlags(argv: readonly string[]) {
  return parseCommandLine({
    args: [...argv],
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
}

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} ${JSON.stringify(value)}: expected an integer ${min}..${max}`);
  return n;
}

/** The command line; every mistake a UsageError. */
function parseLabArgs(argv: readonly string[]): LabArgs | "help" {
  const flags = parseLabFlags(argv);
  if (flags.help) return "help";
  const port = intFlag("port", flags.port, 0, 65535) ?? 8006;
  if (flags.timing !== undefined && !(flags.timing in timingPresets)) throw new UsageError(`--timing ${JSON.stringify(flags.timing)}: expected one of ${Object.keys(timingPresets).join(", ")}`);
  if (flags.timing !== undefined && flags["task-ms"] !== undefined) throw new UsageError("--timing and --task-ms exclude each other");
  const taskDurationMs = flags.timing === undefined ? (intFlag("task-ms", flags["task-ms"], 0, 3_600_000) ?? 1000) : undefined;
  return { http: flags.http, port, scenario: scenarioOf(flags), ...(taskDurationMs === undefined ? {} : { taskDurationMs }) };
}

/** The scenario file (or the default), with the flags' token, timing preset, faults, offline nodes and seed. */
function scenarioOf(flags: LabFlags): Scenario {
  const seed = intFlag("seed", flags.seed, 0, 2 ** 31 - 1);
  const flagged = flagFaults(flags);
  if (flags.secret !== undefined && flags.token === undefined) throw new UsageError("--secret needs --token");
  const scenario = loadScenario(flags);
  const faults = [...flagged, ...jsonFaults(flags)];
  const offline = new Set(flags.offline ?? []);
  for (const name of offline) if (!scenario.nodes.some((n) => n.name === name)) throw new UsageError(`--offline ${JSON.stringify(name)}: no such node in the scenario`);
  const preset = flags.timing === undefined ? undefined : timingPresets[flags.timing];
  return {
    ...scenario,
    ...(preset ? { timing: { ...scenario.timing, ...preset } } : {}),
    nodes: scenario.nodes.map((n) => (offline.has(n.name) ? { ...n, online: false } : n)),
    faults: [...(scenario.faults ?? []), ...faults],
    ...(seed === undefined ? {} : { seed }),
  };
}

function loadScenario(flags: LabFlags): Scenario {
  try {
    const scenario = flags.scenario === undefined ? defaultScenario() : loadScenarioFile(flags.scenario);
    return flags.token === undefined ? scenario : withAdminToken(scenario, flags.token, flags.secret);
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
}

/** The fault rules --latency, --error-rate and --fail-tasks add after the scenario's. */
function flagFaults(flags: LabFlags): FaultRule[] {
  const latency = intFlag("latency", flags.latency, 0, 600_000);
  const errorRate = flags["error-rate"] === undefined ? undefined : Number(flags["error-rate"]);
  if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1)) throw new UsageError(`--error-rate ${JSON.stringify(flags["error-rate"])}: expected a number 0..1`);
  const faults: FaultRule[] = [];
  if (latency !== undefined) faults.push({ match: "*", latencyMs: latency });
  if (errorRate !== undefined) faults.push({ match: "*", errorRate, status: 500 });
  if (flags["fail-tasks"]) faults.push({ match: "*", failTask: true });
  return faults;
}

/** The rules given as --fault, each a JSON object. */
function jsonFaults(flags: LabFlags): FaultRule[] {
  const faults: FaultRule[] = [];
  for (const text of flags.fault ?? []) {
    try {
      faults.push(JSON.parse(text) as FaultRule);
    } catch (e) {
      throw new UsageError(`--fault ${JSON.stringify(text)}: not JSON (${(e as Error).message})`);
    }
  }
  return faults;
}

/** What a person needs to use the lab. The lab's own throwaway credentials: printing them is the point of this command. */
function banner(lab: LabHandle): string {
  const { admin, readonly } = lab.tokens;
  return [
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
  ].join("\n");
}

/** The first SIGINT or SIGTERM (the listening lab keeps the process alive meanwhile). */
function untilStopSignal(): Promise<string> {
  return new Promise((done) => {
    process.once("SIGINT", () => done("SIGINT"));
    process.once("SIGTERM", () => done("SIGTERM"));
  });
}

/** The command: the lab until a signal (0); a usage, scenario or start mistake 2 with the usage. */
export function labMain(argv: readonly string[], io: LabIo): Promise<number> {
  return runCommand("lab", labUsage, io.stderr, async () => {
    const args = withUsage(() => parseLabArgs(argv));
    if (args === "help") {
      io.stdout.write(`${labUsage}\n`);
      return 0;
    }
    const stopped = untilStopSignal();
    const lab = await startLabOf(args, io);
    io.stdout.write(`${banner(lab)}\n`);
    const signal = await stopped;
    io.stdout.write(`\n${signal}: stopping the lab\n`);
    await lab.stop();
    return 0;
  });
}

async function startLabOf(args: LabArgs, io: LabIo): Promise<LabHandle> {
  try {
    // its log (VMs cloned, started, destroyed) goes to stderr, the export lines to stdout
    return await startLab({ http: args.http, port: args.port, scenario: args.scenario, log: (line) => void io.stderr.write(`lab: ${line}\n`), ...(args.taskDurationMs === undefined ? {} : { taskDurationMs: args.taskDurationMs }) });
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause, showUsage: true });
  }
}
