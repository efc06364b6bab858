/**
 * Node endpoints: /nodes, /nodes/{node}/status, /nodes/{node}/network and the task API
 * (/nodes/{node}/tasks...).
 */
import { createHash } from "node:crypto";
import { Reply, type Handler, type HandlerContext } from "../context.js";
import { paramError, permissionError } from "../errors.js";
import type { LabNode, LabTask } from "../state.js";
import { parseUpid } from "../tasks.js";
import { memoryMiB } from "./vm-common.js";

const pseudoFingerprints = new Map<string, string>();

/** The lab certificate's fingerprint; over plain HTTP a stable stand-in per node name. */
function fingerprintOf(ctx: HandlerContext, node: LabNode): string {
  if (ctx.state.sslFingerprint !== "") return ctx.state.sslFingerprint;
  let fp = pseudoFingerprints.get(node.name);
  if (fp === undefined) {
    const hex = createHash("sha256").update(`lab-node-${node.name}`).digest("hex").toUpperCase();
    fp = hex.match(/../g)?.join(":") ?? hex;
    pseudoFingerprints.set(node.name, fp);
  }
  return fp;
}

/** Memory the node's running VMs use plus a base load. */
function usedMemory(ctx: HandlerContext, node: LabNode): number {
  let used = 2 * 1024 ** 3;
  for (const vm of ctx.state.vms.values()) {
    if (vm.node === node.name && vm.status === "running") used += memoryMiB(vm) * 1024 * 1024;
  }
  return Math.min(used, node.memoryBytes);
}

const ROOTFS_TOTAL = 100_861_726_720;
const ROOTFS_USED = 5_310_930_432;

/** A `/nodes` entry (stats only for online nodes, and only with Sys.Audit). */
export function nodeSummary(ctx: HandlerContext, node: LabNode): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    node: node.name,
    status: node.online ? "online" : "offline",
    type: "node",
    id: `node/${node.name}`,
    level: "",
    ssl_fingerprint: fingerprintOf(ctx, node),
  };
  if (node.online && ctx.access.has(ctx.auth.authid, `/nodes/${node.name}`, ["Sys.Audit"])) {
    Object.assign(entry, {
      cpu: 0.0123,
      maxcpu: node.cpus,
      mem: usedMemory(ctx, node),
      maxmem: node.memoryBytes,
      disk: ROOTFS_USED,
      maxdisk: ROOTFS_TOTAL,
      uptime: Math.floor(Date.now() / 1000) - node.bootTime,
    });
  }
  return entry;
}

const nodes: Handler = (ctx) => [...ctx.state.nodes.values()].map((n) => nodeSummary(ctx, n));

function nodeOf(ctx: HandlerContext): LabNode {
  const name = ctx.need("node");
  const node = ctx.state.node(name);
  if (!node) throw new Error(`node ${name} vanished`);
  return node;
}

const nodeStatus: Handler = (ctx) => {
  const node = nodeOf(ctx);
  const used = usedMemory(ctx, node);
  const v = ctx.state.version;
  return {
    uptime: Math.floor(Date.now() / 1000) - node.bootTime,
    idle: 0,
    wait: 0.000814,
    cpu: 0.0123,
    loadavg: ["0.15", "0.20", "0.18"],
    memory: { total: node.memoryBytes, used, free: node.memoryBytes - used, available: node.memoryBytes - used },
    swap: { total: 8_589_930_496, used: 0, free: 8_589_930_496 },
    rootfs: { total: ROOTFS_TOTAL, used: ROOTFS_USED, free: ROOTFS_TOTAL - ROOTFS_USED, avail: ROOTFS_TOTAL - ROOTFS_USED - 5_172_957_696 },
    ksm: { shared: 0 },
    cpuinfo: {
      model: "AMD EPYC 7302P 16-Core Processor",
      // An integer, as PVE reports it (go-proxmox's `int` cannot parse a fraction).
      cores: Math.max(1, Math.floor(node.cpus / 2)),
      cpus: node.cpus,
      sockets: 1,
      mhz: "3000.000",
      hvm: "1",
      user_hz: 100,
      flags: "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx",
    },
    kversion: "Linux 6.14.11-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z) x86_64",
    "current-kernel": {
      sysname: "Linux",
      release: "6.14.11-4-pve",
      version: "#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z)",
      machine: "x86_64",
    },
    "boot-info": { mode: "efi", secureboot: 0 },
    pveversion: `pve-manager/${v.version}/${v.repoid}`,
  };
};

function netmaskOf(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join(".");
}

