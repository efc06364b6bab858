/**
 * `npm run vm-test -- [--node <n>]... [--no-agent] [--config <file>] [--output json|junit] [--report-dir <dir>]`
 * `npm run vm-test -- --sweep [--yes] [--min-age <duration>] [--kubeconfig <file>] [--config <file>]`
 *
 * Exit codes: 0 every check passed (sweep: nothing failed), 1 a check failed or the run was
 * interrupted (sweep --yes: a VM could not be removed, or was refused because a Cluster API
 * Machine owns it), 2 usage or config error.
 */
import { resolve } from "node:path";
import { createProgress, formatDuration, parseDuration, renderTable, runOk, writeReports, type ReportFormat } from "../stages/index.js";
import { clientFromKubeconfig } from "../kube/index.js";
import { newRunId, ownerRemedy, runVmTest, sweep, type CapiView } from "../vmtest/index.js";
import { parseCommandLine, runCommand, withUsage } from "./command.js";
import { kubeconfigPathOf } from "./management.js";
import { UsageError, abortOnSignals, openSession, outputStyle } from "./proxmox-session.js";
import type { CliIo } from "./command.js";
import { parseFormats } from "./test-stage.js";

export const vmTestUsage = `usage: npm run vm-test -- [--node <node>]... [--no-agent] [--config <file>] [--output json|junit]... [--report-dir <dir>]
       npm run vm-test -- --sweep [--yes] [--min-age <duration>] [--kubeconfig <file>] [--config <file>]

  --node <node>     test only this allowed node (repeatable; default: every node in proxmox.allowedNodes)
  --no-agent        do not wait for the QEMU guest agent
  --output <fmt>    also write a report: json or junit
  --report-dir <d>  where reports go (default: reports)
  --sweep           list VMs that interrupted vm-test runs left behind (tagged cozy-vmtest)
  --yes             with --sweep: remove them
  --min-age <dur>   with --sweep: leave runs younger than this alone, e.g. 30m (default: 0)
  --kubeconfig <f>  with --sweep: the management cluster (default: KUBECONFIG); a VM a Cluster API Machine
                    still owns is never removed, its Cluster is named instead. Without one, every VM
                    carrying capmox's tags (capi-<cluster>-<group>, ip_net<N>_<address>) is left alone

Every VM carries the tags cozy-vmtest and cozy-run-<run id>; cleanup also runs on failure, Ctrl-C and SIGTERM.
Exit codes: 0 all checks passed, 1 a check failed or interrupted, 2 usage or config error.`;

interface VmArgs {
  readonly config?: string;
  readonly nodes: string[];
  readonly agent: boolean;
  readonly formats: ReportFormat[];
  readonly reportDir: string;
  readonly sweep: boolean;
  readonly yes: boolean;
  readonly minAgeMs: number;
  readonly kubeconfig?: string;
}

