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
