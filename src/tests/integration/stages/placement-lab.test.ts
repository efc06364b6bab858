/**
 * Stage 2's placement preflight against the lab: the default tenant fits (spread as capmox
 * spreads it); a tenant whose worst case does not fit is reported with the numbers before any
 * VM is cloned; a VMID range taken by another guest and a full disk storage are named.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultNodeGroup, type PlatformConfig } from "../../../config/index.js";
import { defaultScenario, startLab, type LabHandle } from "../../../lab/index.js";
import { runStage } from "../../../stages/index.js";
import { labClient, labConfig, stageInput } from "./lab-setup.js";

let lab: LabHandle | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

async function placement(config: (lab: LabHandle) => PlatformConfig, scenario = defaultScenario()) {
  lab = await startLab({ scenario });
  const api = labClient(lab);
  try {
    const result = await runStage(2, stageInput(lab, config(lab), api));
    return { check: result.checks.find((c) => c.id === "tenants.placement")!, vms: lab.state.vms.size };
  } finally {
    api.close();
  }
}

describe("stage 2: tenants.placement against the lab", () => {
  it("the default tenant's worst case (2 + 1 surge) fits, one machine per node", async () => {
    const { check } = await placement((l) => labConfig(l));
    expect(check.verdict).toBe("passed");
    expect(check.detail).toBe("tenant demo: worst case 3 machines (workers 2+1): 12288 MiB, 6 vCPUs, 60 GiB fits (pve1 1, pve2 1, pve3 1)");
    expect(check.figures).toMatchObject({ "demo.machines": 3, "demo.memoryMiB": 12288 });
  });

  it("reports a tenant that does not fit with needed and free memory per node, before any clone", async () => {
    const scenario = { ...defaultScenario(), nodes: defaultScenario().nodes.map((n) => ({ ...n, memoryMiB: 32768 })) };
    const { check, vms } = await placement((l) => {
      const c = labConfig(l);
      return { ...c, tenants: [{ ...c.tenants[0]!, nodeGroups: [{ ...defaultNodeGroup("big"), replicas: 3, minReplicas: 3, maxReplicas: 6, memoryMiB: 16384 }] }] };
    }, scenario);
    expect(check.verdict).toBe("failed");
    expect(check.reason).toBe(
      "tenant demo, worst case 7 machines (big 6+1): 114688 MiB, 14 vCPUs, 140 GiB: 1 of group big's machines (16384 MiB each) fit on no allowed node: " +
        "the most left is 0 MiB on pve1 (reservable = total × 100% − the maxmem of other guests; before: pve1 32768 MiB, pve2 32768 MiB, pve3 32768 MiB)",
    );
    expect(vms).toBe(1); // only the template: nothing was cloned
  });

  it("warns when tenants fit one by one but not all at their worst case at once", async () => {
    const scenario = { ...defaultScenario(), nodes: defaultScenario().nodes.map((n) => ({ ...n, memoryMiB: 32768 })) };
    const { check } = await placement((l) => {
      const c = labConfig(l);
      const tenant = (name: string, memoryMiB: number) => ({ ...c.tenants[0]!, name, nodeGroups: [{ ...defaultNodeGroup("workers"), replicas: 2, minReplicas: 2, maxReplicas: 2, memoryMiB }] });
      return { ...c, tenants: [tenant("alpha", 16384), tenant("beta", 20480)] };
    }, scenario);
    expect(check.verdict).toBe("warning");
    expect(check.detail).toContain("tenant alpha: worst case 3 machines (workers 2+1): 49152 MiB");
    expect(check.detail).toContain("tenant beta: worst case 3 machines (workers 2+1): 61440 MiB");
    expect(check.reason).toBe(
      "each tenant fits alone, but not all at their worst case at once (110592 MiB in all): 3 of beta/workers's machines (20480 MiB each) would fit on no allowed node " +
        "(before: pve1 32768 MiB, pve2 32768 MiB, pve3 32768 MiB)",
    );
  });

  it("names a VMID range other guests hold and a disk storage too small for the full clones", async () => {
    const scenario = defaultScenario();
    const shrunk = { ...scenario, storages: scenario.storages.map((s) => (s.id === "ceph-vm" ? { ...s, totalGiB: 50 } : s)) };
    const { check } = await placement((l) => {
      const c = labConfig(l);
      return { ...c, tenants: [{ ...c.tenants[0]!, proxmox: { vmIdRange: { start: 8999, end: 9001 } } }] };
    }, shrunk);
    expect(check.verdict).toBe("failed");
    expect(check.reason).toContain("storage ceph-vm needs 60 GiB for 3 full clones, has 34 GiB free");
    expect(check.reason).toContain("VMID range 8999-9001 has 2 free VMIDs, 3 needed (taken by other guests: 9000)");
  });
});

describe("synth --check: the placement preflight when Proxmox answers", () => {
  it("says what fits, refuses a tenant that does not (nothing written), warns when tenants fit only one by one, and says when it could not check", async () => {
    const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
    const { existsSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { runSynth } = await import("../../../cli/synth.js");
    const { printConfig, defaultConfig } = await import("../../../config/index.js");
    lab = await startLab();
    const dir = await mkdtemp(join(tmpdir(), "synth-placement-"));
    try {
      const env = { PROXMOX_URL: lab.url, PROXMOX_TOKEN: lab.tokens.admin.id, PROXMOX_SECRET: lab.tokens.admin.secret, PROXMOX_FINGERPRINT: lab.fingerprint! };
      const synthOnce = async (file: string, out: string, e: Record<string, string>) => {
        const text: string[] = [];
        const code = await runSynth(["--check", "--config", file, "--out", join(dir, out), "--bundle", join(dir, out, "bundle.yaml")], { cwd: dir, env: e, stdout: (t) => text.push(t), stderr: (t) => text.push(t) });
        return { code, text: text.join("") };
      };
      const fits = join(dir, "fits.yaml");
      await writeFile(fits, printConfig(defaultConfig()));
      const ok = await synthOnce(fits, "ok", env);
      expect(ok.code).toBe(0);
      expect(ok.text).toContain("synth: placement: tenant demo: worst case 3 machines (workers 2+1): 12288 MiB, 6 vCPUs, 60 GiB fits (pve1 1, pve2 1, pve3 1)");
      expect(ok.text).not.toContain(lab.tokens.admin.secret);

      const base = defaultConfig();
      const huge = join(dir, "huge.yaml");
      await writeFile(huge, printConfig({ ...base, tenants: [{ ...base.tenants[0]!, nodeGroups: [{ ...defaultNodeGroup("huge"), memoryMiB: 131072 }] }] }));
      const refused = await synthOnce(huge, "refused", env);
      expect(refused.code).toBe(1);
      expect(refused.text).toContain("synth: nothing written: a tenant does not fit on the Proxmox cluster: tenant demo, worst case 3 machines (huge 2+1): 393216 MiB");
      expect(refused.text).toContain("the most left is 65536 MiB on pve1");
      expect(existsSync(join(dir, "refused"))).toBe(false);

      // Each of two tenants fits alone, not both at their worst case at once: a warning, and synth goes on.
      const tenant = (name: string, start: string, end: string) => ({ ...base.tenants[0]!, name, addressRanges: [{ start, end }], nodeGroups: [{ ...defaultNodeGroup("workers"), memoryMiB: 40960 }] });
      const crowded = join(dir, "crowded.yaml");
      await writeFile(crowded, printConfig({ ...base, tenants: [tenant("alpha", "10.0.0.100", "10.0.0.149"), tenant("beta", "10.0.0.150", "10.0.0.199")] }));
      const warned = await synthOnce(crowded, "warned", env);
      expect(warned.text).toContain("warning: each tenant fits alone, but not all at their worst case at once (245760 MiB in all): 3 of beta/workers's machines (40960 MiB each) would fit on no allowed node");
      expect(warned.code).toBe(0);
      expect(existsSync(join(dir, "warned", "tenants", "beta.yaml"))).toBe(true);

      const offline = await synthOnce(fits, "offline", {});
      expect(offline.code).toBe(0);
      expect(offline.text).toContain("synth: placement not checked (");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
