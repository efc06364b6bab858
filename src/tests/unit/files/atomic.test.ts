import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replaceFolderSync, writeFileAtomic, writeFileAtomicSync } from "../../../files/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writing a file whole or not at all", () => {
  it("creates parent folders, sets the mode asked for, and leaves no temp file", async () => {
    const path = join(dir, "a", "b", "kubeconfig");
    writeFileAtomicSync(path, "one", { mode: 0o600 });
    expect(readFileSync(path, "utf8")).toBe("one");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, "two", { mode: 0o644 });
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(dir, "a", "b"))).toEqual(["kubeconfig"]);
  });

  it("keeps the old file and names the path when the write fails, with the cause", async () => {
    const path = join(dir, "target");
    mkdirSync(path); // a folder where the file should go: the rename fails
    writeFileSync(join(path, "kept"), "x");
    const error = await writeFileAtomic(path, "new").catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`cannot write ${path}`);
    expect((error as Error).cause).toBeDefined();
    expect(() => writeFileAtomicSync(path, "new")).toThrow(`cannot write ${path}`);
    expect(readdirSync(dir)).toEqual(["target"]);
    expect(readdirSync(path)).toEqual(["kept"]);
  });
});

describe("replacing a folder", () => {
  it("swaps a staged folder in, removing the old one, and creates a missing target", () => {
    const target = join(dir, "out", "reference");
    const first = join(dir, "stage1");
    mkdirSync(first);
    writeFileSync(join(first, "old.txt"), "old");
    replaceFolderSync(first, target);
    const second = join(dir, "stage2");
    mkdirSync(second);
    writeFileSync(join(second, "new.txt"), "new");
    replaceFolderSync(second, target);
    expect(readdirSync(target)).toEqual(["new.txt"]);
    expect(readdirSync(join(dir, "out"))).toEqual(["reference"]);
    expect(readdirSync(dir).sort()).toEqual(["out"]);
  });

  it("puts the old folder back when the staged one cannot be moved in", () => {
    const target = join(dir, "reference");
    mkdirSync(target);
    writeFileSync(join(target, "old.txt"), "old");
    expect(() => replaceFolderSync(join(dir, "missing"), target)).toThrow(`cannot put ${join(dir, "missing")} in place of ${target}`);
    expect(readdirSync(target)).toEqual(["old.txt"]);
    expect(readdirSync(dir)).toEqual(["reference"]);
  });
});
