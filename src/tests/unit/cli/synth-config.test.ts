/**
 * runSynth on configs the loader refuses or that are unusual: exit 1 and nothing written for
 * a refused config, the error naming the field; and an empty tenant list written as empty
 * folders (it failed with an internal ENOENT on the staged rename).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { writeOutputs } from "../../../files/index.js";
import { runSynth } from "../../../cli/synth.js";
import { defaultConfig, toUserForm } from "../../../config/index.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "synth-config-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function synthText(text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const config = join(root, "platform.yaml");
  await writeFile(config, text);
  let stdout = "";
  let stderr = "";
  const code = await runSynth(["--config", config, "--out", join(root, "out"), "--bundle", join(root, "bundles", "b.yaml")], {
    cwd: root,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

describe("synth and the config", () => {
  it("writes a platform without tenants, with empty tenants/ and apps/ folders", async () => {
    const raw = structuredClone(toUserForm(defaultConfig())) as any;
    raw.tenants = [];
    const result = await synthText(stringify(raw));
    expect(result.stderr).not.toMatch(/ENOENT/);
    expect(result.code).toBe(0);
    expect(await readdir(join(root, "out", "tenants"))).toEqual([]);
    expect(await readdir(join(root, "out", "apps"))).toEqual([]);
    expect(existsSync(join(root, "bundles", "b.yaml"))).toBe(true);
  });

  it("refuses an alias bomb with exit 1, no stack trace and nothing written", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "f"], ["f", "g"]]) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const result = await synthText(levels.join("\n"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/synth: nothing written: .*platform\.yaml: 1 problem\n {2}[a-g]\[\d+\]: line \d+, column \d+: this alias expands/);
    expect(result.stderr).not.toMatch(/ReferenceError|\n {4}at /);
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(existsSync(join(root, "bundles"))).toBe(false);
  });
});

describe("writeOutputs", () => {
  it("swaps in a folder with no files", async () => {
    const outDir = join(root, "o");
    const written = await writeOutputs({ outDir, folders: new Map([["empty", new Map()]]), files: new Map(), external: new Map() });
    expect(written).toEqual([join(outDir, "empty")]);
    expect(await readdir(join(outDir, "empty"))).toEqual([]);
  });
});
