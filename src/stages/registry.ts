/**
 * The eight validation stages in one table (number, title, what each needs besides the
 * Proxmox API, how it is loaded and run), and running a selection in order (stopping at the
 * first failed stage unless `keepGoing`). What each stage checks: the README's "Validating
 * a Proxmox cluster" and "The management environment, stages 3, 4 and 8".
 */
import { StageContext, type StageInput } from "./input.js";
import { type CheckResult, type RunResult, type StageResult, runOk } from "./model.js";
import { runChecks } from "./runner.js";
import { stage1Checks } from "./stage1/index.js";
import { stage2Checks } from "./stage2/index.js";
import { stageVerdict } from "./model.js";
import { toCheckResult } from "./runner.js";
import { tenantEnv } from "./tenant/input.js";

/** What a stage needs besides the Proxmox API. */
export interface StageNeeds {
  /** The management cluster (`--kubeconfig` or KUBECONFIG): `input.management`. */
  readonly management: boolean;
  /** A tenant cluster whose workers are Proxmox VMs (`--tenant-kubeconfig`): `input.tenant`. */
  readonly tenant: boolean;
}

export type StageNumber = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

type RunOptions = Parameters<typeof runChecks>[4];

/** What a stage's loader gets: its own row, the input, and the runner's options. */
interface StageRun {
  readonly number: StageNumber;
  readonly title: string;
  readonly input: StageInput;
  readonly ctx: StageContext;
  readonly options: RunOptions;
}

export interface StageInfo {
  readonly number: StageNumber;
  readonly title: string;
  readonly needs: StageNeeds;
  /** Loads the stage's module and runs its checks (stages 3–8 load only when they run: cdk8s-plus is among theirs). */
  readonly load: (run: StageRun) => Promise<StageResult>;
}

const proxmoxOnly: StageNeeds = { management: false, tenant: false };
const managementCluster: StageNeeds = { management: true, tenant: false };

export const stageCatalog: readonly StageInfo[] = [
  { number: 1, title: "Proxmox API connection", needs: proxmoxOnly, load: async (r) => runChecks(1, r.title, stage1Checks(), r.ctx, r.options) },
  { number: 2, title: "Network and storage", needs: proxmoxOnly, load: async (r) => runChecks(2, r.title, stage2Checks(r.input.config.proxmox.allowedNodes, { talosTemplate: r.input.config.proxmox.talosTemplate !== undefined }), r.ctx, r.options) },
  { number: 3, title: "VM management via Cluster API", needs: managementCluster, load: loadStage3 },
  { number: 4, title: "Worker integration", needs: managementCluster, load: loadStage4 },
  { number: 5, title: "CSI storage", needs: { management: false, tenant: true }, load: loadStage5 },
  { number: 6, title: "Network policies", needs: { management: false, tenant: true }, load: loadStage6 },
  // The metrics stack runs in the management cluster; the test pod in the tenant.
  { number: 7, title: "Monitoring", needs: { management: true, tenant: true }, load: loadStage7 },
  { number: 8, title: "Tenant lifecycle", needs: managementCluster, load: loadStage8 },
];

/** The row of stage `n`; a RangeError naming it when there is none. */
export function stageInfo(n: number): StageInfo {
  const info = stageCatalog.find((s) => s.number === n);
  if (!info) throw new RangeError(`stage: ${n} is not a stage (1..${stageCatalog.length})`);
  return info;
}

/** Why stage `n` cannot run with what `input` holds, or undefined when it can. */
export function notRunnableReason(n: number, input: Pick<StageInput, "management" | "tenant">): string | undefined {
  const { needs } = stageInfo(n);
  const missing: string[] = [];
  if (needs.tenant && !input.tenant) missing.push(`the tenant cluster whose workers are Proxmox VMs (--tenant-kubeconfig <file> or ${tenantEnv.kubeconfig})`);
  if (needs.management && !input.management) {
    missing.push(needs.tenant ? "the management cluster running the metrics stack (--kubeconfig <file> or KUBECONFIG)" : "the management cluster (--kubeconfig <file> or KUBECONFIG)");
  }
  return missing.length > 0 ? `not runnable here: stage ${n} needs ${missing.join(" and ")}; it does not count as passed` : undefined;
}

