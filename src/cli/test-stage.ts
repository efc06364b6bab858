/**
 * `npm run test:stage -- <N|all> [--config <file>] [--output json|junit] [--report-dir <dir>] [--keep-going]`
 * `npm run test:stage -- --sweep [--yes] [--min-age <duration>] [--kubeconfig <file>] [--config <file>]` (src/cli/stage-sweep.ts)
 *
 * Exit codes: 0 every check passed, 1 a check failed, 2 usage or config error.
 */
import { resolve } from "node:path";
import type { EnvMap } from "../proxmox/index.js";
import {
  type ReportFormat,
  createProgress,
  parseDuration,
  renderTable,
  runStages,
  stageCatalog,
  type StageInput,
  type StageNeeds,
  writeReports,
} from "../stages/index.js";
import { type CliIo, parseCommandLine, runCommand, withUsage } from "./command.js";
import { UsageError, abortOnSignals, openSession, outputStyle, type Session } from "./proxmox-session.js";
import { kubeconfigPathOf, managementInput } from "./management.js";
import { stageSweepMain, type StageSweepArgs } from "./stage-sweep.js";

export const testStageUsage = `usage: npm run test:stage -- <N|all> [--config <file>] [--kubeconfig <file>] [--tenant-kubeconfig <file>] [--output json|junit]... [--report-dir <dir>] [--keep-going]
       npm run test:stage -- --sweep [--yes] [--min-age <duration>] [--kubeconfig <file>] [--config <file>]

  <N|all>           stage number (${stageCatalog.map((s) => s.number).join(", ")}) or all
  --config <file>   platform.yaml (default: the built-in config, which matches \`npm run lab\`)
  --kubeconfig <f>  the management cluster for stages 3, 4, 7 and 8 (default: KUBECONFIG)
  --tenant-kubeconfig <f>
                    a tenant cluster whose workers are Proxmox VMs, for stages 5 to 7 (default: TENANT_KUBECONFIG)
  --output <fmt>    also write a report: json or junit (repeat or comma-separate for both)
  --report-dir <d>  where reports go (default: reports)
  --keep-going      with all: run later stages after a failed one
  --sweep           list the test tenants (namespaces cozy-stage<N>-<run id>) that killed runs of stages 3, 4 and 8
                    left in the management cluster: runs whose process on this host is gone, or older than a run
                    of their stage can take (stages 3, 4 and 8 remove these themselves before they start)
  --yes             with --sweep: remove them: delete each Cluster, wait for capmox to destroy its VMs, then the namespace
  --min-age <dur>   with --sweep: count runs older than this as over, e.g. 0 or 10m (default: the stage's longest run)

Connection overrides: PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET, PROXMOX_CA_FILE, PROXMOX_FINGERPRINT, PROXMOX_INSECURE.
Stages 5-7: TENANT_STORAGE_CLASS (default proxmox-csi), MONITORING_NAMESPACE (default tenant-root), PROBE_IMAGE (default busybox:1.36).
Exit codes: 0 all checks passed, 1 a check failed, 2 usage or config error.`;

interface StageArgs {
  readonly selection: number[] | "all";
  readonly config?: string;
  readonly kubeconfig?: string;
  readonly tenantKubeconfig?: string;
  readonly formats: ReportFormat[];
  readonly reportDir: string;
  readonly keepGoing: boolean;
}

export function parseFormats(values: readonly string[]): ReportFormat[] {
  const formats = new Set<ReportFormat>();
  for (const value of values.flatMap((v) => v.split(","))) {
    const f = value.trim();
    if (f !== "json" && f !== "junit") throw new UsageError(`--output: '${f}' is not a report format (json, junit)`);
    formats.add(f);
  }
  return [...formats];
}

/** `--sweep` and what goes with it; undefined without `--sweep`. */
function sweepArgs(values: { sweep: boolean; yes: boolean; "min-age"?: string; config?: string; kubeconfig?: string; [other: string]: unknown }, positionals: readonly string[], env: EnvMap): StageSweepArgs | undefined {
  if (!values.sweep) {
    if (values.yes || values["min-age"] !== undefined) throw new UsageError("--yes and --min-age go with --sweep");
    return undefined;
  }
  if (positionals.length > 0) throw new UsageError(`--sweep takes no stage (got ${positionals.join(" ")})`);
  const others = ["tenant-kubeconfig", "output", "report-dir"].filter((o) => values[o] !== undefined);
  if (others.length > 0 || values["keep-going"]) throw new UsageError("--sweep takes only --yes, --min-age, --kubeconfig and --config");
  const kubeconfig = kubeconfigPathOf(values.kubeconfig, env);
  if (!kubeconfig) throw new UsageError("--sweep needs the management cluster: give --kubeconfig <file> or set KUBECONFIG");
  const minAgeMs = values["min-age"] === undefined ? undefined : parseDuration(values["min-age"]);
  if (values["min-age"] !== undefined && (minAgeMs === undefined || minAgeMs < 0)) throw new UsageError(`--min-age: '${values["min-age"]}' is not a duration (e.g. 0, 10m, 1h)`);
  return { kubeconfig, yes: values.yes, ...(values.config !== undefined ? { config: values.config } : {}), ...(minAgeMs !== undefined ? { minAgeMs } : {}) };
}

