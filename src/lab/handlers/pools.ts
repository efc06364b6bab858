/**
 * Resource pools (PVE/API2/Pool.pm): list, read with members (VMs and storages), create,
 * add or remove members, delete an empty pool. Privileges granted on /pool/<id> reach the
 * member VMs and storages (src/lab/access.ts).
 */
import type { Handler, HandlerContext } from "../context.js";
import { businessError, permissionError, PveError } from "../errors.js";
import type { LabPool } from "../state.js";
import { storageSummary } from "./storage.js";
import { vmResource } from "./vm-common.js";

function storageMembers(ctx: HandlerContext, p: LabPool): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const id of [...p.storages].sort()) {
    const st = ctx.state.storages.get(id);
    if (!st) continue;
    for (const node of ctx.state.nodes.values()) {
      if (!ctx.state.storageOn(id, node.name)) continue;
      const s = storageSummary(ctx.state, st, node.name);
      out.push({ id: `storage/${node.name}/${id}`, type: "storage", storage: id, node: node.name, content: s["content"], shared: s["shared"], status: node.online ? "available" : "unknown", ...(node.online ? { disk: s["used"], maxdisk: s["total"] } : {}) });
    }
  }
  return out;
}

function members(ctx: HandlerContext, p: LabPool, type: string | undefined): Array<Record<string, unknown>> {
  const vms = [...ctx.state.vms.values()].filter((vm) => vm.pool === p.id).sort((a, b) => a.vmid - b.vmid).map((vm) => vmResource(ctx.state, vm));
  if (type === "qemu") return vms;
  if (type === "storage") return storageMembers(ctx, p);
  if (type !== undefined) return [];
  return [...vms, ...storageMembers(ctx, p)];
}

function poolOf(ctx: HandlerContext): LabPool {
  const poolid = ctx.need("poolid");
  const p = ctx.state.pools.get(poolid);
  if (!p) throw new PveError(500, `pool '${poolid}' does not exist`);
  return p;
}

const list: Handler = (ctx) => {
  const poolid = ctx.str("poolid");
  return [...ctx.state.pools.values()]
    .filter((p) => poolid === undefined || p.id === poolid)
    .filter((p) => ctx.access.has(ctx.auth.authid, `/pool/${p.id}`, ["Pool.Audit"]))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p) => ({
      poolid: p.id,
      ...(p.comment === undefined ? {} : { comment: p.comment }),
      ...(poolid === undefined ? {} : { members: members(ctx, p, ctx.str("type")) }),
    }));
};

const read: Handler = (ctx) => {
  const p = poolOf(ctx);
  return { ...(p.comment === undefined ? {} : { comment: p.comment }), members: members(ctx, p, ctx.str("type")) };
};

const create: Handler = (ctx) => {
  const poolid = ctx.need("poolid");
  if (ctx.state.pools.has(poolid)) throw businessError(`create pool failed: pool '${poolid}' already exists`);
  const comment = ctx.str("comment");
  ctx.state.pools.set(poolid, { id: poolid, storages: new Set(), ...(comment === undefined ? {} : { comment }) });
  return null;
};

function requireModify(ctx: HandlerContext, path: string): void {
  if (!ctx.access.mayModify(ctx.auth.authid, path)) throw permissionError(`${path}, Permissions.Modify|${path.startsWith("/vms") ? "VM.Allocate" : "Datastore.Allocate"}`);
}

function updateVms(ctx: HandlerContext, p: LabPool, remove: boolean): void {
  for (const text of (ctx.str("vms") ?? "").split(/[,;\s]+/).filter(Boolean)) {
    const vmid = Number(text);
    requireModify(ctx, `/vms/${vmid}`);
    const vm = ctx.state.vms.get(vmid);
    if (remove) {
      if (vm?.pool !== p.id) throw businessError(`VM ${vmid} is not a pool member`);
      delete vm.pool;
      continue;
    }
    if (vm?.pool === p.id) throw businessError(`VM ${vmid} is already a pool member`);
    if (vm?.pool !== undefined && !ctx.flag("allow-move")) throw businessError(`VM ${vmid} belongs already to pool '${vm.pool}' and 'allow-move' is not set`);
    if (!vm) throw businessError(`VM ${vmid} does not exist`);
    vm.pool = p.id;
  }
}

function updateStorages(ctx: HandlerContext, p: LabPool, remove: boolean): void {
  for (const id of (ctx.str("storage") ?? "").split(/[,;\s]+/).filter(Boolean)) {
    requireModify(ctx, `/storage/${id}`);
    if (remove) {
      if (!p.storages.delete(id)) throw businessError(`Storage '${id}' is not a pool member`);
      continue;
    }
    if (p.storages.has(id)) throw businessError(`Storage '${id}' is already a pool member`);
    if (!ctx.state.storages.has(id)) throw businessError(`Storage '${id}' does not exist`);
    p.storages.add(id);
  }
}

const update: Handler = (ctx) => {
  const p = poolOf(ctx);
  const remove = ctx.flag("delete") ?? false;
  const comment = ctx.str("comment");
  if (comment !== undefined) p.comment = comment;
  updateVms(ctx, p, remove);
  updateStorages(ctx, p, remove);
  return null;
};

const remove: Handler = (ctx) => {
  const p = poolOf(ctx);
  if (p.storages.size > 0 || [...ctx.state.vms.values()].some((vm) => vm.pool === p.id)) throw businessError(`pool '${p.id}' is not empty`);
  ctx.state.pools.delete(p.id);
  return null;
};

export const poolHandlers: Record<string, Handler> = {
  "GET /pools": list,
  "GET /pools/{poolid}": read,
  "POST /pools": create,
  "PUT /pools": update,
  "PUT /pools/{poolid}": update,
  "DELETE /pools": remove,
  "DELETE /pools/{poolid}": remove,
};
