import { describe, expect, it } from "vitest";
import {
  type TemplateCandidate,
  capmoxGeneration,
  checkBootOrder,
  cloudInitDrives,
  resolveTemplateByTags,
  templateDiskStorages,
} from "../../../stages/stage2/template-logic.js";

const t = (vmid: number, tags: string, over: Partial<TemplateCandidate> = {}): TemplateCandidate => ({
  id: `qemu/${vmid}`,
  type: "qemu",
  vmid,
  node: "pve1",
  name: `tpl-${vmid}`,
  tags,
  template: 1,
  ...over,
});

describe("capmox template resolution by tags", () => {
  it("picks the generation from the capmox version", () => {
    expect(capmoxGeneration("v0.7.7")).toBe("v0.7");
    expect(capmoxGeneration("v0.9.0")).toBe("v0.9");
    expect(capmoxGeneration("v0.8.1")).toBe("v0.9");
  });

  it("exact: only a template with exactly the tags (case-insensitive, duplicates collapsed)", () => {
    const resources = [t(100, "k8s;ubuntu;extra"), t(101, "ubuntu;k8s"), t(102, "k8s", { template: 0 })];
    const r = resolveTemplateByTags(resources, ["K8S", "ubuntu", "k8s"], "exact", "v0.9");
    expect(r).toMatchObject({ ok: true, vmid: 101, node: "pve1" });
  });

  it("uniqueSubset: extra tags allowed, but exactly one match", () => {
    const one = resolveTemplateByTags([t(100, "k8s;ubuntu;extra"), t(101, "debian")], ["k8s"], "uniqueSubset", "v0.9");
    expect(one).toMatchObject({ ok: true, vmid: 100 });
    const two = resolveTemplateByTags([t(100, "k8s;a"), t(101, "k8s;b")], ["k8s"], "uniqueSubset", "v0.9");
    expect(two.ok).toBe(false);
    if (two.ok) return;
    expect(two.matches.map((m) => m.vmid)).toEqual([100, 101]);
    expect(two.reason).toContain("2 templates match tags k8s");
  });

  it("bestSubset: the fewest extra tags wins when the best comes first", () => {
    const r = resolveTemplateByTags([t(100, "k8s;a"), t(101, "k8s;a;b"), t(102, "k8s;a;b;c")], ["k8s"], "bestSubset", "v0.9");
    expect(r).toMatchObject({ ok: true, vmid: 100 });
  });

  it("bestSubset: like capmox, a worse match listed before the best one is still counted", () => {
    const r = resolveTemplateByTags([t(101, "k8s;a;b"), t(100, "k8s;a")], ["k8s"], "bestSubset", "v0.9");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.matches.map((m) => m.vmid)).toEqual([101, 100]);
    expect(r.reason).toContain("a worse match listed first also counts");
  });

  it("v0.7: exact set equality without trimming, and no match policies", () => {
    expect(resolveTemplateByTags([t(100, "ubuntu;k8s")], ["k8s", "ubuntu"], "exact", "v0.7")).toMatchObject({ ok: true, vmid: 100 });
    expect(resolveTemplateByTags([t(100, "ubuntu; k8s")], ["k8s", "ubuntu"], "exact", "v0.7").ok).toBe(false);
    expect(resolveTemplateByTags([t(100, "ubuntu; k8s")], ["k8s", "ubuntu"], "exact", "v0.9").ok).toBe(true);
    const policy = resolveTemplateByTags([t(100, "k8s")], ["k8s"], "uniqueSubset", "v0.7");
    expect(policy.ok === false && policy.reason).toContain("not available in capmox v0.7");
  });

  it("explains no match with the cluster's templates and the qm command", () => {
    const r = resolveTemplateByTags([t(9000, "k8s-template;ubuntu-2404")], ["k8s"], "exact", "v0.9");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain("9000 (tpl-9000) on pve1 [tags: k8s-template;ubuntu-2404]");
    expect(r.fix).toContain('qm set <vmid> --tags "k8s"');
  });

  it("refuses a container template", () => {
    const r = resolveTemplateByTags([t(200, "k8s", { type: "lxc", id: "lxc/200" })], ["k8s"], "exact", "v0.9");
    expect(r.ok === false && r.reason).toContain("lxc container template");
  });
});

describe("template hygiene", () => {
  it("finds PVE cloud-init drives", () => {
    expect(cloudInitDrives({ ide0: "local-lvm:vm-9000-cloudinit,media=cdrom", ide2: "none,media=cdrom" })).toEqual(["ide0"]);
    expect(cloudInitDrives({ ide2: "local:cloudinit,media=cdrom", scsi0: "local-lvm:base-9000-disk-0,size=32G" })).toEqual(["ide2"]);
    expect(cloudInitDrives({ ide0: "local:iso/user-data-101.iso,media=cdrom" })).toEqual([]);
  });

  it("accepts only new-style boot orders", () => {
    expect(checkBootOrder("order=scsi0;net0")).toEqual({ ok: true, order: ["scsi0", "net0"] });
    expect(checkBootOrder("c").ok).toBe(false);
    expect(checkBootOrder("legacy=cdn").ok).toBe(false);
    expect(checkBootOrder(undefined)).toEqual({ ok: false, problem: "the template has no boot option" });
    expect(checkBootOrder("order=").ok).toBe(false);
  });

  it("lists the storages of the template's disks, ignoring plain CD-ROMs", () => {
    const disks = templateDiskStorages({
      scsi0: "local-lvm:base-9000-disk-0,size=32G",
      efidisk0: "ceph:base-9000-disk-1,size=4M",
      ide2: "local:iso/ubuntu.iso,media=cdrom",
      ide0: "local-lvm:vm-9000-cloudinit,media=cdrom",
      net0: "virtio=BC:24:11:00:00:01,bridge=vmbr0",
    });
    expect(Object.fromEntries(disks)).toEqual({ scsi0: "local-lvm", efidisk0: "ceph", ide0: "local-lvm" });
  });
});
