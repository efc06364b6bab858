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

export interface StageInfo {
  readonly number: number;
  readonly title: string;
  readonly implemented: boolean;
}

/** All stages of docs/validation-stages.md; 1 to 4 are implemented so far. */
export const stageCatalog: readonly StageInfo[] = [
  { number: 1, title: STAGE1_TITLE, implemented: true },
  { number: 2, title: STAGE2_TITLE, implemented: true },
  { number: 3, title: STAGE3_TITLE, implemented: true },
  { number: 4, title: STAGE4_TITLE, implemented: true },
  { number: 5, title: "CSI storage", implemented: false },
  { number: 6, title: "Network policies", implemented: false },
  { number: 7, title: "Monitoring", implemented: false },
  { number: 8, title: "End to end", implemented: false },
];

export type ImplementedStage = 1 | 2 | 3 | 4;

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
  if (n === 2) return runChecks(2, STAGE2_TITLE, stage2Checks(input.config.proxmox.allowedNodes), ctx, options);
  if (!input.management) throw new Error(`stage ${n} needs input.management (the management cluster)`);
  if (n === 3) {
    const run = new Stage3Run(input.management, input.config);
    return withCleanup(run, input, () => runChecks(3, STAGE3_TITLE, stage3Checks(run), ctx, options));
  }
  const run = new Stage3Run(input.management, input.config, STAGE4_WORKERS);
  return withCleanup(run, input, () => runChecks(4, STAGE4_TITLE, stage4Checks(new Stage4Run(run)), ctx, options));
}

/**
 * A stage with a test tenant, and its cleanup: whatever the checks did (failed, timed out,
 * interrupted), the tenant is deleted and its VMs awaited; anything left is a failed
 * `tenant.cleanup`.
 */
async function withCleanup(run: Stage3Run, input: StageInput, checks: () => Promise<StageResult>): Promise<StageResult> {
  let result: StageResult | undefined;
  try {
    result = await checks();
  } finally {
    const started = performance.now();
    const p = input.config.proxmox;
    const problems = await run.cleanup(input.api, p.isoStorage, p.allowedNodes, input.timeouts["capi.delete"]).catch((e: unknown) => [`cleanup failed: ${(e as Error).message}`]);
    if (result && problems.length > 0) {
      const check = toCheckResult(
        { id: "tenant.cleanup", title: "nothing of the test tenant is left" },
        { verdict: "failed", reason: problems.join("; "), fix: "remove what is named above" },
        performance.now() - started,
        input.secrets,
      );
      result = { ...result, checks: [...result.checks, check], verdict: stageVerdict([...result.checks, check]) };
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
    } else if (n >= 3 && !input.management) {
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
