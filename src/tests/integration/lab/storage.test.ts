/**
 * Storage over plain HTTP with Node's fetch: listing and status, multipart ISO upload
 * (the capmox cloud-init path), content lookup and delete, allocation, permissions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type LabHandle } from "../../../lab/index.js";
import { call, data, waitTask } from "./helpers.js";

let lab: LabHandle;
let auth: { Authorization: string };

beforeAll(async () => {
  lab = await startLab({ http: true, taskDurationMs: 20 });
  auth = { Authorization: `PVEAPIToken=${lab.tokens.admin.id}=${lab.tokens.admin.secret}` };
});
afterAll(async () => {
  await lab?.stop();
});

function upload(storage: string, filename: string, content: string, extra: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.append("content", content);
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  form.append("filename", new Blob([Buffer.from("CD001 cidata fake iso bytes")]), filename);
  return fetch(`${lab.url}/api2/json/nodes/pve1/storage/${storage}/upload`, { method: "POST", headers: auth, body: form });
}

describe("storage", () => {
  it("lists storages with PVE's 0/1 flags and content filter", async () => {
    const all = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve1/storage");
    expect(all.map((s) => s["storage"])).toEqual(["local", "local-lvm", "ceph-vm"]);
    expect(all[1]).toMatchObject({ type: "lvmthin", content: "images,rootdir", shared: 0, enabled: 1, active: 1 });
    expect(all[2]).toMatchObject({ type: "rbd", content: "images", shared: 1, enabled: 1, active: 1 });
    const iso = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve1/storage?content=iso&enabled=1");
    expect(iso.map((s) => s["storage"])).toEqual(["local"]);
    const images = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve2/storage?content=images");
    expect(images.map((s) => s["storage"])).toEqual(["local-lvm", "ceph-vm"]);
    const status = await data<Record<string, number>>(lab, "GET", "/nodes/pve1/storage/local-lvm/status");
    expect(status["total"]).toBe(500 * 1024 ** 3);
    expect(status["used"]).toBe(0); // the template's base disk is on ceph-vm
    // Shared: one volume list, so every node reports the template's 16 GiB base disk.
    for (const node of ["pve1", "pve3"]) {
      const ceph = await data<Record<string, number>>(lab, "GET", `/nodes/${node}/storage/ceph-vm/status`);
      expect([ceph["total"], ceph["used"]]).toEqual([2000 * 1024 ** 3, 16 * 1024 ** 3]);
    }
    const missing = await call(lab, "GET", "/nodes/pve1/storage/nope/status");
    expect(missing.statusText).toBe("storage 'nope' does not exist");
    const resources = await data<Array<Record<string, unknown>>>(lab, "GET", "/cluster/resources?type=storage");
    expect(resources).toHaveLength(9); // PVE lists a shared storage once per node, too
    expect(resources.filter((r) => r["storage"] === "ceph-vm").map((r) => [r["id"], r["shared"], r["disk"]])).toEqual(
      ["pve1", "pve2", "pve3"].map((n) => [`storage/${n}/ceph-vm`, 1, 16 * 1024 ** 3]),
    );
    expect(resources[0]).toMatchObject({ id: "storage/pve1/local", type: "storage", plugintype: "dir", status: "available" });
  });

  it("uploads an ISO with multipart/form-data as an imgcopy task", async () => {
    const res = await upload("local", "user-data-200.iso", "iso");
    expect(res.status).toBe(200);
    const upid = ((await res.json()) as { data: string }).data;
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:imgcopy::root@pam!cozy:$/);
    expect((await waitTask(lab, upid)).exitstatus).toBe("OK");
    const content = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve1/storage/local/content?content=iso");
    expect(content).toEqual([expect.objectContaining({ volid: "local:iso/user-data-200.iso", content: "iso", format: "iso", size: 27 })]);
    const one = await data<Record<string, unknown>>(lab, "GET", "/nodes/pve1/storage/local/content/local:iso/user-data-200.iso");
    expect(one).toMatchObject({ format: "iso", size: 27 });
    // Another node's local storage does not have it.
    const other = await call(lab, "GET", "/nodes/pve2/storage/local/content/local:iso/user-data-200.iso");
    expect([other.status, other.statusText]).toEqual([500, "volume 'local:iso/user-data-200.iso' does not exist"]);
    const del = await data<string>(lab, "DELETE", "/nodes/pve1/storage/local/content/local:iso/user-data-200.iso");
    expect(del).toContain(":imgdel:");
    await waitTask(lab, del);
    expect(await data(lab, "GET", "/nodes/pve1/storage/local/content?content=iso")).toEqual([]);
  });

  it("verifies checksums and refuses wrong extensions, content and storage types", async () => {
    const sum = await upload("local", "a.iso", "iso", { checksum: "00", "checksum-algorithm": "sha256" });
    const upid = ((await sum.json()) as { data: string }).data;
    expect((await waitTask(lab, upid)).exitstatus).toMatch(/^checksum mismatch: got '[0-9a-f]{64}' != expected '00'$/);
    const ext = await upload("local", "a.txt", "iso");
    expect([ext.status, ext.statusText]).toEqual([400, "Parameter verification failed."]);
    expect(((await ext.json()) as { errors: unknown }).errors).toEqual({ filename: "wrong file extension" });
    const lvm = await upload("local-lvm", "a.iso", "iso");
    expect([lvm.status, lvm.statusText]).toEqual([500, "storage 'local-lvm' does not support 'iso' content"]);
    const ro = new FormData();
    ro.append("content", "iso");
    ro.append("filename", new Blob(["x"]), "b.iso");
    const denied = await fetch(`${lab.url}/api2/json/nodes/pve1/storage/local/upload`, {
      method: "POST",
      headers: { Authorization: `PVEAPIToken=${lab.tokens.readonly.id}=${lab.tokens.readonly.secret}` },
      body: ro,
    });
    expect([denied.status, denied.statusText]).toEqual([403, "Permission check failed (/storage/local, Datastore.AllocateTemplate)"]);
  });

  it("fails an upload that the lab cannot keep as a full disk would, and keeps serving (uploads are held in memory)", async () => {
    const small = await startLab({ http: true, taskDurationMs: 0, limits: { maxStoredBytes: 40 } });
    try {
      const send = async (name: string): Promise<{ exitstatus?: string }> => {
        const form = new FormData();
        form.append("content", "iso");
        form.append("filename", new Blob([Buffer.alloc(27, 1)]), name);
        const headers = { Authorization: `PVEAPIToken=${small.tokens.admin.id}=${small.tokens.admin.secret}` };
        const res = await fetch(`${small.url}/api2/json/nodes/pve1/storage/local/upload`, { method: "POST", headers, body: form });
        return waitTask(small, ((await res.json()) as { data: string }).data);
      };
      expect((await send("one.iso")).exitstatus).toBe("OK");
      expect((await send("one.iso")).exitstatus).toBe("OK"); // replacing a file needs no more room
      expect((await send("two.iso")).exitstatus).toBe("copy failed: No space left on device (storage 'local')");
      const isos = await data<Array<Record<string, unknown>>>(small, "GET", "/nodes/pve1/storage/local/content?content=iso");
      expect(isos.map((v) => v["volid"])).toEqual(["local:iso/one.iso"]);
    } finally {
      await small.stop();
    }
  });

  it("allocates volumes synchronously (the CSI path) with PVE's name rule", async () => {
    const volid = await data<string>(lab, "POST", "/nodes/pve1/storage/local-lvm/content", { json: { vmid: 9999, filename: "vm-9999-pvc-1", size: "10G" } });
    expect(volid).toBe("local-lvm:vm-9999-pvc-1");
    const bad = await call(lab, "POST", "/nodes/pve1/storage/local-lvm/content", { json: { vmid: 9999, filename: "pvc-1", size: "1G" } });
    expect(bad.statusText).toBe("illegal name 'pvc-1' - should be 'vm-9999-*'");
  });

  it("reports permissions and network as PVE does", async () => {
    const perms = await data<Record<string, Record<string, number>>>(lab, "GET", "/access/permissions", { token: lab.tokens.readonly });
    expect(Object.keys(perms)).toEqual(expect.arrayContaining(["/", "/access", "/nodes", "/pool", "/sdn", "/storage", "/vms", "/pool/capi"]));
    expect(perms["/"]).toMatchObject({ "Sys.Audit": 1, "VM.Audit": 1, "Datastore.Audit": 1 });
    expect(perms["/"]?.["VM.Allocate"]).toBeUndefined();
    const one = await data(lab, "GET", "/access/permissions?path=/vms/9000", { token: lab.tokens.readonly });
    expect(Object.keys(one as object)).toEqual(["/vms/9000"]);
    // PVEAuditor has Sys.Audit on /access, so it may dump other users' permissions.
    const other = await data<Record<string, Record<string, number>>>(lab, "GET", "/access/permissions?userid=root%40pam&path=/", { token: lab.tokens.readonly });
    expect(other["/"]?.["Sys.Modify"]).toBe(1);
    const bridges = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve2/network?type=bridge");
    expect(bridges).toEqual([expect.objectContaining({ iface: "vmbr0", type: "bridge", bridge_vlan_aware: 1, bridge_ports: "eno1", active: 1 })]);
  });
});
