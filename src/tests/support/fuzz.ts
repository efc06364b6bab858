/**
 * The budget of property-based and fuzz tests. `npm test` runs them with a fixed seed and a
 * small number of runs, so CI is repeatable; `npm run fuzz` raises the runs and picks a fresh
 * seed (printed, so a failure can be replayed with FUZZ_SEED).
 */
export interface FuzzBudget {
  /** fast-check seed. @default 20261203 (FUZZ_SEED overrides) */
  readonly seed: number;
  /** runs per property. @default the test's own small number, times FUZZ_SCALE */
  readonly numRuns: number;
}

const DEFAULT_SEED = 20261203;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

/** The budget for one property: `small` runs in `npm test`, scaled up by FUZZ_SCALE under `npm run fuzz`. */
export function fuzzBudget(small: number): FuzzBudget {
  const scale = envNumber("FUZZ_SCALE") ?? 1;
  return { seed: envNumber("FUZZ_SEED") ?? DEFAULT_SEED, numRuns: Math.max(1, Math.round(small * scale)) };
}

/** A test timeout that grows with FUZZ_SCALE, so `npm run fuzz` is bounded by its budget, not by vitest. */
export function fuzzTimeout(baseMs: number): number {
  return baseMs * (envNumber("FUZZ_SCALE") ?? 1);
}
