/**
 * VM semantics over HTTPS with plain requests: nextid, clone (full/linked, lock, new MACs and
 * SMBIOS uuid, target node rules), config (async POST / sync PUT), resize, power transitions,
 * the guest agent, tasks and logs, delete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScenario, startLab, type LabHandle, type Scenario } from "../../../lab/index.js";
import { call, data, eventually, taskLog, waitTask } from "./helpers.js";

let lab: LabHandle;

beforeAll(async () => {
  lab = await startLab({ taskDurationMs: 40 });
});
afterAll(async () => {
  await lab?.stop();
});

type Config = Record<string, string | number>;

async function cloneTemplate(newid: number, extra: Record<string, unknown> = {}): Promise<string> {
  const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid, name: `vm-${newid}`, ...extra } });
  expect((await waitTask(lab, upid)).exitstatus).toBe("OK");
  return upid;
}

describe("nextid", () => {
  it("returns the lowest free VMID as a string and honours VMIDs in use", async () => {
    expect(await data(lab, "GET", "/cluster/nextid")).toBe("100");
    expect(await data(lab, "GET", "/cluster/nextid?vmid=4242")).toBe("4242");
    const taken = await call(lab, "GET", "/cluster/nextid?vmid=9000");
    expect([taken.status, taken.statusText]).toEqual([400, "Parameter verification failed."]);
    expect(taken.body?.errors).toEqual({ vmid: "VM 9000 already exists" });
  });
});

describe("clone → configure → start → agent → stop → delete", () => {
  it("runs the whole cycle with PVE's semantics", async () => {
    const tmpl = await data<Config>(lab, "GET", "/nodes/pve1/qemu/9000/config");
    lab.state.timing.taskDurations["qmclone"] = 600; // long enough to look at the locked VM
    const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", {
      form: { newid: "101", name: "k8s-worker-0", full: "1", storage: "local-lvm", format: "qcow2" },
    });
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmclone:9000:root@pam!cozy:$/);
    // The new VM exists at once, locked, and refuses work until the clone ends.
    const locked = await data<Config>(lab, "GET", "/nodes/pve1/qemu/101/config");
    expect(locked["lock"]).toBe("clone");
    const busy = await call(lab, "POST", "/nodes/pve1/qemu/101/config", { json: { cores: 2 } });
    expect([busy.status, busy.statusText]).toEqual([500, "VM is locked (clone)"]);
    const resources = await data<Array<Record<string, unknown>>>(lab, "GET", "/cluster/resources?type=vm");
    expect(resources.find((r) => r["vmid"] === 101)).toMatchObject({ lock: "clone", template: 0, status: "stopped" });
    expect(await data(lab, "GET", "/cluster/nextid")).toBe("100");
    const checkTaken = await call(lab, "GET", "/cluster/nextid?vmid=101");
    expect(checkTaken.body?.errors).toEqual({ vmid: "VM 101 already exists" });

    expect(await waitTask(lab, upid)).toMatchObject({ status: "stopped", exitstatus: "OK", type: "qmclone", node: "pve1" });
    delete lab.state.timing.taskDurations["qmclone"];
    const log = await taskLog(lab, upid);
    // The template's disk is on the shared ceph-vm; a full clone may still land on a local storage of the same node.
    expect(log[0]).toBe("create full clone of drive scsi0 (ceph-vm:base-9000-disk-0)");
    expect(log.at(-1)).toBe("TASK OK");

    const cfg = await data<Config>(lab, "GET", "/nodes/pve1/qemu/101/config");
    expect(cfg["lock"]).toBeUndefined();
    expect(cfg["name"]).toBe("k8s-worker-0");
    expect(cfg["tags"]).toBe(tmpl["tags"]);
    expect(cfg["template"]).toBeUndefined();
    expect(cfg["cores"]).toBe(2);
    expect(cfg["memory"]).toBe("4096");
    expect(cfg["scsi0"]).toBe("local-lvm:vm-101-disk-0,discard=on,iothread=1,size=16G");
    expect(cfg["net0"]).toMatch(/^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0,firewall=1$/);
    expect(cfg["net0"]).not.toBe(tmpl["net0"]);
    expect(cfg["smbios1"]).toMatch(/^uuid=[0-9a-f-]{36}$/);
    expect(cfg["smbios1"]).not.toBe(tmpl["smbios1"]);
    expect(cfg["vmgenid"]).not.toBe(tmpl["vmgenid"]);
    expect(cfg["digest"]).toMatch(/^[0-9a-f]{40}$/);

    // Async config: a qmconfig task; a NIC without MAC gets a new one.
    const cfgTask = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/config", {
      json: { cores: 4, memory: 8192, net0: "virtio,bridge=vmbr0,tag=100", tags: "k8s-template;ubuntu-2404;worker", ide2: "local-lvm:cloudinit", ipconfig0: "ip=10.0.0.51/24,gw=10.0.0.1" },
    });
    expect(cfgTask).toContain(":qmconfig:101:");
    await waitTask(lab, cfgTask);
    // Sync config: null.
    expect(await data(lab, "PUT", "/nodes/pve1/qemu/101/config", { json: { description: "worker", delete: "serial0" } })).toBeNull();
    const resizeTask = await data<string>(lab, "PUT", "/nodes/pve1/qemu/101/resize", { json: { disk: "scsi0", size: "+8G" } });
    expect(resizeTask).toContain(":resize:101:");
    await waitTask(lab, resizeTask);
    const cfg2 = await data<Config>(lab, "GET", "/nodes/pve1/qemu/101/config");
    expect(cfg2).toMatchObject({ cores: 4, memory: "8192", description: "worker", tags: "k8s-template;ubuntu-2404;worker" });
    expect(cfg2["serial0"]).toBeUndefined();
    expect(cfg2["net0"]).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,tag=100$/);
    expect(cfg2["ide2"]).toBe("local-lvm:vm-101-cloudinit,media=cdrom");
    expect(cfg2["scsi0"]).toBe("local-lvm:vm-101-disk-0,discard=on,iothread=1,size=24G");
    const shrink = await data<string>(lab, "PUT", "/nodes/pve1/qemu/101/resize", { json: { disk: "scsi0", size: "20G" } });
    expect(await waitTask(lab, shrink)).toMatchObject({ exitstatus: "shrinking disks is not supported" });
    expect((await taskLog(lab, shrink)).at(-1)).toBe("TASK ERROR: shrinking disks is not supported");

    // Agent before start: not running.
    const early = await call(lab, "GET", "/nodes/pve1/qemu/101/agent/get-osinfo");
    expect(early.statusText).toBe("VM 101 is not running");

    const start = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/status/start");
    await waitTask(lab, start);
    const current = await data<Record<string, unknown>>(lab, "GET", "/nodes/pve1/qemu/101/status/current");
    expect(current).toMatchObject({ status: "running", qmpstatus: "running", vmid: 101, agent: 1, cpus: 4, maxmem: 8192 * 1024 * 1024 });
    expect(current["pid"]).toEqual(expect.any(Number));
    const again = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/status/start");
    expect(await waitTask(lab, again)).toMatchObject({ exitstatus: "VM 101 already running" });

    // The agent answers after its boot delay.
    const osinfo = await eventually(() => data<{ result: Record<string, string> }>(lab, "GET", "/nodes/pve1/qemu/101/agent/get-osinfo"));
    expect(osinfo.result["id"]).toBe("ubuntu");
    const ifaces = await data<{ result: Array<Record<string, unknown>> }>(lab, "GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces");
    expect(ifaces.result.map((i) => i["name"])).toEqual(["lo", "eth0"]);
    expect(ifaces.result[1]).toMatchObject({ "hardware-address": String(cfg2["net0"]).slice(7, 24).toLowerCase() });
    expect(ifaces.result[1]?.["ip-addresses"]).toContainEqual({ "ip-address": "10.0.0.51", "ip-address-type": "ipv4", prefix: 24 });
    const exec = await data<{ pid: number }>(lab, "POST", "/nodes/pve1/qemu/101/agent/exec", { form: { command: ["cloud-init", "status"] } });
    const done = await eventually(async () => {
      const s = await data<Record<string, unknown>>(lab, "GET", `/nodes/pve1/qemu/101/agent/exec-status?pid=${exec.pid}`);
      if (s["exited"] !== 1) throw new Error("still running");
      return s;
    });
    expect(done).toEqual({ exited: 1, exitcode: 0, "out-data": "status: done\n" });
    const missing = await call(lab, "POST", "/nodes/pve1/qemu/101/agent/exec", { json: { command: ["no-such-binary"] } });
    expect(missing.statusText).toMatch(/^Agent error: Guest agent command failed/);

    const running = await call(lab, "DELETE", "/nodes/pve1/qemu/101");
    expect([running.status, running.statusText]).toEqual([500, "VM 101 is running - destroy failed"]);
    await waitTask(lab, await data<string>(lab, "POST", "/nodes/pve1/qemu/101/status/shutdown"));
    expect((await data<Record<string, unknown>>(lab, "GET", "/nodes/pve1/qemu/101/status/current"))["status"]).toBe("stopped");
    const stopStopped = await data<string>(lab, "POST", "/nodes/pve1/qemu/101/status/stop");
    expect((await waitTask(lab, stopStopped)).exitstatus).toBe("OK");

    const del = await data<string>(lab, "DELETE", "/nodes/pve1/qemu/101?purge=1&destroy-unreferenced-disks=1");
    expect(del).toContain(":qmdestroy:101:");
    expect((await data<Config>(lab, "GET", "/nodes/pve1/qemu/101/config"))["lock"]).toBe("destroyed");
    await waitTask(lab, del);
    const gone = await call(lab, "GET", "/nodes/pve1/qemu/101/config");
    expect(gone.statusText).toBe("Configuration file 'nodes/pve1/qemu-server/101.conf' does not exist");
    expect(lab.state.volumes.filter((v) => v.vmid === 101)).toEqual([]);
    expect(await data(lab, "GET", "/cluster/nextid?vmid=101")).toBe("101");
    // a person watching the lab's log sees the VM come and go
    expect(lab.log.filter((l) => l.includes("VM 101"))).toEqual([
      "qmclone 9000 → VM 101 'k8s-worker-0' on pve1: OK",
      "qmstart VM 101 'k8s-worker-0' on pve1: OK",
      "qmstart VM 101 'k8s-worker-0' on pve1: VM 101 already running",
      "qmshutdown VM 101 'k8s-worker-0' on pve1: OK",
      "qmstop VM 101 'k8s-worker-0' on pve1: OK",
      "qmdestroy VM 101 'k8s-worker-0' on pve1: OK",
    ]);
  });
});

describe("clone rules", () => {
  it("makes linked clones of templates by default and refuses storage/format for them", async () => {
    await cloneTemplate(110);
    const cfg = await data<Config>(lab, "GET", "/nodes/pve1/qemu/110/config");
    expect(cfg["scsi0"]).toBe("ceph-vm:base-9000-disk-0/vm-110-disk-0,discard=on,iothread=1,size=16G");
    const content = await data<Array<Record<string, unknown>>>(lab, "GET", "/nodes/pve1/storage/ceph-vm/content?vmid=110");
    expect(content).toEqual([expect.objectContaining({ volid: "ceph-vm:base-9000-disk-0/vm-110-disk-0", parent: "base-9000-disk-0@__base__", size: 16 * 1024 ** 3 })]);
    // Shared storage: every node sees the same volume; nothing landed on the local storage.
    expect(await data(lab, "GET", "/nodes/pve3/storage/ceph-vm/content?vmid=110")).toEqual(content);
    expect(await data(lab, "GET", "/nodes/pve1/storage/local-lvm/content?vmid=110")).toEqual([]);
    const bad = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 111, full: 0, storage: "local-lvm" } });
    expect([bad.status, bad.statusText]).toEqual([500, "parameter 'storage' not allowed for linked clones"]);
    const taken = await call(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 110 } });
    expect(taken.statusText).toBe("unable to create VM 110: config file already exists");
    const fromClone = await data<string>(lab, "POST", "/nodes/pve1/qemu/110/clone", { json: { newid: 112, full: 0 } });
    expect(await waitTask(lab, fromClone)).toMatchObject({ exitstatus: "clone failed: clone_image only works on base images" });
    expect(lab.state.vms.has(112)).toBe(false);
  });

  it("refuses a target node with local storage and clones there with shared storage", async () => {
    // The default template sits on the shared ceph-vm: capmox's path, a clone on pve1 with target = another node.
    const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 120, name: "vm-120", target: "pve2" } });
    expect(await waitTask(lab, upid)).toMatchObject({ exitstatus: "OK", node: "pve1" });
    expect((await data<Config>(lab, "GET", "/nodes/pve2/qemu/120/config"))["scsi0"]).toBe("ceph-vm:base-9000-disk-0/vm-120-disk-0,discard=on,iothread=1,size=16G");
    expect((await call(lab, "GET", "/nodes/pve1/qemu/120/config")).status).toBe(500);

    // The same template with its disk on the node-local local-lvm may not be cloned to another node;
    // a template on a shared NFS storage may, also as a full clone.
    const base = defaultScenario();
    const template = base.vms?.[0];
    if (!template) throw new Error("the default scenario has no template");
    const scenario: Scenario = {
      ...base,
      storages: [...base.storages, { id: "nfs", type: "nfs", content: ["images", "iso"], shared: true }],
      vms: [
        { ...template, config: { ...template.config, scsi0: "local-lvm:base-9000-disk-0,discard=on,iothread=1,size=32G" } },
        { vmid: 9001, node: "pve1", config: { name: "shared-tmpl", template: 1, scsi0: "nfs:9001/base-9001-disk-0.qcow2,size=8G", net0: "virtio=BC:24:11:00:00:09,bridge=vmbr0" } },
      ],
    };
    const other = await startLab({ http: true, scenario, taskDurationMs: 10 });
    try {
      const local = await call(other, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 120, target: "pve2" } });
      expect([local.status, local.statusText]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
      const localFull = await call(other, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 120, target: "pve2", full: 1 } });
      expect([localFull.status, localFull.statusText]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
      // The source decides, as in PVE: a local template may not go to a shared storage on another node either,
      const toShared = await call(other, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 120, target: "pve2", full: 1, storage: "nfs" } });
      expect([toShared.status, toShared.statusText]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
      // and a shared template may not go to a node-local storage on another node.
      const toLocal = await call(other, "POST", "/nodes/pve1/qemu/9001/clone", { json: { newid: 120, target: "pve2", full: 1, storage: "local-lvm" } });
      expect([toLocal.status, toLocal.statusText]).toEqual([500, "can't clone to non-shared storage 'local-lvm'"]);
      expect(other.state.vms.has(120)).toBe(false);
      // Without a target the local template still clones, on its own node.
      const here = await data<string>(other, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 121 } });
      expect(await waitTask(other, here)).toMatchObject({ exitstatus: "OK", node: "pve1" });
      expect((await data<Config>(other, "GET", "/nodes/pve1/qemu/121/config"))["scsi0"]).toBe("local-lvm:base-9000-disk-0/vm-121-disk-0,discard=on,iothread=1,size=32G");

      const upid = await data<string>(other, "POST", "/nodes/pve1/qemu/9001/clone", { json: { newid: 130, target: "pve2", full: 1 } });
      expect(await waitTask(other, upid)).toMatchObject({ exitstatus: "OK", node: "pve1" });
      const cfg = await data<Config>(other, "GET", "/nodes/pve2/qemu/130/config");
      expect(cfg["scsi0"]).toBe("nfs:130/vm-130-disk-0.qcow2,size=8G");
      expect((await call(other, "GET", "/nodes/pve1/qemu/130/config")).status).toBe(500);
    } finally {
      await other.stop();
    }
  });
});

describe("start failures and state edits", () => {
  it("fails the start task when the bridge is gone, like PVE", async () => {
    await cloneTemplate(140, { full: 1 });
    const node = lab.state.node("pve1");
    const saved = node?.bridges ?? [];
    if (node) node.bridges = [];
    try {
      const upid = await data<string>(lab, "POST", "/nodes/pve1/qemu/140/status/start");
      expect(await waitTask(lab, upid)).toMatchObject({ exitstatus: "bridge 'vmbr0' does not exist" });
      expect(await data(lab, "GET", "/nodes/pve1/network?type=bridge")).toEqual([]);
    } finally {
      if (node) node.bridges = saved;
    }
    const tmplStart = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/status/start");
    expect(await waitTask(lab, tmplStart)).toMatchObject({ exitstatus: "you can't start a vm if it's a template" });
  });

  it("fails a start issued under lock: clone, even when the clone ends first", async () => {
    // PVE's start worker checks the lock as it begins; a client that skips waiting for the clone task must see it.
    lab.state.timing.taskDurations["qmclone"] = 100;
    lab.state.timing.taskDurations["qmstart"] = 400;
    try {
      const clone = await data<string>(lab, "POST", "/nodes/pve1/qemu/9000/clone", { json: { newid: 145, name: "early-start" } });
      const start = await data<string>(lab, "POST", "/nodes/pve1/qemu/145/status/start");
      expect((await waitTask(lab, clone)).exitstatus).toBe("OK");
      expect((await data<Config>(lab, "GET", "/nodes/pve1/qemu/145/config"))["lock"]).toBeUndefined();
      expect(await waitTask(lab, start)).toMatchObject({ status: "stopped", exitstatus: "VM is locked (clone)" });
      expect((await taskLog(lab, start)).at(-1)).toBe("TASK ERROR: VM is locked (clone)");
      expect((await data<Config>(lab, "GET", "/nodes/pve1/qemu/145/status/current"))["status"]).toBe("stopped");
    } finally {
      delete lab.state.timing.taskDurations["qmclone"];
      delete lab.state.timing.taskDurations["qmstart"];
    }
  });

  it("answers agent errors as PVE does", async () => {
    await cloneTemplate(150, { full: 1 });
    await data(lab, "PUT", "/nodes/pve1/qemu/150/config", { json: { agent: "0" } });
    await waitTask(lab, await data<string>(lab, "POST", "/nodes/pve1/qemu/150/status/start"));
    const off = await call(lab, "GET", "/nodes/pve1/qemu/150/agent/get-osinfo");
    expect([off.status, off.statusText]).toEqual([500, "No QEMU guest agent configured"]);
    await cloneTemplate(151, { full: 1 });
    lab.state.timing.agentBootDelayMs = 60_000;
    await waitTask(lab, await data<string>(lab, "POST", "/nodes/pve1/qemu/151/status/start"));
    const booting = await call(lab, "GET", "/nodes/pve1/qemu/151/agent/get-osinfo");
    expect(booting.statusText).toBe("QEMU guest agent is not running");
    lab.state.timing.agentBootDelayMs = 80;
  });

  it("shows a cloud-init drive a test adds to the template", async () => {
    const tmpl = lab.state.vms.get(9000);
    if (!tmpl) throw new Error("template missing");
    tmpl.config["ide2"] = "local-lvm:vm-9000-cloudinit,media=cdrom";
    try {
      const cfg = await data<Config>(lab, "GET", "/nodes/pve1/qemu/9000/config");
      expect(cfg["ide2"]).toBe("local-lvm:vm-9000-cloudinit,media=cdrom");
    } finally {
      delete tmpl.config["ide2"];
    }
  });

  it("lists tasks per node with filters and a total", async () => {
    const list = await call(lab, "GET", "/nodes/pve1/tasks?typefilter=qmclone&limit=2");
    expect(list.body?.total).toBeGreaterThanOrEqual(3);
    expect((list.body?.data as unknown[]).length).toBe(2);
    const readonly = await call(lab, "GET", "/nodes/pve1/tasks", { token: lab.tokens.readonly });
    expect(readonly.body?.total).toBeGreaterThan(0); // PVEAuditor has Sys.Audit on /nodes
  });
});
