/**
 * QEMU VM endpoints: list, config (GET, async POST, sync PUT), clone, resize, delete; and the
 * (empty) LXC list capmox's scheduler reads.
 */
import type { Handler, HandlerContext } from "../context.js";
import { businessError, permissionError } from "../errors.js";
import { getProperty, parsePropertyString, parseSize } from "../property-string.js";
import { propertyFor } from "../schema.js";
import { driveVolume, isCdrom, isDriveKey, type LabVm } from "../state.js";
import { applyConfigChange, changeFromParams, configDigest, precheckConfigChange } from "./config-update.js";
import { allocateCloudinit, allocateDisk, driveSize, freeVmVolumes, imageStorage, isCloudinitDrive, withVolume } from "./disks.js";
import { checkLock, isTemplate, nicBridge, normalizeNic, vmStats, volidStorage, withSmbiosUuid } from "./vm-common.js";
import { newUuid } from "../ids.js";

function vmOf(ctx: HandlerContext): LabVm {
  return ctx.state.vmOn(ctx.need("node"), ctx.int("vmid") ?? 0);
}

const list: Handler = (ctx) => {
  const node = ctx.need("node");
  return [...ctx.state.vms.values()]
    .filter((vm) => vm.node === node && ctx.access.has(ctx.auth.authid, `/vms/${vm.vmid}`, ["VM.Audit"]))
    .sort((a, b) => a.vmid - b.vmid)
    .map((vm) => {
      const entry: Record<string, unknown> = {
        vmid: vm.vmid,
        name: vm.config["name"] ?? `VM ${vm.vmid}`,
        status: vm.status,
        ...vmStats(vm),
      };
      if (vm.pid !== undefined && vm.status === "running") entry["pid"] = vm.pid;
      // `template` is only present for templates (go-proxmox treats any value as true).
      if (isTemplate(vm)) entry["template"] = 1;
      if (vm.config["lock"] !== undefined) entry["lock"] = vm.config["lock"];
      if (vm.config["tags"] !== undefined) entry["tags"] = vm.config["tags"];
      if (vm.config["serial0"] !== undefined) entry["serial"] = 1;
      if (ctx.flag("full")) entry["qmpstatus"] = vm.qmpstatus;
      return entry;
    });
};

const vmIndex: Handler = (ctx) => {
  vmOf(ctx);
  return ["config", "pending", "status", "agent", "clone", "resize", "rrd", "rrddata", "firewall", "snapshot"].map((subdir) => ({ subdir }));
};

/** Config values typed as PVE's JSON encoder emits them: integer/boolean keys as numbers. */
const configGet: Handler = (ctx) => {
  const vm = vmOf(ctx);
  const snapshot = ctx.str("snapshot");
  if (snapshot !== undefined) throw businessError(`snapshot '${snapshot}' does not exist`);
  const props = ctx.api.returns?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(vm.config).sort()) {
    const value = vm.config[key] ?? "";
    const type = propertyFor(props, key)?.type;
    out[key] = (type === "integer" || type === "boolean") && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  out["digest"] = configDigest(vm.config);
  return out;
};

const configPost: Handler = async (ctx) => {
  const vm = vmOf(ctx);
  const change = changeFromParams(ctx.params);
  precheckConfigChange(ctx, vm, change);
  const upid = ctx.startTask({
    node: vm.node,
    type: "qmconfig",
    id: String(vm.vmid),
    work: () => {
      const current = ctx.state.vms.get(vm.vmid);
      if (!current) throw new Error(`Configuration file 'nodes/${vm.node}/qemu-server/${vm.vmid}.conf' does not exist`);
      checkLock(current, ctx.flag("skiplock") ?? false);
      applyConfigChange(ctx.state, current, change);
    },
  });
  const delay = ctx.int("background_delay");
  return delay === undefined ? upid : ctx.awaitTask(upid, delay, `failed to update VM ${vm.vmid}`);
};

const configPut: Handler = (ctx) => {
  const vm = vmOf(ctx);
  const change = changeFromParams(ctx.params);
  precheckConfigChange(ctx, vm, change);
  try {
    applyConfigChange(ctx.state, vm, change);
  } catch (e) {
    throw businessError((e as Error).message);
  }
  return null;
};

