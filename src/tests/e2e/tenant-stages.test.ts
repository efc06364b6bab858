/**
 * Opt-in: stages 5 (CSI), 6 (network) and 7 (monitoring) against a REAL CozyStack-on-Proxmox
 * installation, through the command a person runs. Enabled only when E2E_TENANT=1 and
 * PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET and TENANT_KUBECONFIG (a tenant cluster whose
 * workers are Proxmox VMs) are set; stage 7 also needs KUBECONFIG (the management cluster
 * with the metrics stack). E2E_CONFIG names the platform config (region, storages) of that
 * installation; TENANT_STORAGE_CLASS, MONITORING_NAMESPACE and PROBE_IMAGE are passed on.
 * Afterwards no namespace of a stage run may be left in the tenant cluster.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFromKubeconfig } from "../../kube/index.js";
import { repoRoot } from "../../paths.js";
import { runLabel } from "../../stages/workloads/index.js";
import { parseJunit } from "../support/junit.js";

const env = process.env;
const enabled = env["E2E_TENANT"] === "1" && Boolean(env["PROXMOX_URL"] && env["PROXMOX_TOKEN"] && env["PROXMOX_SECRET"] && env["TENANT_KUBECONFIG"]);
const configArgs = env["E2E_CONFIG"] ? ["--config", env["E2E_CONFIG"]] : [];
const passOn = ["PROXMOX_URL", "PROXMOX_TOKEN", "PROXMOX_SECRET", "PROXMOX_CA_FILE", "PROXMOX_FINGERPRINT", "PROXMOX_INSECURE", "TENANT_KUBECONFIG", "KUBECONFIG", "TENANT_STORAGE_CLASS", "MONITORING_NAMESPACE", "PROBE_IMAGE", "PATH", "HOME"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-tenant-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stage(n: number) {
  const childEnv: Record<string, string> = { CI: "true", NO_COLOR: "1" };
  for (const key of passOn) if (env[key]) childEnv[key] = env[key] as string;
  return execa(process.execPath, ["--import", "tsx", "scripts/test-stage.ts", String(n), ...configArgs, "--output", "junit", "--report-dir", join(dir, String(n))], {
    cwd: repoRoot,
    reject: false,
    extendEnv: false,
    env: childEnv,
    timeout: 30 * 60_000,
  });
}

async function failures(n: number): Promise<string[]> {
  const report = parseJunit(await readFile(join(dir, String(n), "stages.junit.xml"), "utf8"));
  return report.suites.flatMap((s) => s.cases.filter((c) => c.failure).map((c) => `${c.name}: ${c.failure!.message}`));
}

async function leftovers(): Promise<string[]> {
  const client = clientFromKubeconfig(env["TENANT_KUBECONFIG"] as string);
  return (await client.list("v1", "Namespace", { labelSelector: runLabel })).items.map((n) => n.metadata.name);
}

describe.skipIf(!enabled)("a real CozyStack-on-Proxmox tenant (E2E_TENANT=1)", () => {
  it("stage 5: CSI storage passes, every check green, nothing left", async () => {
    const result = await stage(5);
    expect(await failures(5)).toEqual([]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  it("stage 6: network policies and the LoadBalancer pass, nothing left", async () => {
    const result = await stage(6);
    expect(await failures(6)).toEqual([]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  it.skipIf(!env["KUBECONFIG"])("stage 7: monitoring passes (needs KUBECONFIG, the management cluster), nothing left", async () => {
    const result = await stage(7);
    expect(await failures(7)).toEqual([]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
  });
});

if (!enabled) {
  describe("a real CozyStack-on-Proxmox tenant", () => {
    it.skip("is opt-in: set E2E_TENANT=1, PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET and TENANT_KUBECONFIG (KUBECONFIG for stage 7)", () => undefined);
  });
}
