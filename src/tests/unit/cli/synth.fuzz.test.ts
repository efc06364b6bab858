/**
 * Property test of `synth` through its CLI entry (runSynth): for any config text it exits 0,
 * or exits 1 having written nothing (no output folder, no bundle, no staging leftovers), with
 * a message that shows no planted secret and no stack trace.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSynth } from "../../../cli/synth.js";
import { fuzzBudget, fuzzTimeout } from "../../support/fuzz.js";
import { anyText, brokenAroundSecret, changedConfig, validConfig, type Planted } from "../config/fuzz-inputs.js";

let root: string;
let run = 0;
const outcomes = { written: 0, refused: 0 };
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "synth-fuzz-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function synthChecked({ text, secrets }: Planted): Promise<void> {
  const dir = join(root, String((run += 1)));
  const config = join(root, `${run}.yaml`);
  await writeFile(config, text);
  const out = join(dir, "out");
  const bundleDir = join(dir, "bundles");
  let stderr = "";
  const code = await runSynth(["--config", config, "--out", out, "--bundle", join(bundleDir, "b.yaml")], {
    cwd: root,
    stdout: () => undefined,
    stderr: (t) => (stderr += t),
  });
  try {
    expect([0, 1], stderr).toContain(code);
    expect(stderr).not.toMatch(/\n {4}at /);
    for (const secret of secrets) expect(stderr).not.toContain(secret);
    outcomes[code === 0 ? "written" : "refused"] += 1;
    if (code === 1) {
      expect(stderr).toMatch(/^synth: nothing written: /);
      expect(existsSync(dir), `${dir} written for a refused config`).toBe(false);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(config, { force: true });
  }
}

describe("synth on any config", () => {
  it(
    "writes everything, or nothing and says why without secrets",
    async () => {
      const input = fc.oneof(validConfig, changedConfig, brokenAroundSecret, anyText.map((text) => ({ text, secrets: [] })));
      await fc.assert(fc.asyncProperty(input, synthChecked), fuzzBudget(25));
      // both sides were exercised: configs that synth wrote, and ones it refused
      expect(outcomes.written).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
    },
    fuzzTimeout(60_000),
  );
});