/**
 * Runs one stage. Bootstrap calls `runStage(1, input)` as its preflight and stops on
 * `result.verdict === "failed"` (see `failedChecks`).
 */
export function runStage(n: StageNumber, input: StageInput): Promise<StageResult> {
  const info = stageInfo(n);
  const reason = notRunnableReason(n, input);
  if (reason) return Promise.reject(new Error(reason));
  const options = {
    timeouts: input.timeouts,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
    ...(input.secrets ? { secrets: input.secrets } : {}),
  };
  return info.load({ number: n, title: info.title, input, ctx: new StageContext(input), options });
}

/** `input.management`, which the table promised to the stages that need it. */
function management(r: StageRun): NonNullable<StageInput["management"]> {
  if (!r.input.management) throw new Error(`stage ${r.number} needs input.management (the management cluster)`);
  return r.input.management;
}

function tenant(r: StageRun): NonNullable<StageInput["tenant"]> {
  if (!r.input.tenant) throw new Error(`stage ${r.number} needs input.tenant (the tenant cluster)`);
  return r.input.tenant;
}

/** Stage 3's test tenant cleanup: its VMs and ISOs, within the delete budget. */
function tenantCleanup(r: StageRun, run: { cleanup: (api: StageInput["api"], isoStorage: string, nodes: readonly string[], limitMs: number) => Promise<string[]> }) {
  const p = r.input.config.proxmox;
  return (): Promise<string[]> => run.cleanup(r.input.api, p.isoStorage, p.allowedNodes, r.input.timeouts["capi.delete"]);
}

async function loadStage3(r: StageRun): Promise<StageResult> {
  const { Stage3Run, stage3Checks } = await import("./stage3/index.js");
  const run = new Stage3Run(management(r), r.input.config);
  return withCleanup(tenantCleanup(r, run), tenantCleanupCheck, r.input, () => runChecks(3, r.title, stage3Checks(run), r.ctx, r.options));
}

async function loadStage4(r: StageRun): Promise<StageResult> {
  const { Stage3Run } = await import("./stage3/index.js");
  const { STAGE4_WORKERS, Stage4Run, stage4Checks } = await import("./stage4/index.js");
  const run = new Stage3Run(management(r), r.input.config, STAGE4_WORKERS);
  return withCleanup(tenantCleanup(r, run), tenantCleanupCheck, r.input, () => runChecks(4, r.title, stage4Checks(new Stage4Run(run)), r.ctx, r.options));
}

const tenantCleanupCheck = { id: "tenant.cleanup", title: "nothing of the test tenant is left" };

/** Stage 8, a tenant by its Kubernetes object. */
async function loadStage8(r: StageRun): Promise<StageResult> {
  const { Stage8Run, stage8Checks } = await import("./stage8/index.js");
  const run = new Stage8Run(management(r), r.input.config, r.input.tenant?.probeImage);
  const p = r.input.config.proxmox;
  const limits = { workloadMs: r.input.timeouts["workload.cleanup"], deleteMs: r.input.timeouts["capi.delete"] };
  return withCleanup(() => run.cleanup(r.input.api, p.isoStorage, p.allowedNodes, limits), tenantCleanupCheck, r.input, () => runChecks(8, r.title, stage8Checks(run), r.ctx, r.options));
}

const workloadCleanupCheck = { id: "workload.cleanup", title: "nothing of the test workloads is left" };

