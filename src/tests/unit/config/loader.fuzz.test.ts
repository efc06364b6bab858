/**
 * Property tests of the config loader: any YAML document either loads or is refused with
 * each problem placed (a field path, or a line and column), within a time proportional to
 * its size, and no message ever shows a secret planted in it (values under keys like
 * `secret`, `password`, `token`, and URL userinfo), however broken the YAML around it.
 * `npm test` runs a small fixed-seed budget; `npm run fuzz` a large one with a fresh seed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkConfigText, ConfigError, parseConfig, type ConfigIssue } from "../../../config/index.js";
import { fuzzBudget, fuzzTimeout } from "../../support/fuzz.js";
import { anyText, brokenAroundSecret, changedConfig, validConfig, type Planted } from "./fuzz-inputs.js";

/** Generous on purpose: catches quadratic blow-ups (seconds), not a slow machine (milliseconds). */
function timeBoundMs(text: string): number {
  return 2_000 + Buffer.byteLength(text) * 0.02;
}

/** A problem is placed when it names a field, or a line and column, or is about the document as a whole. */
function placed(i: ConfigIssue): boolean {
  return i.path !== "" || /^line \d+, column \d+: /.test(i.message) || /^the config is \d+ bytes|must be a YAML mapping|more YAML syntax errors/.test(i.message);
}

/** Loads the text; every outcome must be a config or ConfigError, in time. */
function load(text: string): { issues: readonly ConfigIssue[]; shown: string } {
  const started = performance.now();
  let issues: readonly ConfigIssue[] = [];
  let shown = "";
  try {
    parseConfig(text, "fuzz.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    issues = (error as ConfigError).issues;
    shown = `${(error as ConfigError).message}\n${JSON.stringify(issues)}`;
  }
  const elapsed = performance.now() - started;
  expect(elapsed, `took ${elapsed.toFixed(0)} ms for ${text.length} characters`).toBeLessThan(timeBoundMs(text));
  return { issues, shown };
}

function checkPlanted({ text, secrets }: Planted): void {
  const { issues, shown } = load(text);
  for (const i of issues) expect(placed(i), JSON.stringify(i)).toBe(true);
  for (const secret of secrets) expect(shown, `secret ${secret} shown`).not.toContain(secret);
}

describe("the config loader on any input", () => {
  it(
    "loads or refuses a changed config with placed problems, never showing its secrets",
    () => {
      fc.assert(fc.property(fc.oneof(validConfig, changedConfig), checkPlanted), fuzzBudget(120));
    },
    fuzzTimeout(30_000),
  );

  it(
    "never shows a secret when the YAML around it is broken",
    () => {
      fc.assert(fc.property(brokenAroundSecret, checkPlanted), fuzzBudget(120));
    },
    fuzzTimeout(30_000),
  );

  it(
    "loads or refuses any text with placed problems, in time",
    () => {
      fc.assert(
        fc.property(anyText, (text) => {
          const { issues } = load(text);
          for (const i of issues) expect(placed(i), JSON.stringify(i)).toBe(true);
          // the same answer without throwing: the check the CLI's loader builds on
          expect(checkConfigText(text).issues).toEqual(issues);
        }),
        fuzzBudget(200),
      );
    },
    fuzzTimeout(30_000),
  );
});
