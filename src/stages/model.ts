/**
 * The check model shared by every stage, the runner and the reporters.
 *
 * A check ends in exactly one verdict: passed, warning (passed, but with a reduced guarantee the
 * user chose or must know about: TLS verification off, say), failed (with what is wrong and
 * what to do), or skipped (with why). A warning never fails a run, and it is never shown as a
 * plain pass: it has its own mark in every report and is counted in every summary. A check whose prerequisite check failed is reported as skipped
 * with `blockedBy` naming that check, so the failure is counted once, where it happened,
 * and the dependent check never pretends to have passed.
 */

export type Verdict = "passed" | "warning" | "failed" | "skipped";

/** A measured figure reported beside a verdict (latency, free space, phase time). */
export type Figure = number | string;

/** What a check function returns. Build it with `pass`, `fail` or `skip`. */
export type CheckOutcome =
  | {
      readonly verdict: "passed";
      /** One line on what was verified, e.g. `vmbr0 is an active bridge on pve1`. */
      readonly detail?: string;
      readonly figures?: Readonly<Record<string, Figure>>;
    }
  | {
      readonly verdict: "warning";
      /** What was verified, e.g. `connected; the server presents …`. */
      readonly detail?: string;
      /** Which guarantee is reduced, and why. */
      readonly reason: string;
      /** How to get the full guarantee back. */
      readonly fix: string;
      readonly figures?: Readonly<Record<string, Figure>>;
    }
  | {
      readonly verdict: "failed";
      /** What is wrong, in terms of the user's system. */
      readonly reason: string;
      /** What to do about it (commands where possible). */
      readonly fix: string;
      readonly figures?: Readonly<Record<string, Figure>>;
    }
  | {
      readonly verdict: "skipped";
      readonly reason: string;
      /** Id of the failed check that kept this one from running, if that is why it skipped. */
      readonly blockedBy?: string;
    };

export function pass(detail?: string, figures?: Record<string, Figure>): CheckOutcome {
  return { verdict: "passed", ...(detail ? { detail } : {}), ...(figures ? { figures } : {}) };
}

/** Passed with a reduced guarantee: `reason` says which, `fix` how to get it back. */
export function warn(reason: string, fix: string, detail?: string, figures?: Record<string, Figure>): CheckOutcome {
  return { verdict: "warning", reason, fix, ...(detail ? { detail } : {}), ...(figures ? { figures } : {}) };
}

export function fail(reason: string, fix: string, figures?: Record<string, Figure>): CheckOutcome {
  return { verdict: "failed", reason, fix, ...(figures ? { figures } : {}) };
}

export function skip(reason: string, blockedBy?: string): CheckOutcome {
  return { verdict: "skipped", reason, ...(blockedBy ? { blockedBy } : {}) };
}

/** One check as recorded in a stage result. */
export interface CheckResult {
  /** Stable id, e.g. `api.auth` or `node.pve1.bridge`. */
  readonly id: string;
  /** Human title, e.g. `API token authenticates`. */
  readonly title: string;
  readonly verdict: Verdict;
  /** Passed or warning: what was verified. */
  readonly detail?: string;
  /** Warning, failed or skipped: why. */
  readonly reason?: string;
  /** Warning or failed: what to do. */
  readonly fix?: string;
  readonly blockedBy?: string;
  readonly durationMs: number;
  readonly figures: Readonly<Record<string, Figure>>;
}

export type StageVerdict = "passed" | "failed" | "not-run";

export interface StageResult {
  readonly stage: number | string;
  readonly title: string;
  readonly verdict: StageVerdict;
  /** Why the stage did not run or is not implemented. */
  readonly reason?: string;
  readonly checks: readonly CheckResult[];
  /** ISO time the stage started; absent when it did not run. */
  readonly startedAt?: string;
  readonly durationMs: number;
  /** Figures the stage measured (latency percentiles, VM creation time, …). */
  readonly figures: Readonly<Record<string, Figure>>;
}

export interface RunResult {
  readonly stages: readonly StageResult[];
  /** True when every check of every stage that ran passed (skips and warnings allowed), no stage failed, and the run was not interrupted. */
  readonly ok: boolean;
  /** The run was interrupted (Ctrl-C): what ran is reported, and the run does not count as passed. */
  readonly interrupted?: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
}

export function stageVerdict(checks: readonly CheckResult[]): "passed" | "failed" {
  return checks.some((c) => c.verdict === "failed") ? "failed" : "passed";
}

export function runOk(stages: readonly StageResult[]): boolean {
  return stages.every((s) => s.verdict !== "failed") && stages.some((s) => s.verdict === "passed");
}

/** A verdict that lets checks needing this one run: passed, or passed with a warning. */
export function succeeded(verdict: Verdict): boolean {
  return verdict === "passed" || verdict === "warning";
}

/** Counts for summaries. */
export function tally(checks: readonly CheckResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { passed: 0, warning: 0, failed: 0, skipped: 0 };
  for (const c of checks) counts[c.verdict] += 1;
  return counts;
}
