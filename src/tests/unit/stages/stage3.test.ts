/**
 * Stage 3's judgements on constructed states: the test tenant, its address pool, VM
 * comparisons, capmox's placement rule, CRD contract labels, capmox's conditions in words.
 */
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../config/index.js";
import type { KubeObject } from "../../../kube/index.js";
import { crdProblem, expectedCrds } from "../../../stages/stage3/controllers.js";
import { placementProblems, type NodePlacement } from "../../../stages/stage3/placement.js";
import { describeMachines, describeProxmoxMachine } from "../../../stages/stage3/run.js";
import { freeAddresses, testTenant, testTenantObjects } from "../../../stages/stage3/tenant.js";
import { vmExpectation, vmProblems, type VmFacts } from "../../../stages/stage3/vm.js";
import { smbiosUuid } from "../../../proxmox/index.js";

const runId = "20261203t120000-ab12";
const tenant = testTenant(defaultConfig(), runId);

describe("the test tenant", () => {
  it("is the first tenant's shape, one replica, own namespace, names and tags vm-test --sweep recognises", () => {
    expect(tenant.name).toBe(`cozy-vmtest-${runId}`);
    expect(tenant.namespace).toBe(`cozy-stage3-${runId}`);
    expect(tenant.machineDeployment).toBe(`cozy-vmtest-${runId}-s3`);
    expect(tenant.tenant.nodeGroups).toHaveLength(1);
    expect(tenant.tenant.nodeGroups[0]).toMatchObject({ name: "s3", replicas: 1, memoryMiB: 4096, cores: 2 });
    expect(tenant.tags).toEqual([`capi-cozy-vmtest-${runId}-s3`, "cozy-vmtest", `cozy-run-${runId}`]);
  });

  it("renders namespace, credentials Secret and the synth objects, never the secret in clear", () => {
    const objects = testTenantObjects(tenant, { tokenSecret: "s3cr3t-token", caPem: "PEM" });
    expect(objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "Secret",
      "KamajiControlPlane",
      "ProxmoxCluster",
      "Cluster",
      "ProxmoxMachineTemplate",
      "KubeadmConfigTemplate",
      "MachineDeployment",
      "MachineHealthCheck",
    ]);
    expect(JSON.stringify(objects)).not.toContain("s3cr3t-token");
    const template = objects.find((o) => o.kind === "ProxmoxMachineTemplate") as KubeObject & { spec: { template: { spec: { tags: string[] } } } };
    expect(template.spec.template.spec.tags).toEqual(expect.arrayContaining(["cozy-vmtest", `cozy-run-${runId}`]));
  });
});

describe("the test tenant's addresses", () => {
  const ranges = [{ start: "10.0.0.100", end: "10.0.0.104" }];

  it("takes the last free addresses, skipping used ones", () => {
    expect(freeAddresses(ranges, new Set(["10.0.0.104", "10.0.0.102"]), 3)).toEqual([
      { start: "10.0.0.100", end: "10.0.0.100" },
      { start: "10.0.0.101", end: "10.0.0.101" },
      { start: "10.0.0.103", end: "10.0.0.103" },
    ]);
  });

  it("says undefined when fewer are free", () => {
    expect(freeAddresses(ranges, new Set(["10.0.0.100", "10.0.0.101", "10.0.0.102"]), 3)).toBeUndefined();
  });
});

const uuid = "8f95b3bc-8d3c-4752-bcf6-ef409a02b86d";
const want = vmExpectation(tenant.config, { ...tenant.tenant, addressRanges: [{ start: "10.0.0.197", end: "10.0.0.199" }] }, tenant.tags);
function facts(over: Partial<VmFacts["config"]> = {}, rest: Partial<VmFacts> = {}): VmFacts {
  return {
    vmid: 102,
    node: "pve3",
    status: "running",
    joined: false,
    config: {
      digest: "d",
      sockets: 1,
      cores: 2,
      memory: "4096",
      scsi0: "ceph-vm:vm-102-disk-0,size=20G",
      net0: "virtio=BC:24:11:00:00:01,bridge=vmbr0",
      ide0: "local:iso/user-data-102.iso,media=cdrom",
      tags: `capi-cozy-vmtest-${runId}-s3;cozy-run-${runId};cozy-vmtest;ip_net0_10.0.0.198`,
      smbios1: `uuid=${uuid}`,
      ...over,
    },
    ...rest,
  };
}

