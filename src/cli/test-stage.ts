/**
 * `npm run test:stage -- <N|all> [--config <file>] [--output json|junit] [--report-dir <dir>] [--keep-going]`
 *
 * Exit codes: 0 every check passed, 1 a check failed, 2 usage or config error.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { EnvMap } from "../proxmox/index.js";
import {
  type ReportFormat,
  createProgress,
  renderTable,
  runStages,
  stageCatalog,
  writeReports,
} from "../stages/index.js";
import { UsageError, abortOnSignals, openSession, outputStyle } from "./proxmox-session.js";
import { kubeconfigPathOf, managementInput } from "./management.js";

export const testStageUsage = `usage: npm run test:stage -- <N|all> [--config <file>] [--kubeconfig <file>] [--tenant-kubeconfig <file>] [--output json|junit]... [--report-dir <dir>] [--keep-going]

  <N|all>           stage number (${stageCatalog.map((s) => s.number).join(", ")}) or all
  --config <file>   platform.yaml (default: the built-in config, which matches \`npm run lab\`)
  --kubeconfig <f>  the management cluster for stages 3, 4, 7 and 8 (default: KUBECONFIG)
  --tenant-kubeconfig <f>
                    a tenant cluster whose workers are Proxmox VMs, for stages 5 to 7 (default: TENANT_KUBECONFIG)
  --output <fmt>    also write a report: json or junit (repeat or comma-separate for both)
  --report-dir <d>  where reports go (default: reports)
  --keep-going      with all: run later stages after a failed one

Connection overrides: PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET, PROXMOX_CA_FILE, PROXMOX_FINGERPRINT, PROXMOX_INSECURE.
Stages 5-7: TENANT_STORAGE_CLASS (default proxmox-csi), MONITORING_NAMESPACE (default tenant-root), PROBE_IMAGE (default busybox:1.36).
Exit codes: 0 all checks passed, 1 a check failed, 2 usage or config error.`;

export interface CliIo {
  readonly env: EnvMap;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

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

function parseStageArgs(argv: readonly string[]): StageArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({
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
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
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

export async function testStageMain(argv: readonly string[], io: CliIo): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  let args: StageArgs | "help";
  try {
    args = parseStageArgs(argv);
  } catch (error) {
    say(`test:stage: ${(error as Error).message}\n${testStageUsage}`);
    return 2;
  }
  if (args === "help") {
    io.stdout.write(`${testStageUsage}\n`);
    return 0;
  }
  let session;
  try {
    session = await openSession(args.config, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      say(`test:stage: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const style = outputStyle(io.env, Boolean(io.stderr.isTTY));
  const progress = createProgress({ stream: io.stderr, live: style.live, color: style.color });
  const controller = new AbortController();
  const release = abortOnSignals(
    controller,
    (signal) => say(`\n${signal}: stopping after the current check (again to quit at once)`),
    () => process.exit(130),
  );
  say(session.summary);
  const selected = stageCatalog.filter((s) => args.selection === "all" || args.selection.includes(s.number));
  const needsManagement = selected.some((s) => s.needs.management);
  const needsTenant = selected.some((s) => s.needs.tenant);
  const kubeconfig = needsManagement ? kubeconfigPathOf(args.kubeconfig, io.env) : undefined;
  let management;
  try {
    management = await managementInput(session.connection, kubeconfig, session.timeouts["check.tls"]);
  } catch (error) {
    say(`test:stage: ${(error as Error).message}`);
    session.api.close();
    return 2;
  }
  if (needsManagement && !kubeconfig && args.selection !== "all") {
    say(`test:stage: stage ${args.selection.join(", ")} needs the management cluster: give --kubeconfig <file> or set KUBECONFIG\n${testStageUsage}`);
    session.api.close();
    return 2;
  }
  const listed = (stages: readonly { number: number }[]): string => stages.map((s) => s.number).join(", ").replace(/, (\d+)$/, " and $1");
  if (needsManagement) say(kubeconfig ? `management cluster: ${kubeconfig}` : `no management cluster (--kubeconfig or KUBECONFIG): stages ${listed(selected.filter((s) => s.needs.management))} are not run`);
  let tenant;
  if (needsTenant) {
    // Loaded only when a stage needs it: stages 1 and 2 start without it.
    const { tenantInput, tenantKubeconfigPathOf } = await import("../stages/tenant/input.js");
    const path = tenantKubeconfigPathOf(args.tenantKubeconfig, io.env);
    if (!path && args.selection !== "all") {
      say(`test:stage: stage ${args.selection.join(", ")} needs a tenant cluster whose workers are Proxmox VMs: give --tenant-kubeconfig <file> or set TENANT_KUBECONFIG\n${testStageUsage}`);
      session.api.close();
      return 2;
    }
    try {
      tenant = tenantInput(path, io.env);
    } catch (error) {
      say(`test:stage: ${(error as Error).message}`);
      session.api.close();
      return 2;
    }
    say(path ? `tenant cluster: ${path}` : `no tenant cluster (--tenant-kubeconfig or TENANT_KUBECONFIG): stages ${listed(selected.filter((s) => s.needs.tenant))} are not run`);
  }
  try {
    const run = await runStages(
      args.selection,
      {
        config: session.config,
        api: session.api,
        configuredUrl: session.connection.configuredUrl,
        tls: session.connection.tls,
        timeouts: session.timeouts,
        signal: controller.signal,
        onEvent: progress,
        secrets: session.secrets,
        ...(management ? { management } : {}),
        ...(tenant ? { tenant } : {}),
      },
      { keepGoing: args.keepGoing },
    );
    progress.close();
    io.stdout.write(renderTable(run, { color: outputStyle(io.env, Boolean(io.stdout.isTTY)).color }));
    if (args.formats.length > 0) {
      const dir = resolve(args.reportDir);
      const written = await writeReports(run, dir, args.formats);
      say(`reports: ${written.join(", ")}`);
    }
    // An interrupted run never counts as passed, whatever the checks that did run say.
    if (controller.signal.aborted) say("interrupted: the run is incomplete");
    return run.ok && !controller.signal.aborted ? 0 : 1;
  } finally {
    progress.close();
    release();
    session.api.close();
  }
}