const pending: Handler = (ctx) => {
  const vm = vmOf(ctx);
  return Object.keys(vm.config)
    .sort()
    .map((key) => ({ key, value: vm.config[key] }));
};

interface DiskPlan {
  readonly key: string;
  readonly value: string;
  readonly volid: string;
  readonly storage: string;
}

/** What a clone was asked for, after the parameters are read. */
interface CloneRequest {
  readonly node: string;
  readonly source: LabVm;
  readonly newid: number;
  readonly pool: string | undefined;
  /** Another node, or undefined for the source's own. */
  readonly target: string | undefined;
  readonly full: boolean;
  readonly storage: string | undefined;
  readonly format: string | undefined;
}

/** Clone's synchronous checks (qemu-server clone_vm), then a qmclone task. */
const clone: Handler = (ctx) => {
  const request = cloneRequest(ctx);
  checkCloneRequest(ctx, request);
  const disks = planCloneDisks(ctx, request);
  checkCloneNics(ctx, request.source);
  if (ctx.state.vms.has(request.newid)) throw businessError(`unable to create VM ${request.newid}: config file already exists`);
  const created = createClone(ctx, request, disks);
  const { node, source, newid, full } = request;
  return ctx.startTask({
    node,
    type: "qmclone",
    id: String(source.vmid),
    summary: `qmclone ${source.vmid} → VM ${newid} '${created.config["name"] ?? ""}' on ${created.node}`,
    log: disks.map((d) => `create ${full ? "full" : "linked"} clone of drive ${d.key} (${d.volid})`),
    work: () => copyCloneDisks(ctx, request, disks, created),
    onError: () => {
      ctx.state.removeVm(newid);
      for (const v of ctx.state.volumes.filter((x) => x.vmid === newid)) ctx.state.removeVolume(v);
    },
  });
};

function cloneRequest(ctx: HandlerContext): CloneRequest {
  const node = ctx.need("node");
  const source = vmOf(ctx);
  const target = ctx.str("target");
  return {
    node,
    source,
    newid: ctx.int("newid") ?? 0,
    pool: ctx.str("pool"),
    target: target === node ? undefined : target,
    full: ctx.flag("full") ?? !isTemplate(source),
    storage: ctx.str("storage"),
    format: ctx.str("format"),
  };
}

/** The target node, the pool, the source's lock and snapshot, and what a linked clone refuses. */
function checkCloneRequest(ctx: HandlerContext, { target, pool, source, full, storage, format }: CloneRequest): void {
  if (target !== undefined) {
    const t = ctx.state.node(target);
    if (!t) throw businessError(`no such cluster node '${target}'`);
    if (!t.online) throw businessError(`target node '${target}' is not online`);
  }
  if (pool !== undefined && !ctx.state.pools.has(pool)) throw permissionError(`pool '${pool}' does not exist`);
  checkLock(source);
  const snapname = ctx.str("snapname");
  if (snapname !== undefined) throw businessError(`snapshot '${snapname}' does not exist`);
  if (storage !== undefined && !full) throw businessError("parameter 'storage' not allowed for linked clones");
  if (format !== undefined && !full) throw businessError("parameter 'format' not allowed for linked clones");
}

/**
 * The source's disks and where each copy goes. As PVE: a clone may go to another node only
 * when every source disk is on shared storage, and an explicit target storage must then be
 * shared too.
 */
