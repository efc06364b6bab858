/**
 * Datacenter-wide endpoints: /version, /cluster/status, /cluster/resources, /cluster/nextid
 * (the pools are in pools.ts).
 */
import type { Handler, HandlerContext } from "../context.js";
import { businessError, paramError } from "../errors.js";
import { nodeSummary } from "./nodes.js";
import { storageSummary } from "./storage.js";
import { vmResource } from "./vm-common.js";

const version: Handler = (ctx) => ({ ...ctx.state.version });

const clusterStatus: Handler = (ctx) => {
  const { state } = ctx;
  const nodes = [...state.nodes.values()];
  const entries: Array<Record<string, unknown>> = [];
  if (state.clusterName !== undefined) {
    const online = nodes.filter((n) => n.online).length;
    entries.push({
      type: "cluster",
      id: "cluster",
      name: state.clusterName,
      nodes: nodes.length,
      quorate: online * 2 > nodes.length ? 1 : 0,
      version: nodes.length + 1,
    });
  }
  nodes.forEach((n, i) =>
    entries.push({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      ip: n.ip,
      local: i === 0 ? 1 : 0,
      online: n.online ? 1 : 0,
      level: "",
    }),
  );
  return entries;
};

function vmEntries(ctx: HandlerContext): Array<Record<string, unknown>> {
  return [...ctx.state.vms.values()]
    .filter((vm) => ctx.access.has(ctx.auth.authid, `/vms/${vm.vmid}`, ["VM.Audit"]))
    .sort((a, b) => a.vmid - b.vmid)
    .map((vm) => vmResource(ctx.state, vm));
}

function storageEntries(ctx: HandlerContext): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const node of ctx.state.nodes.values()) {
    for (const st of ctx.state.storages.values()) {
      if (!ctx.state.storageOn(st.id, node.name)) continue;
      if (!ctx.access.has(ctx.auth.authid, `/storage/${st.id}`, ["Datastore.Audit"])) continue;
      const s = storageSummary(ctx.state, st, node.name);
      out.push({
        id: `storage/${node.name}/${st.id}`,
        type: "storage",
        storage: st.id,
        node: node.name,
        plugintype: st.type,
        content: s["content"],
        shared: s["shared"],
        status: node.online ? "available" : "unknown",
        ...(node.online ? { disk: s["used"], maxdisk: s["total"] } : {}),
      });
    }
  }
  return out;
}

function nodeEntries(ctx: HandlerContext): Array<Record<string, unknown>> {
  return [...ctx.state.nodes.values()].map((n) => ({ ...nodeSummary(ctx, n), id: `node/${n.name}` }));
}

function poolEntries(ctx: HandlerContext): Array<Record<string, unknown>> {
  return [...ctx.state.pools.values()]
    .filter((p) => ctx.access.has(ctx.auth.authid, `/pool/${p.id}`, ["Pool.Audit"]))
    .map((p) => ({ id: `pool/${p.id}`, type: "pool", pool: p.id }));
}

const clusterResources: Handler = (ctx) => {
  const type = ctx.str("type");
  if (type === "vm") return vmEntries(ctx);
  if (type === "storage") return storageEntries(ctx);
  if (type === "node") return nodeEntries(ctx);
  if (type === "sdn") return [];
  return [...nodeEntries(ctx), ...storageEntries(ctx), ...vmEntries(ctx), ...poolEntries(ctx)];
};

// `/cluster/nextid` answers a STRING (Perl stringification), though the schema says integer.
const nextid: Handler = (ctx) => {
  const wanted = ctx.int("vmid");
  if (wanted !== undefined) {
    if (ctx.state.vms.has(wanted)) throw paramError({ vmid: `VM ${wanted} already exists` });
    return String(wanted);
  }
  const free = ctx.state.nextFreeVmid();
  if (free === undefined) {
    throw businessError(`unable to get any free VMID in range [${ctx.state.nextIdLower}, ${ctx.state.nextIdUpper}]`);
  }
  return String(free);
};

export const clusterHandlers: Record<string, Handler> = {
  "GET /version": version,
  "GET /cluster/status": clusterStatus,
  "GET /cluster/resources": clusterResources,
  "GET /cluster/nextid": nextid,
};