describe("the VM against its node group", () => {
  it("matches when shape, disk, NIC, tags, address, ISO, power and providerID agree", () => {
    expect(vmProblems(facts(), want, `proxmox://${uuid}`)).toEqual([]);
    expect(smbiosUuid("base64=1,uuid=ABC-1")).toBe("ABC-1");
  });

  it("names each difference", () => {
    const problems = vmProblems(
      facts({ memory: "2048", scsi0: "ceph-vm:vm-102-disk-0,size=16G", net0: "virtio,bridge=vmbr1", tags: "ip_net0_10.0.0.50", ide0: undefined }, { status: "stopped" }),
      want,
      "proxmox://other",
    );
    expect(problems).toEqual([
      "memory 2048 MiB, want 4096",
      "scsi0 is 16 GiB, want 20",
      "net0 (virtio,bridge=vmbr1) is not on bridge vmbr0",
      `tags 'ip_net0_10.0.0.50' lack capi-cozy-vmtest-${runId}-s3, cozy-vmtest, cozy-run-${runId}`,
      "address 10.0.0.50 is outside the pool 10.0.0.197-10.0.0.199",
      "ide0 is 'empty', not the cloud-init ISO local:iso/user-data-102.iso",
      "the VM is stopped, not running",
      `the Machine's providerID proxmox://other is not proxmox://${uuid}`,
    ]);
  });

  it("accepts a detached ISO once the Machine has joined (capmox removes it then)", () => {
    expect(vmProblems(facts({ ide0: "none,media=cdrom" }, { joined: true }), want, `proxmox://${uuid}`)).toEqual([]);
  });
});

describe("capmox's placement rule", () => {
  const gib = 1024 ** 3;
  const node = (name: string, testVms: number, freeGiB = 40): NodePlacement => ({ node: name, totalBytes: 64 * gib, committedBytes: (64 - freeGiB) * gib, testVms });

  it("accepts round-robin when every node had room", () => {
    expect(placementProblems([node("pve1", 1), node("pve2", 1), node("pve3", 1)], [])).toEqual([]);
    expect(placementProblems([node("pve1", 2), node("pve2", 1), node("pve3", 1)], [])).toEqual([]);
  });

  it("refuses two more on one node than another while all had room, a node outside allowedNodes, and overcommitted memory", () => {
    expect(placementProblems([node("pve1", 3), node("pve2", 0), node("pve3", 0)], [])[0]).toMatch(/not spread round-robin/);
    expect(placementProblems([node("pve1", 1)], ["pve9"])).toEqual(["a test VM is on pve9, which is not an allowed node"]);
    expect(placementProblems([node("pve1", 2, -1), node("pve2", 0)], []).join()).toMatch(/pve1 holds 2 test VM\(s\) but its VMs need more memory/);
  });
});

describe("CRD checks", () => {
  const crd = (labels: Record<string, string>, served = ["v1alpha1"], established = true): KubeObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "proxmoxmachines.infrastructure.cluster.x-k8s.io", labels },
    spec: { versions: served.map((name) => ({ name, served: true })) },
    status: { conditions: [{ type: "Established", status: established ? "True" : "False" }] },
  });
  const proxmoxMachines = expectedCrds.find((c) => c.name.startsWith("proxmoxmachines."))!;

  it("wants the contract label, the served version and Established", () => {
    expect(crdProblem(proxmoxMachines, crd({ "cluster.x-k8s.io/v1beta1": "v1alpha1" }))).toBeUndefined();
    expect(crdProblem(proxmoxMachines, crd({ "cluster.x-k8s.io/v1beta1": "v1alpha0_v1alpha1" }))).toBeUndefined();
    expect(crdProblem(proxmoxMachines, crd({}))).toMatch(/lacks the contract label cluster\.x-k8s\.io\/v1beta1=v1alpha1 \(has none\)/);
    expect(crdProblem(proxmoxMachines, crd({ "cluster.x-k8s.io/v1beta1": "v1alpha1" }, ["v1alpha2"]))).toMatch(/does not serve v1alpha1/);
    expect(crdProblem(proxmoxMachines, crd({ "cluster.x-k8s.io/v1beta1": "v1alpha1" }, ["v1alpha1"], false))).toMatch(/not Established/);
    expect(crdProblem(proxmoxMachines, undefined)).toMatch(/is not installed/);
  });
});

describe("capmox's view in words", () => {
  it("gives the VMProvisioned condition's reason and message and the failure fields", () => {
    const pm: KubeObject = {
      apiVersion: "infrastructure.cluster.x-k8s.io/v1alpha1",
      kind: "ProxmoxMachine",
      metadata: { name: "m-1" },
      status: {
        conditions: [{ type: "VMProvisioned", status: "False", reason: "TaskFailure", message: "storage 'ceph-vm' is full" }],
        failureReason: "BootstrapFailed",
        failureMessage: "cloud-init failed",
      },
    };
    expect(describeProxmoxMachine(pm)).toBe("VMProvisioned=False (TaskFailure: storage 'ceph-vm' is full), failure BootstrapFailed: cloud-init failed");
    const machine: KubeObject = { apiVersion: "cluster.x-k8s.io/v1beta1", kind: "Machine", metadata: { name: "m-1" }, spec: { infrastructureRef: { name: "m-1" } }, status: { phase: "Provisioning" } };
    expect(describeMachines([machine], [pm])).toMatch(/^Machine m-1 Provisioning \(VMProvisioned=False \(TaskFailure/);
    expect(describeMachines([])).toBe("no Machines yet");
  });
});