function planCloneDisks(ctx: HandlerContext, { node, source, target, full, storage }: CloneRequest): DiskPlan[] {
  const disks: DiskPlan[] = [];
  let sourceShared = true;
  for (const [key, value] of Object.entries(source.config)) {
    if (!isDriveKey(key) || key.startsWith("unused")) continue;
    if (isCdrom(value) && !isCloudinitDrive(value)) continue;
    const volid = driveVolume(value);
    if (!volid) continue;
    if (ctx.state.storages.get(volidStorage(volid))?.shared !== true) sourceShared = false;
    const dst = full && storage !== undefined ? storage : volidStorage(volid);
    ctx.access.check(ctx.auth.authid, `/storage/${dst}`, ["Datastore.AllocateSpace"]);
    if (!ctx.state.storages.get(dst)) throw businessError(`storage '${dst}' does not exist`);
    disks.push({ key, value, volid, storage: dst });
  }
  if (storage !== undefined) {
    const st = imageStorage(ctx.state, storage, target ?? node);
    if (target !== undefined && !st.shared) throw businessError(`can't clone to non-shared storage '${storage}'`);
  }
  if (target !== undefined && !sourceShared) throw businessError(`can't clone VM to node '${target}' (VM uses local storage)`);
  return disks;
}

/** The caller may use every bridge the source's NICs are on. */
function checkCloneNics(ctx: HandlerContext, source: LabVm): void {
  for (const [key, value] of Object.entries(source.config)) {
    if (!/^net\d+$/.test(key)) continue;
    const bridge = nicBridge(value);
    if (bridge !== undefined) ctx.access.check(ctx.auth.authid, `/sdn/zones/localnetwork/${bridge}`, ["SDN.Use"]);
  }
}

/** The new VM exists at once, locked, with new MACs and a new SMBIOS uuid; disks come with the task. */
function createClone(ctx: HandlerContext, { node, source, newid, pool, target }: CloneRequest, disks: readonly DiskPlan[]): LabVm {
  const config: Record<string, string> = { lock: "clone" };
  for (const [key, value] of Object.entries(source.config)) {
    if (key === "template" || key === "lock" || key === "parent" || key.startsWith("unused") || key === "digest") continue;
    if (disks.some((d) => d.key === key)) continue;
    if (/^net\d+$/.test(key)) config[key] = normalizeNic(ctx.state, value, true);
    else if (key === "vmgenid") config[key] = newUuid(ctx.state.random);
    else config[key] = value;
  }
  config["smbios1"] = withSmbiosUuid(source.config["smbios1"], ctx.state.newSmbiosUuid());
  config["name"] = ctx.str("name") ?? `Copy-of-VM-${source.config["name"] ?? source.vmid}`;
  const description = ctx.str("description");
  if (description !== undefined) config["description"] = description;
  const created: LabVm = {
    vmid: newid,
    node: target ?? node,
    config,
    status: "stopped",
    qmpstatus: "stopped",
    execs: new Map(),
    ...(pool === undefined ? {} : { pool }),
  };
  ctx.state.addVm(created);
  return created;
}

/** The qmclone task's work: each planned disk copied (full) or based on the template's (linked); the lock goes. */
function copyCloneDisks(ctx: HandlerContext, { node, source, newid, full, format }: CloneRequest, disks: readonly DiskPlan[], created: LabVm): string[] {
  const lines: string[] = [];
  const src = ctx.state.vms.get(source.vmid);
  if (!src) throw new Error(`clone failed: Configuration file 'nodes/${node}/qemu-server/${source.vmid}.conf' does not exist`);
  const dstNode = created.node;
  for (const d of disks) {
    const srcVol = ctx.state.findVolume(d.volid, node);
    const size = srcVol?.size ?? driveSize(d.value) ?? 0;
    if (isCloudinitDrive(d.value)) {
      created.config[d.key] = withVolume(d.value, allocateCloudinit(ctx.state, d.storage, dstNode, newid));
      continue;
    }
    if (!full) {
      if (!srcVol || !/^base-/.test(srcVol.volname.split("/").pop() ?? "")) {
        throw new Error("clone failed: clone_image only works on base images");
      }
      const volid = allocateDisk(ctx.state, { storage: d.storage, node: dstNode, vmid: newid, size, baseName: srcVol.volname, parent: `${srcVol.volname}@__base__` });
      created.config[d.key] = withVolume(d.value, volid, size);
    } else {
      const volid = allocateDisk(ctx.state, { storage: d.storage, node: dstNode, vmid: newid, size, ...(format ? { format } : {}) });
      created.config[d.key] = withVolume(d.value, volid, size);
      lines.push(`  Logical volume "${volid.split(":")[1] ?? volid}" created.`, `transferred ${size} B of ${size} B (100.00%)`);
    }
  }
  delete created.config["lock"];
  return lines;
}

