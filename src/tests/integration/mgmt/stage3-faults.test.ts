/**
 * Stage 3 with a fault in the lab, against the real CAPI, kubeadm bootstrap, capmox and IPAM
 * controllers: a failing clone task, a guest agent that never answers, a node offline. Each
 * time stage 3 fails naming capmox's reason (or the template's missing agent) and leaves no VM.
 * The lab keeps capmox's timing, as in stage3.test.ts.
 */
import { expect, test } from "vitest";
import { describeMgmt, useMgmtEnv } from "../../support/mgmt-env.js";
import { check, createdVms, isos, stage3 } from "./stage3-support.js";

describeMgmt("stage 3 with a fault in the lab, against the real controllers", () => {
  const env = useMgmtEnv();

  test("a clone task that fails: stage 3 fails with capmox's reason and leaves no VM", async () => {
    const rule = env().lab.faults.add({ match: "POST **/clone", failTask: "storage 'ceph-vm' is full" });
    try {
      const result = await stage3(env(), { "capi.provision": 40_000 });
      const provisioned = check(result, "tenant.provisioned");
      expect(provisioned?.verdict).toBe("failed");
      expect(provisioned?.reason).toMatch(/capmox says ProxmoxMachine \S+: VMProvisioned=False \(\w+: .*storage 'ceph-vm' is full/);
      expect(check(result, "tenant.cleanup")).toBeUndefined();
    } finally {
      env().lab.faults.remove(rule);
    }
    expect(createdVms(env())).toEqual([]);
  }, 300_000);

  test("a guest agent that never answers: stage 3 names the template's missing agent and leaves no VM", async () => {
    const timing = env().lab.state.timing;
    const before = timing.agentBootDelayMs;
    timing.agentBootDelayMs = 24 * 60 * 60 * 1000;
    try {
      const result = await stage3(env(), { "capi.provision": 100_000 });
      const provisioned = check(result, "tenant.provisioned");
      expect(provisioned?.verdict).toBe("failed");
      expect(provisioned?.reason).toMatch(/guest agent does not answer: the template's OS has no QEMU guest agent/);
      expect(provisioned?.fix).toMatch(/qemu-guest-agent/);
    } finally {
      timing.agentBootDelayMs = before;
    }
    expect(createdVms(env())).toEqual([]);
    expect(isos(env())).toEqual([]);
  }, 300_000);

  test("a node offline: stage 3 fails with capmox's reason and leaves no VM", async () => {
    const node = env().lab.state.node("pve2")!;
    node.online = false;
    try {
      const result = await stage3(env(), { "capi.provision": 40_000 });
      const provisioned = check(result, "tenant.provisioned");
      expect(provisioned?.verdict).toBe("failed");
      expect(provisioned?.reason).toMatch(/capmox says ProxmoxMachine/);
    } finally {
      node.online = true;
    }
    expect(createdVms(env())).toEqual([]);
  }, 300_000);
});
