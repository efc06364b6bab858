/**
 * The client against the real lab over real HTTPS: every operation the stages and VM tests
 * use, and a whole clone → configure → resize → start → agent → shutdown → delete cycle.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUpid, ProxmoxApiError, type HttpProxmoxApi } from "../../../proxmox/index.js";
import { expectNoSecret, failure, startLabClients, type LabClients } from "./lab-client.js";

let env: LabClients;
let api: HttpProxmoxApi;
const tmp = mkdtempSync(join(tmpdir(), "proxmox-ops-"));

beforeAll(async () => {
  env = await startLabClients({ taskDurationMs: 20 });
  api = env.client();
});

afterAll(async () => {
  await env?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("cluster and nodes", () => {
  it("version", async () => {
    const v = await api.version();
    expect(v.version).toMatch(/^\d+\.\d+/);
    expect(typeof v.release).toBe("string");
    expect(typeof v.repoid).toBe("string");
  });

  it("nodes and node status", async () => {
    const nodes = await api.nodes();
    expect(nodes.map((n) => n.node).sort()).toEqual(["pve1", "pve2", "pve3"]);
    expect(nodes.every((n) => n.status === "online")).toBe(true);
    const status = await api.nodeStatus("pve1");
    expect(status.memory.total).toBeGreaterThan(0);
    expect(status.cpuinfo?.cpus).toBeGreaterThan(0);
  });

  it("cluster status and resources", async () => {
    const status = await api.clusterStatus();
    expect(status.filter((e) => e.type === "node").map((e) => e.name).sort()).toEqual(["pve1", "pve2", "pve3"]);
    const vms = await api.clusterResources("vm");
    const template = vms.find((r) => r.vmid === 9000);
    expect(template).toMatchObject({ id: "qemu/9000", type: "qemu", node: "pve1", template: 1 });
    expect(vms.every((r) => r.type === "qemu" || r.type === "lxc")).toBe(true);
    const storages = await api.clusterResources("storage");
    expect(storages.some((r) => r.storage === "local-lvm")).toBe(true);
  });

  it("nextid is a number, and taken ids are reported", async () => {
    const id = await api.nextId();
    expect(typeof id).toBe("number");
    expect(id).toBeGreaterThanOrEqual(100);
    expect(await api.nextId(id)).toBe(id);
    expect(await api.isVmidFree(id)).toBe(true);
    expect(await api.isVmidFree(9000)).toBe(false);
    const taken = await failure<ProxmoxApiError>(() => api.nextId(9000));
    expect(taken.kind).toBe("parameter");
    expect(taken.errors?.vmid).toBe("VM 9000 already exists");
  });

  it("pools and node network", async () => {
    const pools = await api.pools();
    expect(pools.map((p) => p.poolid)).toContain("capi");
    const bridges = await api.nodeNetwork("pve1", "bridge");
    expect(bridges.find((i) => i.iface === "vmbr0")).toMatchObject({ type: "bridge" });
    const all = await api.nodeNetwork("pve1");
    expect(all.length).toBeGreaterThanOrEqual(bridges.length);
  });

  it("permissions of the admin and of the read-only token", async () => {
    const admin = await api.permissions();
    expect(admin["/"]).toMatchObject({ "Sys.Audit": 1, "VM.Allocate": 1 });
    const ro = await env.client({}, "readonly").permissions();
    expect(ro["/"]?.["Sys.Audit"]).toBe(1);
    expect(ro["/"]?.["VM.Allocate"]).toBeUndefined();
    const one = await api.permissions({ path: "/vms/9000" });
    expect(Object.keys(one)).toEqual(["/vms/9000"]);
  });
});

describe("storage", () => {
  it("storage configuration, per-node status and content", async () => {
    const config = await api.storages();
    expect(config.map((s) => s.storage).sort()).toEqual(expect.arrayContaining(["ceph-vm", "local", "local-lvm"]));
    const iso = await api.nodeStorages("pve1", { content: "iso", enabled: true });
    expect(iso.map((s) => s.storage)).toEqual(["local"]);
    expect(iso[0]!.total).toBeGreaterThan(0);
    const images = await api.storageContent("pve1", "ceph-vm", { content: "images" });
    expect(images.map((v) => v.volid)).toContain("ceph-vm:base-9000-disk-0");
    expect(images.find((v) => v.volid === "ceph-vm:base-9000-disk-0")?.vmid).toBe(9000);
  });

  it("uploads an ISO from memory and from a file", async () => {
    const upid = await api.uploadFile("pve1", "local", { content: "iso", filename: "user-data-101.iso", data: Buffer.from("cloud-init seed") });
    expect(isUpid(upid)).toBe(true);
    const result = await api.waitForTask(upid);
    expect(result).toMatchObject({ exitstatus: "OK", type: "imgcopy" });
    const path = join(tmp, "big.iso");
    writeFileSync(path, Buffer.alloc(3 * 1024 * 1024, 0x41));
    await api.waitForTask(await api.uploadFile("pve1", "local", { content: "iso", filename: "big.iso", path }));
    const isos = await api.storageContent("pve1", "local", { content: "iso" });
    const byId = new Map(isos.map((v) => [v.volid, v]));
    expect(byId.get("local:iso/user-data-101.iso")?.size).toBe(15);
    expect(byId.get("local:iso/big.iso")?.size).toBe(3 * 1024 * 1024);
  });
});

describe("a VM's life", () => {
  it("clone → configure (async + sync) → resize → start → agent → shutdown → start/stop → delete", async () => {
    const vmid = await api.nextId();
    const cloneUpid = await api.cloneVm("pve1", 9000, { newid: vmid, name: "ci-worker-0", full: true, storage: "local-lvm", pool: "capi" });
    expect(cloneUpid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmclone:9000:root@pam!cozy:$/);
    const cloned = await api.waitForTask(cloneUpid);
    expect(cloned).toMatchObject({ exitstatus: "OK", warnings: 0, type: "qmclone", id: "9000", node: "pve1" });

    const template = await api.vmConfig("pve1", 9000);
    const config = await api.vmConfig("pve1", vmid);
    expect(config.name).toBe("ci-worker-0");
    expect(config.tags).toBe(template.tags);
    expect(config.template).toBeUndefined();
    expect(config.lock).toBeUndefined();
    expect(config.net0).toMatch(/^virtio=[0-9A-F:]{17},bridge=vmbr0/);
    expect(config.net0).not.toBe(template.net0);
    expect(config.smbios1).not.toBe(template.smbios1);
    expect(typeof config.digest).toBe("string");

    await api.waitForTask(await api.updateVmConfig("pve1", vmid, { cores: 4, onboot: true, description: "ci" }));
    await api.updateVmConfigSync("pve1", vmid, { memory: 8192, tags: "ci;k8s", delete: ["description"] });
    const updated = await api.vmConfig("pve1", vmid);
    expect(updated).toMatchObject({ cores: 4, onboot: 1, tags: "ci;k8s" });
    expect(String(updated.memory)).toBe("8192");
    expect(updated.description).toBeUndefined();

    await api.waitForTask(await api.resizeVmDisk("pve1", vmid, "scsi0", "+10G"));
    expect((await api.vmConfig("pve1", vmid)).scsi0).toMatch(/size=26G/); // the template's 16G + 10G

    expect((await api.vmStatus("pve1", vmid)).status).toBe("stopped");
    await api.waitForTask(await api.startVm("pve1", vmid));
    const running = await api.vmStatus("pve1", vmid);
    expect(running).toMatchObject({ vmid, status: "running" });

    const osinfo = await untilAgent(() => api.agentOsInfo("pve1", vmid));
    expect(typeof osinfo.id).toBe("string");
    const nics = await api.agentNetworkInterfaces("pve1", vmid);
    const eth = nics.find((n) => n.name !== "lo");
    expect(eth?.["hardware-address"]?.toUpperCase()).toBe(/virtio=([0-9A-F:]{17})/.exec(String(updated.net0))?.[1]);
    expect(eth?.["ip-addresses"]?.some((a) => a["ip-address-type"] === "ipv4")).toBe(true);
    const { pid } = await api.agentExec("pve1", vmid, ["hostname"]);
    expect(typeof pid).toBe("number");
    const exec = await until(() => api.agentExecStatus("pve1", vmid, pid), (s) => Boolean(s.exited));
    expect(exec.exitcode).toBe(0);

    await api.waitForTask(await api.shutdownVm("pve1", vmid, { timeout: 30 }));
    expect((await api.vmStatus("pve1", vmid)).status).toBe("stopped");
    await api.waitForTask(await api.startVm("pve1", vmid));
    await api.waitForTask(await api.stopVm("pve1", vmid));
    expect((await api.vmStatus("pve1", vmid)).status).toBe("stopped");

    const listed = await api.listVms("pve1");
    expect(listed.find((v) => v.vmid === vmid)).toMatchObject({ name: "ci-worker-0", status: "stopped" });
    expect(listed.find((v) => v.vmid === 9000)?.template).toBe(1);

    await api.waitForTask(await api.deleteVm("pve1", vmid, { purge: true, "destroy-unreferenced-disks": true }));
    const gone = await failure<ProxmoxApiError>(() => api.vmConfig("pve1", vmid));
    expect(gone.kind).toBe("not-found");
    expect(await api.isVmidFree(vmid)).toBe(true);
  });

  it("task logs: pages, total and tail", async () => {
    const vmid = await api.nextId();
    const upid = await api.cloneVm("pve1", 9000, { newid: vmid, full: true });
    await api.waitForTask(upid);
    const page = await api.taskLog(upid);
    expect(page.total).toBe(page.lines.length);
    expect(page.lines[0]?.n).toBe(1);
    expect(page.lines.at(-1)?.t).toBe("TASK OK");
    expect(await api.taskLogTail(upid, 1)).toEqual(["TASK OK"]);
    const status = await api.taskStatus(upid);
    expect(status).toMatchObject({ upid, node: "pve1", status: "stopped", exitstatus: "OK", type: "qmclone" });
    await api.waitForTask(await api.deleteVm("pve1", vmid));
  });

  it("no secret in the log events of all these calls", () => {
    expect(env.events.length).toBeGreaterThan(20);
    expectNoSecret(env.secrets, env.events, api);
  });
});

/** Polls until the guest agent answers (it starts after the VM boots). */
function untilAgent<T>(fn: () => Promise<T>): Promise<T> {
  return until(fn, () => true);
}

async function until<T>(fn: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (done(value)) return value;
    } catch (error) {
      const agentNotUp = error instanceof ProxmoxApiError && /guest agent is not running/.test(error.reason ?? "");
      if (!agentNotUp || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