const resize: Handler = (ctx) => {
  const vm = vmOf(ctx);
  ctx.rootOnly("skiplock");
  checkLock(vm, ctx.flag("skiplock") ?? false);
  const digest = ctx.str("digest");
  if (digest !== undefined && digest !== configDigest(vm.config)) {
    throw businessError("detected modified configuration - file changed by other user? Try again.");
  }
  const disk = ctx.need("disk");
  const value = vm.config[disk];
  if (value === undefined) throw businessError(`disk '${disk}' does not exist`);
  if (isCdrom(value)) throw businessError("you can't resize a cdrom");
  const volid = driveVolume(value);
  if (!volid) throw businessError(`disk '${disk}' has no volume`);
  ctx.access.check(ctx.auth.authid, `/storage/${volidStorage(volid)}`, ["Datastore.AllocateSpace"]);
  const sizeText = ctx.need("size");
  return ctx.startTask({
    node: vm.node,
    type: "resize",
    id: String(vm.vmid),
    work: () => {
      const vol = ctx.state.findVolume(volid, vm.node);
      const current = vol?.size ?? driveSize(value) ?? 0;
      const amount = parseSize(sizeText) ?? 0;
      const next = sizeText.startsWith("+") ? current + amount : amount;
      if (next < current) throw new Error("shrinking disks is not supported");
      if (vol) vol.size = next;
      const now = ctx.state.vms.get(vm.vmid);
      const drive = now?.config[disk];
      if (now && drive !== undefined) now.config[disk] = withVolume(drive, volid, next);
      return [`  Size of logical volume pve/${volid.split(":")[1] ?? ""} changed from ${current} B to ${next} B.`];
    },
  });
};

const destroy: Handler = (ctx) => {
  const vm = vmOf(ctx);
  ctx.rootOnly("skiplock");
  checkLock(vm, ctx.flag("skiplock") ?? false);
  if (getProperty(parsePropertyString(vm.config["protection"] ?? ""), "") === "1") {
    throw businessError(`can't remove VM ${vm.vmid} - protection mode enabled`);
  }
  if (vm.status === "running") throw businessError(`VM ${vm.vmid} is running - destroy failed`);
  const unreferenced = ctx.flag("destroy-unreferenced-disks") ?? false;
  const node = vm.node;
  vm.config = { ...vm.config, lock: "destroyed" };
  return ctx.startTask({
    node,
    type: "qmdestroy",
    id: String(vm.vmid),
    summary: `qmdestroy VM ${vm.vmid} '${vm.config["name"] ?? ""}' on ${node}`,
    work: () => {
      const { lock: _lock, ...config } = vm.config;
      const lines = freeVmVolumes(ctx.state, vm.vmid, node, config, unreferenced);
      ctx.state.removeVm(vm.vmid);
      ctx.state.acl = ctx.state.acl.filter((e) => e.path !== `/vms/${vm.vmid}`);
      return lines;
    },
    onError: () => {
      const { lock: _lock, ...config } = vm.config;
      vm.config = config;
    },
  });
};

const lxcList: Handler = () => [];

export const qemuHandlers: Record<string, Handler> = {
  "GET /nodes/{node}/qemu": list,
  "GET /nodes/{node}/qemu/{vmid}": vmIndex,
  "GET /nodes/{node}/qemu/{vmid}/config": configGet,
  "POST /nodes/{node}/qemu/{vmid}/config": configPost,
  "PUT /nodes/{node}/qemu/{vmid}/config": configPut,
  "GET /nodes/{node}/qemu/{vmid}/pending": pending,
  "POST /nodes/{node}/qemu/{vmid}/clone": clone,
  "PUT /nodes/{node}/qemu/{vmid}/resize": resize,
  "DELETE /nodes/{node}/qemu/{vmid}": destroy,
  "GET /nodes/{node}/lxc": lxcList,
};
