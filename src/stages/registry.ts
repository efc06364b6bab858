/**
 * The eight validation stages by number, which of them exist, and running a selection in
 * order (stopping at the first failed stage unless `keepGoing`).
 */
import { StageContext, type StageInput } from "./input.js";
import { type CheckResult, type RunResult, type StageResult, runOk } from "./model.js";
import { runChecks } from "./runner.js";
import { STAGE1_TITLE, stage1Checks } from "./stage1/index.js";
import { STAGE2_TITLE, stage2Checks } from "./stage2/index.js";
import { STAGE3_TITLE, Stage3Run, stage3Checks } from "./stage3/index.js";
import { STAGE4_TITLE, STAGE4_WORKERS, Stage4Run, stage4Checks } from "./stage4/index.js";
import { stageVerdict } from "./model.js";
import { toCheckResult } from "./runner.js";
import { notRunnableReason } from "./tenant/input.js";

export interface StageInfo {
  readonly number: number;
  readonly title: string;
  readonly implemented: boolean;
}

/** All stages of docs/validation-stages.md, all implemented. */
export const stageCatalog: readonly StageInfo[] = [
  { number: 1, title: STAGE1_TITLE, implemented: true },
  { number: 2, title: STAGE2_TITLE, implemented: true },
  { number: 3, title: STAGE3_TITLE, implemented: true },
  { number: 4, title: STAGE4_TITLE, implemented: true },
  { number: 5, title: "CSI storage", implemented: true },
  { number: 6, title: "Network policies", implemented: true },
  { number: 7, title: "Monitoring", implemented: true },
  { number: 8, title: "Tenant lifecycle", implemented: true },
];

export type ImplementedStage = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export function isImplemented(n: number): n is ImplementedStage {
  return stageCatalog.some((s) => s.number === n && s.implemented);
}

/**
 * Runs one implemented stage. Bootstrap calls `runStage(1, input)` as its preflight and
 * stops on `result.verdict === "failed"` (see `failedChecks`).
 */
export function runStage(n: ImplementedStage, input: StageInput): Promise<StageResult> {
  const ctx = new StageContext(input);
  const options = {
    timeouts: input.timeouts,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
    ...(input.secrets ? { secrets: input.secrets } : {}),
  };
  if (n === 1) return runChecks(1, STAGE1_TITLE, stage1Checks(), ctx, options);
  if (n === 2) return runChecks(2, STAGE2_TITLE, stage2Checks(input.config.proxmox.allowedNodes, { talosTemplate: input.config.proxmox.talosTemplate !== undefined }), ctx, options);
  if (n === 5 || n === 6 || n === 7) return runTenantStage(n, input, ctx, options);
  if (!input.management) throw new Error(`stage ${n} needs input.management (the management cluster)`);
  if (n === 8) return runLifecycleStage(input, input.management, ctx, options);
  const tenantCleanup = (run: Stage3Run) => (): Promise<string[]> => {
    const p = input.config.proxmox;
    return run.cleanup(input.api, p.isoStorage, p.allowedNodes, input.timeouts["capi.delete"]);
  };
  if (n === 3) {
    const run = new Stage3Run(input.management, input.config);
    return withCleanup(tenantCleanup(run), tenantCleanupCheck, input, () => runChecks(3, STAGE3_TITLE, stage3Checks(run), ctx, options));
  }
  const run = new Stage3Run(input.management, input.config, STAGE4_WORKERS);
  return withCleanup(tenantCleanup(run), tenantCleanupCheck, input, () => runChecks(4, STAGE4_TITLE, stage4Checks(new Stage4Run(run)), ctx, options));
}

const tenantCleanupCheck = { id: "tenant.cleanup", title: "nothing of the test tenant is left" };

/**
 * Stage 8, a tenant by its Kubernetes object. Its module (stage 5's workload, cdk8s-plus
 * among it) loads only when it runs.
 */
