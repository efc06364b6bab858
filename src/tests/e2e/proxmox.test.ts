/**
 * Opt-in: stages 1 and 2 and the VM-creation test against a REAL Proxmox VE, through the
 * same commands a person runs. Enabled only when E2E_PROXMOX=1 and PROXMOX_URL,
 * PROXMOX_TOKEN and PROXMOX_SECRET are set (TLS: PROXMOX_CA_FILE, PROXMOX_FINGERPRINT or
 * PROXMOX_INSECURE=true). E2E_CONFIG names the platform config (template, nodes, storages,
 * network) of that cluster; E2E_NODE limits the VM test to one node.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../paths.js";
import { parseJunit } from "../support/junit.js";

const env = process.env;
const enabled = env["E2E_PROXMOX"] === "1" && Boolean(env["PROXMOX_URL"] && env["PROXMOX_TOKEN"] && env["PROXMOX_SECRET"]);
const configArgs = env["E2E_CONFIG"] ? ["--config", env["E2E_CONFIG"]] : [];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-proxmox-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(script: string, args: string[]) {
  return execa(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: repoRoot,
    reject: false,
    env: { CI: "true", NO_COLOR: "1" },
    timeout: 15 * 60_000,
  });
}

describe.skipIf(!enabled)("a real Proxmox VE (E2E_PROXMOX=1)", () => {
  it("passes stages 1 and 2, every check green", async () => {
    const result = await run("scripts/test-stage.ts", ["all", ...configArgs, "--output", "junit", "--report-dir", dir]);
    const report = parseJunit(await readFile(join(dir, "stages.junit.xml"), "utf8"));
    const failed = report.suites.flatMap((s) => s.cases.filter((c) => c.failure).map((c) => `${c.name}: ${c.failure!.message}`));
    expect(failed).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it("creates, checks and destroys a VM, leaving nothing behind", async () => {
    const node = env["E2E_NODE"] ? ["--node", env["E2E_NODE"]] : [];
    const result = await run("scripts/vm-test.ts", [...configArgs, ...node, "--output", "junit", "--report-dir", dir]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const sweep = await run("scripts/vm-test.ts", [...configArgs, "--sweep"]);
    expect(sweep.exitCode).toBe(0);
    expect(sweep.stderr).toContain("no leftovers of earlier vm-test runs");
  });
});

if (!enabled) {
  describe("a real Proxmox VE", () => {
    it.skip("is opt-in: set E2E_PROXMOX=1 and PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET", () => undefined);
  });
}