/** Stages 5 to 7 run test workloads in the tenant cluster; they leave nothing. */
async function loadStage5(r: StageRun): Promise<StageResult> {
  const { Stage5Run, stage5Checks } = await import("./stage5/index.js");
  const run = new Stage5Run(tenant(r));
  return withCleanup(() => run.cleanup(r.input.api, r.input.timeouts["workload.cleanup"]), workloadCleanupCheck, r.input, () => runChecks(5, r.title, stage5Checks(run), r.ctx, r.options));
}

async function loadStage6(r: StageRun): Promise<StageResult> {
  const { Stage6Run, stage6Checks } = await import("./stage6/index.js");
  const run = new Stage6Run(tenant(r));
  return withCleanup(() => run.objects.cleanup(r.input.timeouts["workload.cleanup"]), workloadCleanupCheck, r.input, () => runChecks(6, r.title, stage6Checks(run), r.ctx, r.options));
}

async function loadStage7(r: StageRun): Promise<StageResult> {
  const { Stage7Run, stage7Checks } = await import("./stage7/index.js");
  const run = new Stage7Run(tenant(r), management(r).client);
  return withCleanup(() => run.objects.cleanup(r.input.timeouts["workload.cleanup"]), workloadCleanupCheck, r.input, () => runChecks(7, r.title, stage7Checks(run), r.ctx, r.options));
}

/**
 * A stage with test objects, and their cleanup: whatever the checks did (failed, timed out,
 * interrupted), `cleanup` runs and returns what is left; anything left is a failed `check`
 * (`tenant.cleanup` for a test tenant, `workload.cleanup` for test workloads).
 */
export async function withCleanup(
  cleanup: () => Promise<string[]>,
  check: { readonly id: string; readonly title: string },
  input: Pick<StageInput, "secrets">,
  checks: () => Promise<StageResult>,
): Promise<StageResult> {
  let result: StageResult | undefined;
  try {
    result = await checks();
  } finally {
    const started = performance.now();
    const problems = await cleanup().catch((e: unknown) => [`cleanup failed: ${(e as Error).message}`]);
    if (result && problems.length > 0) {
      const failed = toCheckResult(
        check,
        { verdict: "failed", reason: problems.join("; "), fix: "remove what is named above" },
        performance.now() - started,
        input.secrets,
      );
      result = { ...result, checks: [...result.checks, failed], verdict: stageVerdict([...result.checks, failed]) };
    }
  }
  return result;
}

/** The failed checks of a stage result (what a preflight prints before refusing to go on). */
export function failedChecks(result: StageResult): CheckResult[] {
  return result.checks.filter((c) => c.verdict === "failed");
}

function placeholder(info: StageInfo, reason: string): StageResult {
  return { stage: info.number, title: info.title, verdict: "not-run", reason, checks: [], durationMs: 0, figures: {} };
}

/** Runs the selected stages in ascending order. A stage that cannot run is reported, never passed. */
export async function runStages(
  selection: readonly number[] | "all",
  input: StageInput,
  options: { readonly keepGoing?: boolean } = {},
): Promise<RunResult> {
  const wanted = selection === "all" ? stageCatalog.map((s) => s.number) : [...new Set(selection)].sort((a, b) => a - b);
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const stages: StageResult[] = [];
  let stoppedBy: number | undefined;
  for (const n of wanted) {
    const info = stageInfo(n);
    const notRunnable = notRunnableReason(n, input);
    if (stoppedBy !== undefined) {
      stages.push(placeholder(info, `not run because stage ${stoppedBy} failed (use --keep-going to run it anyway)`));
    } else if (notRunnable) {
      stages.push(placeholder(info, notRunnable));
    } else if (input.signal?.aborted) {
      stages.push(placeholder(info, "not run: the run was interrupted"));
    } else {
      const result = await runStage(info.number, input);
      stages.push(result);
      if (result.verdict === "failed" && !options.keepGoing) stoppedBy = n;
    }
  }
  const interrupted = input.signal?.aborted === true;
  return { stages, ok: runOk(stages) && !interrupted, ...(interrupted ? { interrupted } : {}), startedAt, durationMs: Math.round(performance.now() - start) };
}