function parseStageArgs(argv: readonly string[], env: EnvMap = {}): StageArgs | { readonly sweep: StageSweepArgs } | "help" {
  const { values, positionals } = parseCommandLine({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      kubeconfig: { type: "string" },
      "tenant-kubeconfig": { type: "string" },
      output: { type: "string", multiple: true },
      "report-dir": { type: "string" },
      "keep-going": { type: "boolean", default: false },
      sweep: { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      "min-age": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const sweep = sweepArgs(values, positionals, env);
  if (sweep) return { sweep };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "which stage? give a number or all" : `one stage at a time, got ${positionals.join(" ")}`);
  }
  const which = positionals[0] as string;
  let selection: number[] | "all";
  if (which === "all") selection = "all";
  else {
    const n = Number(which);
    const info = stageCatalog.find((s) => s.number === n);
    if (!/^\d+$/.test(which) || !info) throw new UsageError(`stage '${which}' does not exist: use 1..${stageCatalog.length} or all`);
    selection = [n];
  }
  const formats = parseFormats(values.output ?? []);
  if (values["report-dir"] !== undefined && formats.length === 0) throw new UsageError("--report-dir needs --output json or junit");
  return {
    selection,
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values["tenant-kubeconfig"] !== undefined ? { tenantKubeconfig: values["tenant-kubeconfig"] } : {}),
    formats,
    reportDir: values["report-dir"] ?? "reports",
    keepGoing: values["keep-going"],
  };
}

/** The command: usage mistakes exit 2 (src/cli/command.ts), a failed check 1, a pass 0. */
export function testStageMain(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand("test:stage", testStageUsage, io.stderr, async () => {
    const args = withUsage(() => parseStageArgs(argv, io.env));
    if (args === "help") {
      io.stdout.write(`${testStageUsage}\n`);
      return 0;
    }
    if ("sweep" in args) return stageSweepMain(args.sweep, io);
    const session = await openSession(args.config, io.env);
    try {
      const clusters = await clustersFor(args, session, io);
      return await runSelected(args, session, clusters, io);
    } finally {
      session.api.close();
    }
  });
}

interface Clusters {
  readonly management?: StageInput["management"];
  readonly tenant?: StageInput["tenant"];
}

/** The clusters the selected stages need, as far as given; a stage asked for alone without its cluster is a usage error. */
async function clustersFor(args: StageArgs, session: Session, io: CliIo): Promise<Clusters> {
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  say(session.summary);
  const selected = stageCatalog.filter((s) => args.selection === "all" || args.selection.includes(s.number));
  const listed = (need: keyof StageNeeds): string => selected.filter((s) => s.needs[need]).map((s) => s.number).join(", ").replace(/, (\d+)$/, " and $1");
  const alone = args.selection === "all" ? undefined : args.selection.join(", ");
  let management: StageInput["management"];
  if (selected.some((s) => s.needs.management)) {
    const kubeconfig = kubeconfigPathOf(args.kubeconfig, io.env);
    if (!kubeconfig && alone) throw new UsageError(`stage ${alone} needs the management cluster: give --kubeconfig <file> or set KUBECONFIG`, { showUsage: true });
    management = await asUsage(() => managementInput(session.connection, kubeconfig, session.timeouts["check.tls"]));
    say(kubeconfig ? `management cluster: ${kubeconfig}` : `no management cluster (--kubeconfig or KUBECONFIG): stages ${listed("management")} are not run`);
  }
  let tenant: StageInput["tenant"];
  if (selected.some((s) => s.needs.tenant)) {
    // Loaded only when a stage needs it: stages 1 and 2 start without it.
    const { tenantInput, tenantKubeconfigPathOf } = await import("../stages/tenant/input.js");
    const path = tenantKubeconfigPathOf(args.tenantKubeconfig, io.env);
    if (!path && alone) throw new UsageError(`stage ${alone} needs a tenant cluster whose workers are Proxmox VMs: give --tenant-kubeconfig <file> or set TENANT_KUBECONFIG`, { showUsage: true });
    tenant = await asUsage(async () => tenantInput(path, io.env));
    say(path ? `tenant cluster: ${path}` : `no tenant cluster (--tenant-kubeconfig or TENANT_KUBECONFIG): stages ${listed("tenant")} are not run`);
  }
  return { ...(management ? { management } : {}), ...(tenant ? { tenant } : {}) };
}

/** A cluster that cannot be reached or read is the caller's to fix: exit 2, naming it. */
async function asUsage<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message, { cause: error });
  }
}

/** Runs the stages with progress on stderr, the table on stdout and the reports; Ctrl-C stops after the current check. */
async function runSelected(args: StageArgs, session: Session, clusters: Clusters, io: CliIo): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  const style = outputStyle(io.env, Boolean(io.stderr.isTTY));
  const progress = createProgress({ stream: io.stderr, live: style.live, color: style.color });
  const controller = new AbortController();
  const release = abortOnSignals(
    controller,
    (signal) => say(`\n${signal}: stopping after the current check (again to quit at once)`),
    () => process.exit(130),
  );
  try {
    const input = {
      config: session.config,
      api: session.api,
      configuredUrl: session.connection.configuredUrl,
      tls: session.connection.tls,
      timeouts: session.timeouts,
      signal: controller.signal,
      onEvent: progress,
      secrets: session.secrets,
      ...clusters,
    };
    const run = await runStages(args.selection, input, { keepGoing: args.keepGoing });
    progress.close();
    io.stdout.write(renderTable(run, { color: outputStyle(io.env, Boolean(io.stdout.isTTY)).color }));
    if (args.formats.length > 0) say(`reports: ${(await writeReports(run, resolve(args.reportDir), args.formats)).join(", ")}`);
    // An interrupted run never counts as passed, whatever the checks that did run say.
    if (controller.signal.aborted) say("interrupted: the run is incomplete");
    return run.ok && !controller.signal.aborted ? 0 : 1;
  } finally {
    progress.close();
    release();
  }
}