function parseVmArgs(argv: readonly string[]): VmArgs | "help" {
  const { values } = parseCommandLine({
    args: [...argv],
    strict: true,
    options: {
      config: { type: "string" },
      node: { type: "string", multiple: true },
      "no-agent": { type: "boolean", default: false },
      output: { type: "string", multiple: true },
      "report-dir": { type: "string" },
      sweep: { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      "min-age": { type: "string" },
      kubeconfig: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (!values.sweep && (values.yes || values["min-age"] !== undefined || values.kubeconfig !== undefined)) throw new UsageError("--yes, --min-age and --kubeconfig go with --sweep");
  if (values.sweep && (values.node || values["no-agent"] || values.output)) throw new UsageError("--sweep takes only --yes, --min-age, --kubeconfig and --config");
  const minAgeMs = values["min-age"] === undefined ? 0 : parseDuration(values["min-age"]);
  if (minAgeMs === undefined || minAgeMs < 0) throw new UsageError(`--min-age: '${values["min-age"]}' is not a duration (e.g. 30m, 2h)`);
  const formats = parseFormats(values.output ?? []);
  if (values["report-dir"] !== undefined && formats.length === 0) throw new UsageError("--report-dir needs --output json or junit");
  return {
    ...(values.config !== undefined ? { config: values.config } : {}),
    nodes: values.node ?? [],
    agent: !values["no-agent"],
    formats,
    reportDir: values["report-dir"] ?? "reports",
    sweep: values.sweep,
    yes: values.yes,
    minAgeMs,
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
  };
}

/** The command: usage mistakes exit 2 (src/cli/command.ts), a failed run or sweep 1, a pass 0. */
export function vmTestMain(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand("vm-test", vmTestUsage, io.stderr, async () => {
    const args = withUsage(() => parseVmArgs(argv));
    if (args === "help") {
      io.stdout.write(`${vmTestUsage}\n`);
      return 0;
    }
    const say = (line: string): void => void io.stderr.write(`${line}\n`);
    const session = await openVmSession(args, io.env);
    say(session.summary);
    try {
      return args.sweep ? await runSweep(args, session, say, kubeconfigPathOf(args.kubeconfig, io.env)) : await runTest(args, session, io, say);
    } finally {
      session.api.close();
    }
  });
}

/** The session; a --node outside proxmox.allowedNodes is a usage mistake (the session closed). */
async function openVmSession(args: VmArgs, env: CliIo["env"]): Promise<OpenSession> {
  const session = await openSession(args.config, env);
  const allowed = session.config.proxmox.allowedNodes;
  const unknown = args.nodes.filter((n) => !allowed.includes(n));
  if (unknown.length > 0) {
    session.api.close();
    throw new UsageError(`--node ${unknown.join(", ")}: not in proxmox.allowedNodes (${allowed.join(", ")})`);
  }
  return session;
}

type OpenSession = Awaited<ReturnType<typeof openSession>>;

/** Items of a kind in every namespace; none when the cluster does not serve it (then nothing of that kind can own a VM). */
async function listAll(client: ReturnType<typeof clientFromKubeconfig>, apiVersion: string, kind: string) {
  try {
    return (await client.list(apiVersion, kind)).items;
  } catch (error) {
    if (/does not serve kind/.test((error as Error).message)) return [];
    throw error;
  }
}

/** The management cluster's Machines and ProxmoxMachines; undefined (every VM with capmox's tags refused) when there is none or it cannot be read. */
async function capiView(kubeconfig: string | undefined, say: (line: string) => void): Promise<CapiView | undefined> {
  const unknown = "VMs carrying capmox's tags are left alone, as a Cluster API Machine may own them";
  if (!kubeconfig) {
    say(`no management cluster (--kubeconfig or KUBECONFIG): ${unknown}`);
    return undefined;
  }
  try {
    const client = clientFromKubeconfig(kubeconfig);
    const [machines, proxmoxMachines] = await Promise.all([
      listAll(client, "cluster.x-k8s.io/v1beta1", "Machine"),
      listAll(client, "infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxMachine"),
    ]);
    say(`management cluster ${kubeconfig}: ${machines.length} Machine(s), ${proxmoxMachines.length} ProxmoxMachine(s); VMs they own are left alone`);
    return { machines, proxmoxMachines };
  } catch (error) {
    say(`cannot read the management cluster ${kubeconfig} (${(error as Error).message}): ${unknown}`);
    return undefined;
  }
}

async function runSweep(args: VmArgs, session: OpenSession, say: (line: string) => void, kubeconfig: string | undefined): Promise<number> {
  const capi = await capiView(kubeconfig, say);
  const result = await sweep({ api: session.api, timeouts: session.timeouts, remove: args.yes, minAgeMs: args.minAgeMs, log: say, ...(capi ? { capi } : {}) });
  for (const vm of result.tooYoung) say(`left alone (run younger than ${formatDuration(args.minAgeMs)}): VM ${vm.vmid} ${vm.name} on ${vm.node}`);
  for (const { vm, owner } of result.refused) {
    say(`refused: VM ${vm.vmid} ${vm.name} on ${vm.node} belongs to Cluster ${owner.cluster}: ${owner.how}; ${ownerRemedy(owner)}`);
  }
  if (result.found.length === 0) {
    say(result.refused.length > 0 ? `nothing removed: ${result.refused.length} VM(s) belong to a Cluster (see above)` : "no leftovers of earlier vm-test runs");
    return args.yes && result.refused.length > 0 ? 1 : 0;
  }
  for (const vm of result.found) say(`${args.yes ? "" : "would remove "}VM ${vm.vmid} ${vm.name} on ${vm.node} (${vm.status}, run ${vm.runId})`);
  if (!args.yes) {
    say(`dry run: ${result.found.length} VM(s) would be removed; add --yes to remove them`);
    return 0;
  }
  for (const f of result.failed) say(`FAILED to remove VM ${f.vm.vmid}: ${f.detail}`);
  say(`removed ${result.removed.length} of ${result.found.length} VM(s)`);
  // Refused VMs are still there: a sweep asked to remove them did not finish the job.
  return result.failed.length === 0 && result.refused.length === 0 ? 0 : 1;
}

async function runTest(args: VmArgs, session: OpenSession, io: CliIo, say: (line: string) => void): Promise<number> {
  const nodes = args.nodes.length > 0 ? args.nodes : [...session.config.proxmox.allowedNodes];
  const runId = newRunId();
  const style = outputStyle(io.env, Boolean(io.stderr.isTTY));
  const progress = createProgress({ stream: io.stderr, live: style.live, color: style.color });
  const controller = new AbortController();
  const release = abortOnSignals(
    controller,
    (signal) => say(`\n${signal}: stopping; removing this run's VMs first (send it again to quit at once)`),
    (signal) => {
      say(`${signal} again: quitting without finishing cleanup; remove leftovers with: npm run vm-test -- --sweep --yes`);
      process.exit(130);
    },
  );
  say(`run ${runId} on ${nodes.join(", ")}; VMs are tagged cozy-vmtest and cozy-run-${runId}`);
  try {
    const started = new Date().toISOString();
    const stage = await runVmTest({
      api: session.api,
      config: session.config,
      nodes,
      agent: args.agent,
      runId,
      timeouts: session.timeouts,
      signal: controller.signal,
      onEvent: progress,
      log: (line) => say(`  cleanup: ${line}`),
      secrets: session.secrets,
    });
    progress.close();
    const run = { stages: [stage], ok: runOk([stage]) && !controller.signal.aborted, startedAt: started, durationMs: stage.durationMs };
    io.stdout.write(renderTable(run, { color: outputStyle(io.env, Boolean(io.stdout.isTTY)).color }));
    if (args.formats.length > 0) {
      const written = await writeReports(run, resolve(args.reportDir), args.formats, "vm-test");
      say(`reports: ${written.join(", ")}`);
    }
    return run.ok ? 0 : 1;
  } finally {
    progress.close();
    release();
  }
}