const network: Handler = (ctx) => {
  const node = nodeOf(ctx);
  const type = ctx.str("type");
  const ifaces: Array<Record<string, unknown>> = [];
  const ports = new Set(node.bridges.flatMap((b) => b.ports.split(/\s+/).filter(Boolean)));
  let priority = 1;
  for (const port of [...ports].sort()) {
    ifaces.push({ iface: port, type: "eth", method: "manual", method6: "manual", families: ["inet"], active: 1, exists: 1, priority: priority++ });
  }
  for (const b of node.bridges) {
    const entry: Record<string, unknown> = {
      iface: b.name,
      type: "bridge",
      method: b.cidr ? "static" : "manual",
      method6: "manual",
      families: ["inet"],
      active: 1,
      autostart: 1,
      bridge_ports: b.ports,
      bridge_stp: "off",
      bridge_fd: "0",
      priority: priority++,
    };
    if (b.vlanAware) Object.assign(entry, { bridge_vlan_aware: 1, bridge_vids: "2-4094" });
    if (b.cidr) {
      const [address = "", prefix = "24"] = b.cidr.split("/");
      Object.assign(entry, { cidr: b.cidr, address, netmask: netmaskOf(Number(prefix)) });
    }
    if (b.gateway) entry["gateway"] = b.gateway;
    ifaces.push(entry);
  }
  if (type === undefined) return ifaces;
  const wanted = type === "any_bridge" || type === "any_local_bridge" ? "bridge" : type;
  return ifaces.filter((i) => i["type"] === wanted);
};

/** Owner or Sys.Audit on /nodes/<node> (a user also sees its tokens' tasks). */
function canSeeTask(ctx: HandlerContext, task: LabTask): boolean {
  const me = ctx.auth.authid;
  if (task.authid === me) return true;
  if (ctx.auth.tokenid === undefined && task.authid.startsWith(`${me}!`)) return true;
  return ctx.access.has(me, `/nodes/${task.node}`, ["Sys.Audit"]);
}

function taskFromPath(ctx: HandlerContext): LabTask {
  const upid = ctx.need("upid");
  if (!parseUpid(upid)) throw paramError({ upid: "unable to parse worker upid" });
  const task = ctx.state.tasks.get(upid);
  if (!task || task.node !== ctx.need("node")) throw paramError({ upid: "no such task" });
  if (!canSeeTask(ctx, task)) throw permissionError(`/nodes/${task.node}, Sys.Audit`);
  return task;
}

function userOf(authid: string): { user: string; tokenid?: string } {
  const bang = authid.indexOf("!");
  return bang < 0 ? { user: authid } : { user: authid.slice(0, bang), tokenid: authid.slice(bang + 1) };
}

const taskStatus: Handler = (ctx) => {
  const t = taskFromPath(ctx);
  return {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    ...userOf(t.authid),
    status: t.status,
    ...(t.exitstatus === undefined ? {} : { exitstatus: t.exitstatus }),
  };
};

const taskLog: Handler = (ctx) => {
  const t = taskFromPath(ctx);
  const start = ctx.int("start") ?? 0;
  const limit = ctx.int("limit") ?? 50;
  const lines = t.log.map((text, i) => ({ n: i + 1, t: text }));
  return new Reply(limit === 0 ? lines.slice(start) : lines.slice(start, start + limit), { total: lines.length });
};

const taskList: Handler = (ctx) => {
  const node = ctx.need("node");
  const vmid = ctx.int("vmid");
  const typefilter = ctx.str("typefilter");
  const userfilter = ctx.str("userfilter");
  const source = ctx.str("source") ?? "archive";
  const errorsOnly = ctx.flag("errors") ?? false;
  const start = ctx.int("start") ?? 0;
  const limit = ctx.int("limit") ?? 50;
  const list = [...ctx.state.tasks.values()]
    .filter((t) => t.node === node && canSeeTask(ctx, t))
    .filter((t) => (source === "active" ? t.status === "running" : source === "archive" ? t.status === "stopped" : true))
    .filter((t) => vmid === undefined || t.id === String(vmid))
    .filter((t) => typefilter === undefined || t.type === typefilter)
    .filter((t) => userfilter === undefined || t.authid.includes(userfilter))
    .filter((t) => !errorsOnly || (t.exitstatus !== undefined && t.exitstatus !== "OK"))
    .sort((a, b) => b.starttime - a.starttime)
    .map((t) => ({
      upid: t.upid,
      node: t.node,
      pid: t.pid,
      pstart: t.pstart,
      starttime: t.starttime,
      type: t.type,
      id: t.id,
      user: t.authid,
      ...(t.status === "stopped" ? { endtime: t.endtime ?? t.starttime, status: t.exitstatus ?? "OK" } : {}),
    }));
  return new Reply(list.slice(start, start + limit), { total: list.length });
};

export const nodeHandlers: Record<string, Handler> = {
  "GET /nodes": nodes,
  "GET /nodes/{node}/status": nodeStatus,
  "GET /nodes/{node}/network": network,
  "GET /nodes/{node}/tasks": taskList,
  "GET /nodes/{node}/tasks/{upid}/status": taskStatus,
  "GET /nodes/{node}/tasks/{upid}/log": taskLog,
};