async function runLifecycleStage(input: StageInput, management: NonNullable<StageInput["management"]>, ctx: StageContext, options: Parameters<typeof runChecks>[4]): Promise<StageResult> {
  const { Stage8Run, stage8Checks } = await import("./stage8/index.js");
  const title = stageCatalog.find((s) => s.number === 8)?.title ?? "stage 8";
  const run = new Stage8Run(management, input.config, input.tenant?.probeImage);
  const p = input.config.proxmox;
  const limits = { workloadMs: input.timeouts["workload.cleanup"], deleteMs: input.timeouts["capi.delete"] };
  return withCleanup(() => run.cleanup(input.api, p.isoStorage, p.allowedNodes, limits), tenantCleanupCheck, input, () => runChecks(8, title, stage8Checks(run), ctx, options));
}
const workloadCleanupCheck = { id: "workload.cleanup", title: "nothing of the test workloads is left" };

/**
 * Stages 5 to 7, in the tenant cluster. Their modules (cdk8s-plus among them) load only when
 * one of them runs.
 */
async function runTenantStage(n: 5 | 6 | 7, input: StageInput, ctx: StageContext, options: Parameters<typeof runChecks>[4]): Promise<StageResult> {
  const reason = notRunnableReason(n, Boolean(input.tenant), Boolean(input.management));
  if (reason || !input.tenant) throw new Error(reason ?? `stage ${n} needs input.tenant`);
  const tenant = input.tenant;
  const limit = input.timeouts["workload.cleanup"];
  const title = stageCatalog.find((s) => s.number === n)?.title ?? `stage ${n}`;
  if (n === 5) {
    const { Stage5Run, stage5Checks } = await import("./stage5/index.js");
    const run = new Stage5Run(tenant);
    return withCleanup(() => run.cleanup(input.api, limit), workloadCleanupCheck, input, () => runChecks(5, title, stage5Checks(run), ctx, options));
  }
  if (n === 6) {
    const { Stage6Run, stage6Checks } = await import("./stage6/index.js");
    const run = new Stage6Run(tenant);
    return withCleanup(() => run.objects.cleanup(limit), workloadCleanupCheck, input, () => runChecks(6, title, stage6Checks(run), ctx, options));
  }
  const { Stage7Run, stage7Checks } = await import("./stage7/index.js");
  const run = new Stage7Run(tenant, input.management!.client);
  return withCleanup(() => run.objects.cleanup(limit), workloadCleanupCheck, input, () => runChecks(7, title, stage7Checks(run), ctx, options));
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

function placeholder(info: StageInfo, verdict: "not-implemented" | "not-run", reason: string): StageResult {
  return { stage: info.number, title: info.title, verdict, reason, checks: [], durationMs: 0, figures: {} };
}

/** Runs the selected stages in ascending order. Unimplemented stages are reported, never passed. */
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
    const info = stageCatalog.find((s) => s.number === n);
    if (!info) throw new RangeError(`stage: ${n} is not a stage (1..${stageCatalog.length})`);
    if (!info.implemented) {
      stages.push(placeholder(info, "not-implemented", `stage ${n} (${info.title}) is not implemented yet: it was not run and does not count as passed`));
    } else if (stoppedBy !== undefined) {
      stages.push(placeholder(info, "not-run", `not run because stage ${stoppedBy} failed (use --keep-going to run it anyway)`));
    } else if (n >= 5 && n <= 7 && notRunnableReason(n, Boolean(input.tenant), Boolean(input.management))) {
      stages.push(placeholder(info, "not-run", notRunnableReason(n, Boolean(input.tenant), Boolean(input.management)) as string));
    } else if ((n === 3 || n === 4 || n === 8) && !input.management) {
      stages.push(placeholder(info, "not-run", `not run: stage ${n} needs the management cluster (--kubeconfig or KUBECONFIG); it does not count as passed`));
    } else if (input.signal?.aborted) {
      stages.push(placeholder(info, "not-run", "not run: the run was interrupted"));
    } else {
      const result = await runStage(n as ImplementedStage, input);
      stages.push(result);
      if (result.verdict === "failed" && !options.keepGoing) stoppedBy = n;
    }
  }
  const interrupted = input.signal?.aborted === true;
  return { stages, ok: runOk(stages) && !interrupted, ...(interrupted ? { interrupted } : {}), startedAt, durationMs: Math.round(performance.now() - start) };
}
