import { describe, expect, it } from "vitest";
import { OWNER_TAG, capiOwnerOf, capmoxTags, ownerRemedy, isRunId, newRunId, ownedRunId, runStartedAt, runTag, vmDescription, vmName, vmTags } from "../../../vmtest/index.js";

const runId = newRunId(new Date("2026-03-04T05:06:07.890Z"), () => 0.5);

describe("VM test ownership marks", () => {
  it("makes run ids that are valid tags and carry their start time", () => {
    expect(runId).toBe("20260304t050607-8000");
    expect(isRunId(runId)).toBe(true);
    expect(/^[a-z0-9_][a-z0-9_\-+.]*$/.test(runTag(runId))).toBe(true);
    expect(runStartedAt(runId)?.toISOString()).toBe("2026-03-04T05:06:07.000Z");
    expect(runStartedAt("nope")).toBeUndefined();
  });

  it("names VMs with the run id and node, DNS-safe", () => {
    expect(vmName(runId, "pve1")).toBe(`cozy-vmtest-${runId}-pve1`);
    expect(vmName(runId, "Node_A")).toBe(`cozy-vmtest-${runId}-node-a`);
    expect(vmTags(runId)).toBe(`${OWNER_TAG};cozy-run-${runId}`);
  });

  it("recognises its VMs by tags or by description, always together with the name", () => {
    const name = vmName(runId, "pve1");
    expect(ownedRunId({ tags: vmTags(runId), name })).toBe(runId);
    expect(ownedRunId({ name, description: vmDescription(runId) })).toBe(runId);
  });

  it("never claims a VM without the run's name, or with only the owner tag", () => {
    expect(ownedRunId({ tags: vmTags(runId), name: "database" })).toBeUndefined();
    expect(ownedRunId({ tags: vmTags(runId) })).toBeUndefined();
    expect(ownedRunId({ description: vmDescription(runId) })).toBeUndefined();
    expect(ownedRunId({ name: vmName(runId, "pve1") })).toBeUndefined();
    expect(ownedRunId({ tags: OWNER_TAG, name: vmName(runId, "pve1") })).toBeUndefined();
    expect(ownedRunId({ tags: "k8s;ubuntu", name: "cozy-vmtest-foo" })).toBeUndefined();
  });
});

describe("a VM a Cluster API Machine owns is never swept", () => {
  const run = "20261206t050000-ab12";
  const tags = `capi-cozy-vmtest-${run}-s3;cozy-run-${run};cozy-vmtest;ip_net0_10.0.0.250`;
  const uuid = "5a1b0c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3";
  const machine = {
    apiVersion: "cluster.x-k8s.io/v1beta1",
    kind: "Machine",
    metadata: { name: `cozy-vmtest-${run}-s3-abcde-fghij`, namespace: `cozy-stage3-${run}`, labels: { "cluster.x-k8s.io/cluster-name": `cozy-vmtest-${run}` } },
    spec: { clusterName: `cozy-vmtest-${run}`, providerID: `proxmox://${uuid}` },
  };
  const proxmoxMachine = {
    apiVersion: "infrastructure.cluster.x-k8s.io/v1alpha1",
    kind: "ProxmoxMachine",
    metadata: { name: "demo-md0-xyz", namespace: "tenant-demo", labels: { "cluster.x-k8s.io/cluster-name": "demo" } },
    spec: { virtualMachineID: 104 },
  };
  const view = { machines: [machine], proxmoxMachines: [proxmoxMachine] };

  it("with the management cluster: by the Machine's providerID, or the ProxmoxMachine's VMID", () => {
    expect(capiOwnerOf({ vmid: 101, tags, uuid: uuid.toUpperCase() }, view)).toEqual({
      cluster: `cozy-stage3-${run}/cozy-vmtest-${run}`,
      namespace: `cozy-stage3-${run}`,
      name: `cozy-vmtest-${run}`,
      how: `Machine cozy-stage3-${run}/cozy-vmtest-${run}-s3-abcde-fghij has providerID proxmox://${uuid}`,
    });
    expect(capiOwnerOf({ vmid: 104 }, view)).toMatchObject({ cluster: "tenant-demo/demo", how: "ProxmoxMachine tenant-demo/demo-md0-xyz has VMID 104" });
    // capmox's tags, but no Machine owns it any more: an orphan, which the sweep may remove.
    expect(capiOwnerOf({ vmid: 102, tags, uuid: "00000000-0000-4000-8000-000000000000" }, view)).toBeUndefined();
    expect(capiOwnerOf({ vmid: 102, tags }, { machines: [], proxmoxMachines: [] })).toBeUndefined();
  });

  it("without it: every VM with capmox's tags is refused, a test tenant's Cluster named from its node group tag", () => {
    expect(capmoxTags(tags)).toEqual([`capi-cozy-vmtest-${run}-s3`, "ip_net0_10.0.0.250"]);
    const owner = capiOwnerOf({ vmid: 101, tags }, undefined);
    expect(owner).toMatchObject({ cluster: `cozy-stage3-${run}/cozy-vmtest-${run}`, namespace: `cozy-stage3-${run}` });
    expect(owner?.how).toContain("without the management cluster (--kubeconfig or KUBECONFIG) the sweep cannot tell whether a Machine still owns it");
    expect(ownerRemedy(owner!)).toContain("npm run test:stage -- --sweep --yes");
    expect(capiOwnerOf({ vmid: 103, tags: "ip_net0_10.0.0.9;cozy-vmtest" }, undefined)?.cluster).toBe("the Cluster its tags name");
    expect(ownerRemedy({ cluster: "tenant-demo/demo", namespace: "tenant-demo", name: "demo", how: "" })).toBe("delete the Cluster (`kubectl -n tenant-demo delete cluster demo`), and capmox destroys the VM");
    // A plain vm-test VM carries no capmox tag: swept as before.
    expect(capiOwnerOf({ vmid: 105, tags: vmTags(runId) }, undefined)).toBeUndefined();
  });
});
