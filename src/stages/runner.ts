/**
 * Runs a stage's checks in order: prerequisites first, each check under its own time limit
 * from the timeouts table, progress reported as events, secrets scrubbed from every text.
 */
import {
  type CheckOutcome,
  type CheckResult,
  type Figure,
  type StageResult,
  stageVerdict,
  succeeded,
} from "./model.js";
import { type TimeoutKey, type Timeouts, formatDuration } from "./timeouts.js";

/** One named check of a stage. */
export interface CheckSpec<C> {
  /** Stable id (JUnit testcase name), e.g. `api.auth`, `node.pve1.bridge`. */
  readonly id: string;
  readonly title: string;
  /** Ids of checks that must pass first; if one did not, this check is skipped with `blockedBy`. */
  readonly needs?: readonly string[];
  /** Timeouts-table entry limiting this check. @default "check.default" */
  readonly timeout?: TimeoutKey;
  run(ctx: C, signal: AbortSignal): Promise<CheckOutcome>;
}

export type RunEvent =
  | { readonly type: "stage-start"; readonly stage: number | string; readonly title: string; readonly checks: number }
  | { readonly type: "check-start"; readonly stage: number | string; readonly id: string; readonly title: string }
  | { readonly type: "check-end"; readonly stage: number | string; readonly result: CheckResult }
  | { readonly type: "stage-end"; readonly result: StageResult };

export type RunListener = (event: RunEvent) => void;

export interface RunChecksOptions {
  readonly timeouts: Timeouts;
  /** Aborting it (Ctrl-C) stops the running check; the rest are skipped as interrupted. */
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
  /** Strings that must never appear in results (token secrets). */
  readonly secrets?: readonly string[];
  /** Injectable clock for tests. @default performance.now */
  readonly now?: () => number;
}

/** Replaces every secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("***");
  return out;
}

class CheckTimeout extends Error {
  override readonly name = "CheckTimeout";
}

/** Runs `run` under a time limit; the check's signal aborts when the limit or the outer signal fires. */
async function withLimit(
  run: (signal: AbortSignal) => Promise<CheckOutcome>,
  ms: number,
  outer: AbortSignal | undefined,
): Promise<CheckOutcome> {
  const local = new AbortController();
  const timer = setTimeout(() => local.abort(new CheckTimeout(`timed out after ${formatDuration(ms)}`)), ms);
  const onOuter = (): void => local.abort(outer?.reason);
  outer?.addEventListener("abort", onOuter, { once: true });
  try {
    // The race makes a check that ignores its signal still end at the limit.
    const aborted = new Promise<never>((_, reject) => {
      local.signal.addEventListener("abort", () => reject(local.signal.reason), { once: true });
    });
    return await Promise.race([run(local.signal), aborted]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuter);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Runs the checks of one stage and returns its result. Never throws for a failing check. */
export async function runChecks<C>(
  stage: number | string,
  title: string,
  specs: readonly CheckSpec<C>[],
  ctx: C,
  options: RunChecksOptions,
): Promise<StageResult> {
  const now = options.now ?? (() => performance.now());
  const emit = options.onEvent ?? (() => undefined);
  const secrets = options.secrets ?? [];
  const startedAt = new Date().toISOString();
  const stageStart = now();
  const results: CheckResult[] = [];
  const byId = new Map<string, CheckResult>();
  assertOrdered(stage, specs);
  emit({ type: "stage-start", stage, title, checks: specs.length });

  for (const spec of specs) {
    emit({ type: "check-start", stage, id: spec.id, title: spec.title });
    const start = now();
    let outcome: CheckOutcome;
    const blocker = (spec.needs ?? []).map((id) => byId.get(id)).find((r) => r && !succeeded(r.verdict));
    if (options.signal?.aborted) {
      outcome = { verdict: "skipped", reason: "run interrupted before this check started" };
    } else if (blocker) {
      const root = blocker.blockedBy ?? blocker.id;
      outcome = {
        verdict: "skipped",
        reason: `not run: prerequisite check ${root} ${byId.get(root)?.verdict === "failed" ? "failed" : "did not pass"}`,
        blockedBy: root,
      };
    } else {
      const key = spec.timeout ?? "check.default";
      const limit = options.timeouts[key];
      try {
        outcome = await withLimit((signal) => spec.run(ctx, signal), limit, options.signal);
      } catch (error) {
        if (error instanceof CheckTimeout) {
          outcome = {
            verdict: "failed",
            reason: `the check did not finish within ${formatDuration(limit)}`,
            fix: `check that the Proxmox API answers promptly; if the cluster is just slow, raise stages.timeouts.${key} in the platform config`,
          };
        } else if (options.signal?.aborted) {
          outcome = { verdict: "skipped", reason: "run interrupted while this check was running" };
        } else {
          outcome = {
            verdict: "failed",
            reason: `the check could not complete: ${errorText(error)}`,
            fix: "fix the cause named above and rerun; if the message points at this tool rather than your system, report it with the JSON report attached",
          };
        }
      }
    }
    const result = toCheckResult(spec, outcome, now() - start, secrets);
    results.push(result);
    byId.set(spec.id, result);
    emit({ type: "check-end", stage, result });
  }

  const figures: Record<string, Figure> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.figures)) figures[`${r.id}.${k}`] = v;
  const result: StageResult = {
    stage,
    title,
    verdict: stageVerdict(results),
    checks: results,
    startedAt,
    durationMs: Math.round(now() - stageStart),
    figures,
  };
  emit({ type: "stage-end", result });
  return result;
}

/** A check may only need checks listed before it (so `needs` can never deadlock or be ignored). */
function assertOrdered<C>(stage: number | string, specs: readonly CheckSpec<C>[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.id)) throw new Error(`stage ${stage}: check id ${spec.id} is used twice`);
    for (const need of spec.needs ?? []) {
      if (!seen.has(need)) throw new Error(`stage ${stage}: check ${spec.id} needs ${need}, which is not an earlier check`);
    }
    seen.add(spec.id);
  }
}

/** The recorded form of an outcome, with secrets scrubbed (also used by the VM test's phases). */
export function toCheckResult(spec: { readonly id: string; readonly title: string }, outcome: CheckOutcome, ms: number, secrets: readonly string[] = []): CheckResult {
  const clean = (text: string | undefined): string | undefined => (text === undefined ? undefined : redact(text, secrets));
  const base = { id: spec.id, title: spec.title, verdict: outcome.verdict, durationMs: Math.round(ms) };
  switch (outcome.verdict) {
    case "passed":
      return { ...base, ...(outcome.detail ? { detail: clean(outcome.detail) } : {}), figures: outcome.figures ?? {} };
    case "warning":
      return {
        ...base,
        ...(outcome.detail ? { detail: clean(outcome.detail) } : {}),
        reason: clean(outcome.reason),
        fix: clean(outcome.fix),
        figures: outcome.figures ?? {},
      };
    case "failed":
      return { ...base, reason: clean(outcome.reason), fix: clean(outcome.fix), figures: outcome.figures ?? {} };
    case "skipped":
      return { ...base, reason: clean(outcome.reason), ...(outcome.blockedBy ? { blockedBy: outcome.blockedBy } : {}), figures: {} };
  }
}
