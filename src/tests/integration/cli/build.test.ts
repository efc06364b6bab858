/**
 * The compiled CLI that every `npm run <x>` starts (build/, see scripts/build.mjs): it runs
 * from build/ yet resolves the repository exactly as the TypeScript sources do. Each child
 * starts through the build freshness check, so a stale build/ is recompiled first.
 */
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../paths.js";

const compiled = (args: string[]) => execa(process.execPath, ["--import", "./scripts/build.mjs", ...args], { cwd: repoRoot, reject: false, stripFinalNewline: false });

describe("the compiled CLI in build/", () => {
  it("finds the repository root from build/src/paths.js, not build/", async () => {
    const run = await compiled(["--input-type=module", "-e", 'const { repoRoot } = await import("./build/src/paths.js"); console.log(repoRoot);']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(repoRoot);
  });

  it("runs synth's entry point and prints the same built-in config as the sources", async () => {
    const run = await compiled(["build/scripts/synth.js", "--print-default-config"]);
    expect(run.exitCode).toBe(0);
    const { printConfig } = await import("../../../config/index.js");
    expect(run.stdout).toBe(printConfig());
  });

  it("exits 2 on a usage error, as the sources do", async () => {
    const run = await compiled(["build/scripts/synth.js", "--bogus"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("Unknown option '--bogus'");
  });
});
