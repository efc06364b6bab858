/**
 * The real `npm run synth` entry point (tsx scripts/synth.ts) as a process: exit codes, error
 * messages naming every bad field, all-or-nothing output, and strict validity of what it wrote.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { defaultConfig, parseConfig, toUserForm } from "../../../config/index.js";
import { validateObjects } from "../../../crds/index.js";
import { upstreamChartStatus } from "../../../cozystack/index.js";
import { repoRoot } from "../../../paths.js";

const tsx = join(repoRoot, "node_modules", ".bin", "tsx");

function synth(args: string[]) {
  return execa(tsx, [join(repoRoot, "scripts", "synth.ts"), ...args], { cwd: repoRoot, reject: false, env: { PROXMOX_SECRET: "" } });
}

async function listAll(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir, { recursive: true })).map(String).sort() : [];
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "synth-cli-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("npm run synth", () => {
  it("exits 1 on a config with several mistakes, names each bad field and writes nothing", async () => {
    const raw = structuredClone(toUserForm(defaultConfig())) as any;
    raw.proxmox.url = "https://pve.example.com:8006/api2/json";
    raw.proxmox.tokenId = "root@pam";
    raw.network.gateway = "10.0.0.150";
    raw.tenants[0].nodeGroups[0].memoryMiB = 3001;
    raw.tenants[0].nodeGroups[0].minReplicas = 9;
    raw.tenants[0].colour = "blue";
    const config = join(work, "bad.yaml");
    await writeFile(config, stringify(raw));
    const out = join(work, "bad-out");
    const bundle = join(work, "bad-bundles", "paas-proxmox.yaml");

    const result = await synth(["--config", config, "--out", out, "--bundle", bundle]);

    expect(result.exitCode).toBe(1);
    for (const field of [
      'proxmox.url: "https://pve.example.com:8006/api2/json"',
      'proxmox.tokenId: "root@pam"',
      'network.gateway: "10.0.0.150"',
      "tenants[0].nodeGroups[0].memoryMiB: 3001",
      "tenants[0].nodeGroups[0].minReplicas: 9",
      "tenants[0].colour",
    ]) {
      expect(result.stderr).toContain(field);
    }
    expect(result.stderr).toContain("nothing written");
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(work, "bad-bundles"))).toBe(false);
  });

  it("exits 2 on a usage error", async () => {
    const result = await synth(["--outdir", join(work, "x")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--outdir'/);
    expect(result.stderr).toContain("Usage: npm run synth");
  });

  it("prints the built-in config as commented YAML that loads back to the defaults", async () => {
    const result = await synth(["--print-default-config"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("# The Proxmox VE cluster.");
    expect(parseConfig(result.stdout)).toStrictEqual(defaultConfig());
  });

  it("writes tenants, overlay, schema and bundle; every tenant object validates strictly", async () => {
    const out = join(work, "out");
    const bundle = join(work, "bundles", "paas-proxmox.yaml");
    await mkdir(join(out, "tenants"), { recursive: true });
    await writeFile(join(out, "tenants", "stale.yaml"), "old\n");

    const result = await synth(["--out", out, "--bundle", bundle, "--check"]);

    // The only thing synth may say on stderr here: which upstream charts still need `npm run vendor`.
    const unvendored = upstreamChartStatus().filter((c) => !c.vendored).map((c) => c.chart);
    expect(result.stderr).toBe(unvendored.length ? `synth: not vendored yet (run \`npm run vendor\` on a machine with internet): ${unvendored.join(", ")}` : "");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("every tenant object validates strictly");
    expect(await readdir(join(out, "tenants"))).toEqual(["demo.yaml"]); // the stale file is gone
    const objects = (await Promise.all((await readdir(join(out, "tenants"))).map((f) => readFile(join(out, "tenants", f), "utf8"))))
      .flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as unknown));
    expect(objects).toHaveLength(7);
    expect(validateObjects(objects)).toEqual([]);
    const bundleText = await readFile(bundle, "utf8");
    expect(bundleText).toContain("releases:");
    expect(await readFile(join(out, "cozystack", "packages", "core", "platform", "bundles", "paas-proxmox.yaml"), "utf8")).toBe(bundleText);
    expect(JSON.parse(await readFile(join(out, "platform.schema.json"), "utf8")).title).toMatch(/platform description/);
    expect((await listAll(out)).filter((p) => p.includes(".synth-"))).toEqual([]);
  });

  it("leaves earlier output untouched when writing fails part-way", async () => {
    const out = join(work, "keep");
    await mkdir(join(out, "tenants"), { recursive: true });
    await writeFile(join(out, "tenants", "earlier.yaml"), "earlier\n");
    const blocker = join(work, "a-file");
    await writeFile(blocker, "not a folder\n");
    const before = await listAll(out);

    // the bundle's folder cannot be created under a file: the write fails after staging began
    const result = await synth(["--out", out, "--bundle", join(blocker, "paas-proxmox.yaml")]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("nothing written");
    expect(await listAll(out)).toEqual(before);
    expect(await readFile(join(out, "tenants", "earlier.yaml"), "utf8")).toBe("earlier\n");
  });
});
