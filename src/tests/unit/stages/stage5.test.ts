/**
 * Stage 5's judgements on constructed cluster states, shaped as the Kubernetes API returns
 * them (apps/v1 Deployment/DaemonSet status, storage.k8s.io CSIDriver/CSINode/StorageClass,
 * v1 Node/PVC/PV/Pod) and as Proxmox returns VM configs and storage content.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../kube/index.js";
import type { QemuConfig, StorageVolume } from "../../../proxmox/index.js";
import {
  csiProvisioner,
  diskKeysOf,
  judgeAttached,
  judgeBound,
  judgeController,
  judgeDiskGone,
  judgeNodePlugin,
  judgeStorageClass,
  judgeTopology,
  parseVolumeHandle,
  judgeWriteRead,
} from "../../../stages/stage5/checks.js";
import { parseProviderId } from "../../../stages/tenant/vms.js";

const obj = (apiVersion: string, kind: string, name: string, rest: Record<string, unknown> = {}, namespace?: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) },
  ...rest,
});

const node = (name: string, zone: string | undefined, region: string | undefined = "pve"): KubeObject =>
  obj("v1", "Node", name, { spec: { providerID: "proxmox://6f1c3c0e-2f54-4c1c-9a7e-0d2b1d5e9a01" }, status: { conditions: [{ type: "Ready", status: "True" }] } }, undefined, {
    "kubernetes.io/hostname": name,
    ...(region ? { "topology.kubernetes.io/region": region } : {}),
    ...(zone ? { "topology.kubernetes.io/zone": zone } : {}),
  });

const deployment = (name: string, ns: string, image: string, replicas: number, available: number): KubeObject =>
  obj("apps/v1", "Deployment", name, { spec: { replicas, template: { spec: { containers: [{ name: "c", image }] } } }, status: { replicas, availableReplicas: available, readyReplicas: available } }, ns);

const daemonSet = (name: string, ns: string, image: string, desired: number, ready: number): KubeObject =>
  obj("apps/v1", "DaemonSet", name, { spec: { template: { spec: { containers: [{ name: "c", image }] } } }, status: { desiredNumberScheduled: desired, numberReady: ready, currentNumberScheduled: desired } }, ns);

const csiNode = (name: string, drivers: string[]): KubeObject => obj("storage.k8s.io/v1", "CSINode", name, { spec: { drivers: drivers.map((d) => ({ name: d, nodeID: name, topologyKeys: ["topology.kubernetes.io/region", "topology.kubernetes.io/zone"] })) } });

const driver = obj("storage.k8s.io/v1", "CSIDriver", csiProvisioner, { spec: { attachRequired: true, podInfoOnMount: true } });
const controllerImage = "ghcr.io/sergelogvinov/proxmox-csi-controller:v0.19.1";
const nodeImage = "ghcr.io/sergelogvinov/proxmox-csi-node:v0.19.1";

describe("stage 5: CSI controller and node plugin", () => {
  it("passes with the driver registered and the controller available, names what is missing otherwise", () => {
    const ok = judgeController(driver, [deployment("proxmox-csi-plugin-controller", "cozy-proxmox-csi", controllerImage, 1, 1), deployment("coredns", "kube-system", "coredns:1.11", 2, 2)]);
    expect(ok).toMatchObject({ verdict: "passed" });
    expect(judgeController(undefined, [])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no CSIDriver csi.proxmox.sinextra.dev") });
    expect(judgeController(driver, [deployment("coredns", "kube-system", "coredns:1.11", 2, 2)])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no controller Deployment") });
    expect(judgeController(driver, [deployment("proxmox-csi-plugin-controller", "cozy-proxmox-csi", controllerImage, 1, 0)])).toMatchObject({
      verdict: "failed",
      reason: "Deployment cozy-proxmox-csi/proxmox-csi-plugin-controller has 0 of 1 replicas available",
    });
  });

  it("finds a mirrored controller by name in the plugin's namespace", () => {
    expect(judgeController(driver, [deployment("proxmox-csi-plugin-controller", "csi-proxmox", "registry.local/csi-ctl:1", 1, 1)]).verdict).toBe("passed");
  });

  it("node plugin: DaemonSet ready and the driver on every schedulable Node's CSINode", () => {
    const nodes = [node("w1", "pve1"), node("w2", "pve2")];
    const ds = [daemonSet("proxmox-csi-plugin-node", "cozy-proxmox-csi", nodeImage, 2, 2)];
    expect(judgeNodePlugin(ds, nodes, [csiNode("w1", [csiProvisioner]), csiNode("w2", [csiProvisioner])]).verdict).toBe("passed");
    const partly = judgeNodePlugin([daemonSet("proxmox-csi-plugin-node", "cozy-proxmox-csi", nodeImage, 2, 1)], nodes, [csiNode("w1", [csiProvisioner]), csiNode("w2", [])]);
    expect(partly).toMatchObject({ verdict: "failed" });
    expect(partly.verdict === "failed" && partly.reason).toContain("1 of 2 pods ready");
    expect(partly.verdict === "failed" && partly.reason).toContain("not registered on Node(s) w2");
    expect(judgeNodePlugin([], nodes, [])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no node plugin DaemonSet") });
  });
});

describe("stage 5: topology and StorageClass", () => {
  it("needs region = proxmox.region and a zone that is a Proxmox node on every Node", () => {
    expect(judgeTopology([node("w1", "pve1"), node("w2", "pve2")], "pve", ["pve1", "pve2", "pve3"])).toMatchObject({ verdict: "passed", detail: "2 Node(s) in region pve, zones pve1, pve2" });
    const bad = judgeTopology([node("w1", undefined), node("w2", "pve9"), node("w3", "pve1", "other")], "pve", ["pve1", "pve2"]);
    expect(bad.verdict).toBe("failed");
    expect(bad.verdict === "failed" && bad.reason).toBe(
      "Node w1 lacks topology.kubernetes.io/zone; Node w2 has zone pve9, which is not a Proxmox node (pve1, pve2); Node w3 has region other, the CSI plugin's region is pve",
    );
    expect(judgeTopology([], "pve", ["pve1"]).verdict).toBe("failed");
  });

  it("the class must be the plugin's, on a storage that holds images", () => {
    const sc = (provisioner: string, storage?: string): KubeObject =>
      ({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "proxmox-csi" }, provisioner, parameters: { ...(storage ? { storage } : {}), "csi.storage.k8s.io/fstype": "ext4" }, reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer", allowVolumeExpansion: true }) as KubeObject;
    expect(judgeStorageClass(sc(csiProvisioner, "local-lvm"), "proxmox-csi", ["local-lvm"])).toMatchObject({ verdict: "passed", detail: "StorageClass proxmox-csi: csi.proxmox.sinextra.dev on storage local-lvm (WaitForFirstConsumer)" });
    expect(judgeStorageClass(undefined, "proxmox-csi", ["local-lvm"]).verdict).toBe("failed");
    expect(judgeStorageClass(sc("linstor.csi.linbit.com", "local-lvm"), "proxmox-csi", ["local-lvm"])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("linstor.csi.linbit.com") });
    expect(judgeStorageClass(sc(csiProvisioner), "proxmox-csi", ["local-lvm"])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no parameters.storage") });
    expect(judgeStorageClass(sc(csiProvisioner, "local"), "proxmox-csi", ["local-lvm"])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("storage local, which does not exist or does not hold disk images") });
  });
});

const handleText = "pve/pve1/local-lvm/vm-9999-pvc-5b0e4b5e-7d1a-4c3b-9f0e-2a6c1d8e4f10";
const disk = "vm-9999-pvc-5b0e4b5e-7d1a-4c3b-9f0e-2a6c1d8e4f10";
const pvc = obj("v1", "PersistentVolumeClaim", "stage5-data", { spec: { volumeName: "pvc-5b0e4b5e-7d1a-4c3b-9f0e-2a6c1d8e4f10", storageClassName: "proxmox-csi" }, status: { phase: "Bound", capacity: { storage: "1Gi" } } }, "ns");
const pv = (driverName = csiProvisioner, handle = handleText): KubeObject =>
  obj("v1", "PersistentVolume", "pvc-5b0e4b5e-7d1a-4c3b-9f0e-2a6c1d8e4f10", { spec: { csi: { driver: driverName, volumeHandle: handle, fsType: "ext4" }, persistentVolumeReclaimPolicy: "Delete" }, status: { phase: "Bound" } });

describe("stage 5: the bound volume", () => {
  it("parses <region>/<zone>/<storage>/<disk>, zone empty for shared storage", () => {
    expect(parseVolumeHandle(handleText)).toEqual({ region: "pve", zone: "pve1", storage: "local-lvm", disk });
    expect(parseVolumeHandle("pve//ceph/vm-9999-pvc-1")).toEqual({ region: "pve", zone: "", storage: "ceph", disk: "vm-9999-pvc-1" });
    expect(parseVolumeHandle("pve/pve1/vm-9999-pvc-1")).toBeUndefined();
    expect(parseVolumeHandle(undefined)).toBeUndefined();
  });

  it("passes a Bound PVC on the plugin's PV in this region, fails otherwise", () => {
    const ok = judgeBound(pvc, pv(), "pve");
    expect(ok.outcome.verdict).toBe("passed");
    expect(ok.handle?.disk).toBe(disk);
    const pending = { ...pvc, status: { phase: "Pending" } } as KubeObject;
    expect(judgeBound(pending, undefined, "pve").outcome).toMatchObject({ verdict: "failed", reason: "the test PVC is Pending" });
    expect(judgeBound(pvc, pv("other.csi"), "pve").outcome.verdict).toBe("failed");
    expect(judgeBound(pvc, pv(csiProvisioner, "garbage"), "pve").outcome.verdict).toBe("failed");
    expect(judgeBound(pvc, pv(), "eu-1").outcome).toMatchObject({ verdict: "failed", reason: expect.stringContaining("region pve, the platform's region is eu-1") });
  });
});

const podWith = (name: string, status: Record<string, unknown>): KubeObject => obj("v1", "Pod", name, { spec: { nodeName: "w1", containers: [{ name: "main" }] }, status }, "ns");
const terminated = (exitCode: number, message: string, phase: string): Record<string, unknown> => ({
  phase,
  conditions: [{ type: "Ready", status: "False" }],
  containerStatuses: [{ name: "main", ready: false, state: { terminated: { exitCode, message, reason: exitCode === 0 ? "Completed" : "Error" } } }],
});
const runningReady = { phase: "Running", podIP: "10.244.1.7", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "main", ready: true, state: { running: { startedAt: "2026-12-03T12:00:00Z" } } }] };

describe("stage 5: write and read back", () => {
  const token = "3f9a0c1d2e4b5a6978c0d1e2";
  it("passes when the writer ended with the token and the reader is Ready", () => {
    expect(judgeWriteRead(podWith("stage5-writer", terminated(0, `${token}\n`, "Succeeded")), podWith("stage5-reader", runningReady), token)).toMatchObject({ verdict: "passed" });
  });
  it("fails when the reader read something else, or the writer could not write", () => {
    const reader = podWith("stage5-reader", terminated(3, "read: cat: can't open '/data/probe': No such file or directory", "Failed"));
    const lost = judgeWriteRead(podWith("stage5-writer", terminated(0, token, "Succeeded")), reader, token);
    expect(lost).toMatchObject({ verdict: "failed", reason: expect.stringContaining("No such file") });
    const denied = judgeWriteRead(podWith("stage5-writer", terminated(1, "", "Failed")), undefined, token);
    expect(denied).toMatchObject({ verdict: "failed", reason: expect.stringContaining("did not write the volume: Failed exit 1") });
    const pulling = podWith("stage5-reader", { phase: "Pending", containerStatuses: [{ name: "main", state: { waiting: { reason: "ContainerCreating" } } }] });
    expect(judgeWriteRead(podWith("stage5-writer", terminated(0, token, "Succeeded")), pulling, token)).toMatchObject({ verdict: "failed", reason: expect.stringContaining("ContainerCreating") });
  });
});

const volume = (volid: string): StorageVolume => ({ volid, content: "images", format: "raw", size: 1073741824, vmid: 9999 });
const vmConfig = (extra: Record<string, string>): QemuConfig => ({
  digest: "4f1d",
  name: "tenant-md0-abcde",
  smbios1: "uuid=6f1c3c0e-2f54-4c1c-9a7e-0d2b1d5e9a01",
  scsihw: "virtio-scsi-single",
  scsi0: "local-lvm:vm-120-disk-0,size=20G",
  ...extra,
});

describe("stage 5: the disk in Proxmox", () => {
  const handle = parseVolumeHandle(handleText)!;
  const attachedLine = `local-lvm:${disk},backup=0,iothread=1,wwn=0x5056432d49443031`;

  it("finds the disk in the storage and attached to the VM as scsiN", () => {
    expect(diskKeysOf(vmConfig({ scsi1: attachedLine }), "local-lvm", disk)).toEqual(["scsi1"]);
    const ok = judgeAttached(handle, { vmid: 120, pveNode: "pve1", config: vmConfig({ scsi1: attachedLine }) }, [volume("local-lvm:vm-120-disk-0"), volume(`local-lvm:${disk}`)], "w1");
    expect(ok).toMatchObject({ verdict: "passed", detail: `local-lvm:${disk} exists (1024 MiB) and is scsi1 of VM 120 on pve1` });
  });

  it("fails when the disk is missing, only unused, or on another node than the VM", () => {
    const missing = judgeAttached(handle, { vmid: 120, pveNode: "pve1", config: vmConfig({}) }, [], "w1");
    expect(missing.verdict === "failed" && missing.reason).toBe(`Proxmox storage local-lvm on pve1 has no volume local-lvm:${disk}; VM 120 (Node w1) has no disk local-lvm:${disk} attached`);
    const unused = judgeAttached(handle, { vmid: 120, pveNode: "pve1", config: vmConfig({ unused0: `local-lvm:${disk}` }) }, [volume(`local-lvm:${disk}`)], "w1");
    expect(unused.verdict).toBe("failed");
    const elsewhere = judgeAttached(handle, { vmid: 120, pveNode: "pve2", config: vmConfig({ scsi1: attachedLine }) }, [volume(`local-lvm:${disk}`)], "w1");
    expect(elsewhere).toMatchObject({ verdict: "failed", reason: "the volume is on Proxmox node pve1, the VM runs on pve2" });
  });

  it("after deletion: gone from storage and from every VM config (unused counts as left)", () => {
    expect(judgeDiskGone(handle, [volume("local-lvm:vm-120-disk-0")], [{ vmid: 120, config: vmConfig({}) }]).verdict).toBe("passed");
    const left = judgeDiskGone(handle, [volume(`local-lvm:${disk}`)], [{ vmid: 120, config: vmConfig({ unused0: `local-lvm:${disk}` }) }]);
    expect(left.verdict === "failed" && left.reason).toBe(`volume local-lvm:${disk} is still in Proxmox storage local-lvm; VM 120 still references it as unused0`);
  });

  it("reads both providerID formats: capmox's SMBIOS uuid and the CCM's region/vmid", () => {
    expect(parseProviderId("proxmox://6F1C3C0E-2F54-4C1C-9A7E-0D2B1D5E9A01")).toEqual({ kind: "uuid", uuid: "6f1c3c0e-2f54-4c1c-9a7e-0d2b1d5e9a01" });
    expect(parseProviderId("proxmox://pve/120")).toEqual({ kind: "vmid", region: "pve", vmid: 120 });
    expect(parseProviderId("kubevirt://x")).toBeUndefined();
    expect(parseProviderId(undefined)).toBeUndefined();
  });
});
