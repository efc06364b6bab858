import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeOutputs, type OutputPlan } from "../../../files/index.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "atomic-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function plan(outDir: string, external: string): OutputPlan {
  return {
    outDir,
    folders: new Map([["tenants", new Map([["a.yaml", "new a\n"], ["sub/b.yaml", "new b\n"]])]]),
    files: new Map([["schema.json", "{}\n"]]),
    external: new Map([[external, "bundle\n"]]),
  };
}

describe("writeOutputs", () => {
  it("replaces managed folders whole and writes every file", async () => {
    const out = join(root, "out");
    await mkdir(join(out, "tenants"), { recursive: true });
    await writeFile(join(out, "tenants", "stale.yaml"), "stale\n");
    await writeFile(join(out, "unmanaged.txt"), "mine\n");
    const written = await writeOutputs(plan(out, join(root, "bundles", "b.yaml")));
    expect(written).toHaveLength(3);
    expect((await readdir(join(out, "tenants"), { recursive: true })).sort()).toEqual(["a.yaml", "sub", "sub/b.yaml"]);
    expect(await readFile(join(out, "unmanaged.txt"), "utf8")).toBe("mine\n");
    expect(await readFile(join(root, "bundles", "b.yaml"), "utf8")).toBe("bundle\n");
    expect((await readdir(out)).sort()).toEqual(["schema.json", "tenants", "unmanaged.txt"]);
  });

  it("puts back what it had already swapped when a later rename fails", async () => {
    const out = join(root, "out");
    await mkdir(join(out, "tenants"), { recursive: true });
    await writeFile(join(out, "tenants", "old.yaml"), "old\n");
    await writeFile(join(out, "schema.json"), "old schema\n");
    // a non-empty folder where the bundle file should go: the last rename fails
    const external = join(root, "blocked");
    await mkdir(join(external, "inside"), { recursive: true });

    await expect(writeOutputs(plan(out, external))).rejects.toThrow();

    expect(await readdir(join(out, "tenants"))).toEqual(["old.yaml"]);
    expect(await readFile(join(out, "schema.json"), "utf8")).toBe("old schema\n");
    expect((await readdir(out)).sort()).toEqual(["schema.json", "tenants"]);
    expect((await readdir(root)).sort()).toEqual(["blocked", "out"]);
  });

  it("removes the folders it created when it fails", async () => {
    const blocker = join(root, "file");
    await writeFile(blocker, "x");
    await expect(writeOutputs(plan(join(root, "new", "out"), join(blocker, "b.yaml")))).rejects.toThrow();
    expect(existsSync(join(root, "new"))).toBe(false);
    expect(await readFile(blocker, "utf8")).toBe("x");
  });
});
