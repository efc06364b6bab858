/**
 * `npm run fuzz`: the property-based and fuzz tests (`*.fuzz.test.ts`) with a bigger budget
 * than `npm test` gives them and a fresh seed, printed so a failure can be replayed:
 *   FUZZ_SEED=<seed> FUZZ_SCALE=<scale> npm run fuzz
 */
import { execa } from "execa";

const scale = process.env["FUZZ_SCALE"] ?? "50";
const seed = process.env["FUZZ_SEED"] ?? String(Math.floor(Math.random() * 2 ** 31));
process.stdout.write(`fuzz: FUZZ_SEED=${seed} FUZZ_SCALE=${scale}\n`);
const run = await execa("npx", ["vitest", "run", "--project", "unit", "--project", "integration", "fuzz", ...process.argv.slice(2)], {
  stdio: "inherit",
  reject: false,
  env: { FUZZ_SEED: seed, FUZZ_SCALE: scale },
  // generous per-test timeouts: the budget is scaled, the tests' own bounds are per input
  timeout: 0,
});
process.exitCode = run.exitCode ?? 1;
