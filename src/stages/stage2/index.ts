/**
 * Stage 2 — network and storage: quorum, every allowed node online, the bridge (and VLAN)
 * and both storages on every allowed node, the template where capmox will look for it and
 * fit for capmox, the VM address ranges not used by existing guests, and each tenant's worst
 * case placed as capmox would place it (placement.ts).
 */
import type { NodeStorage } from "../../proxmox/index.js";
import { apiFailure } from "../api-failure.js";
import type { StageContext } from "../input.js";
import { type CheckOutcome, fail, pass } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { checkIpRanges } from "./ip-ranges.js";
import { checkTalosTemplate } from "./talos.js";
import { checkTemplateBootDisk, checkTemplateBootOrder, checkTemplateCloneTargets, checkTemplateCloudInitDrive, checkTemplateGuestAgent, checkTemplateResolves } from "./template.js";
import { checkPlacement } from "./placement.js";

/** Reused by stage 1 (the template lookup) and stage 6 (address arithmetic). */
export { capmoxGeneration, resolveTemplateByTags } from "./template-logic.js";
export { lookupTemplate } from "./template.js";


const GiB = 1024 ** 3;
/** Free space the ISO storage needs: capmox's cloud-init ISOs are small; a few MiB each. */
export const ISO_FREE_BYTES = 256 * 1024 ** 2;

const truthy = (v: unknown): boolean => v === 1 || v === true || v === "1";

async function checkQuorum(ctx: StageContext): Promise<CheckOutcome> {
  let status;
  try {
    status = await ctx.clusterStatus();
  } catch (error) {
    return apiFailure("reading the cluster status (GET /cluster/status)", error, ctx.api.url);
  }
  const cluster = status.find((e) => e.type === "cluster");
  if (!cluster) return pass("standalone node (no cluster), nothing to be quorate");
  const online = status.filter((e) => e.type === "node" && truthy(e.online)).length;
  const total = status.filter((e) => e.type === "node").length;
  if (!truthy(cluster.quorate)) {
    return fail(
      `cluster ${cluster.name} has no quorum (${online} of ${total} nodes online): Proxmox refuses to create or change VMs`,
      "bring enough nodes back online for a majority (pvecm status shows the votes); only as a last resort on a single node: pvecm expected 1",
      { online, total },
    );
  }
  return pass(`cluster ${cluster.name} is quorate (${online} of ${total} nodes online)`, { online, total });
}

async function checkNodeOnline(ctx: StageContext, node: string): Promise<CheckOutcome> {
  let status;
  try {
    status = await ctx.clusterStatus();
  } catch (error) {
    return apiFailure("reading the cluster status (GET /cluster/status)", error, ctx.api.url);
  }
  const members = status.filter((e) => e.type === "node");
  const entry = members.find((e) => e.name === node);
  if (!entry) {
    return fail(
      `node ${node} is not a member of this cluster (members: ${members.map((m) => m.name).join(", ") || "none"})`,
      `correct proxmox.allowedNodes (names as shown by pvecm nodes), or join ${node} to the cluster`,
    );
  }
  if (!truthy(entry.online)) {
    return fail(
      `node ${node} is offline (cluster status online=0${entry.ip ? `, address ${entry.ip}` : ""}); capmox would schedule VMs there and fail`,
      `start ${node} or repair its cluster link (pvecm status on a healthy node; systemctl status corosync pve-cluster on ${node}), or remove it from proxmox.allowedNodes until it is back`,
    );
  }
  return pass(`${node} online${entry.ip ? ` (${entry.ip})` : ""}`);
}

async function checkBridge(ctx: StageContext, node: string): Promise<CheckOutcome> {
  const { bridge, vlan } = ctx.config.proxmox;
  let interfaces;
  try {
    interfaces = await ctx.api.nodeNetwork(node);
  } catch (error) {
    return apiFailure(`reading the network of ${node} (GET /nodes/${node}/network)`, error, ctx.api.url);
  }
  const bridges = interfaces.filter((i) => i.type === "bridge" || i.type === "OVSBridge");
  const found = interfaces.find((i) => i.iface === bridge);
  if (!found || (found.type !== "bridge" && found.type !== "OVSBridge")) {
    const what = found ? `${bridge} on ${node} is a ${found.type}, not a bridge` : `bridge ${bridge} does not exist on ${node}`;
    return fail(
      `${what} (bridges there: ${bridges.map((b) => b.iface).join(", ") || "none"}); every VM NIC is attached to ${bridge}`,
      `create it on ${node} (Datacenter → ${node} → System → Network → Create → Linux Bridge, then Apply Configuration), or set proxmox.bridge to a bridge that exists on every allowed node`,
    );
  }
  if (found.active !== undefined && !truthy(found.active)) {
    return fail(`bridge ${bridge} exists on ${node} but is not active`, `activate it: ifreload -a on ${node} (or Apply Configuration in the Network panel)`);
  }
  if (vlan === undefined) return pass(`${bridge} is a ${found.type} on ${node}`);
  if (found.type === "OVSBridge") return pass(`${bridge} is an OVS bridge on ${node}; VLAN ${vlan} is tagged on the port`);
  if (!truthy(found.bridge_vlan_aware)) {
    return fail(
      `proxmox.vlan is ${vlan}, but bridge ${bridge} on ${node} is not VLAN aware, so NICs tagged ${vlan} cannot be attached`,
      `make the bridge VLAN aware on ${node}: in the Network panel tick "VLAN aware" on ${bridge} (or add "bridge-vlan-aware yes" and "bridge-vids 2-4094" to its stanza in /etc/network/interfaces) and run ifreload -a`,
    );
  }
  const vids = typeof found.bridge_vids === "string" ? found.bridge_vids : undefined;
  if (vids && !vidsInclude(vids, vlan)) {
    return fail(
      `bridge ${bridge} on ${node} is VLAN aware but carries only VLANs ${vids}, not ${vlan}`,
      `add ${vlan} to bridge-vids of ${bridge} in /etc/network/interfaces on ${node} and run ifreload -a`,
    );
  }
  return pass(`${bridge} is a VLAN-aware bridge on ${node} carrying VLAN ${vlan}`);
}

/** `2-4094`, `10 20 30-40` include `vlan`? */
export function vidsInclude(vids: string, vlan: number): boolean {
  return vids.split(/[\s,]+/).some((part) => {
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) return false;
    return b === undefined ? a === vlan : vlan >= a && vlan <= b;
  });
}

/** The largest boot disk any node group asks for (the disk storage must hold at least one). */
function largestDiskGiB(ctx: StageContext): number {
  const sizes = ctx.config.tenants.flatMap((t) => t.nodeGroups.map((g) => g.diskGiB));
  return sizes.length > 0 ? Math.max(...sizes) : 20;
}

function storageProblems(entry: NodeStorage, content: string): string[] {
  const problems: string[] = [];
  if (entry.enabled !== undefined && !truthy(entry.enabled)) problems.push("it is disabled");
  if (entry.active !== undefined && !truthy(entry.active)) problems.push("it is not active (not mounted or unreachable)");
  const types = entry.content.split(",").map((c) => c.trim());
  if (!types.includes(content)) problems.push(`its content types (${entry.content || "none"}) lack '${content}'`);
  return problems;
}

async function checkStorage(ctx: StageContext, node: string, role: "disk" | "iso"): Promise<CheckOutcome> {
  const p = ctx.config.proxmox;
  const id = role === "disk" ? p.diskStorage : p.isoStorage;
  const content = role === "disk" ? "images" : "iso";
  const field = role === "disk" ? "proxmox.diskStorage" : "proxmox.isoStorage";
  let list: NodeStorage[];
  try {
    list = await ctx.memo(`storage:${node}`, () => ctx.api.nodeStorages(node));
  } catch (error) {
    return apiFailure(`listing the storages of ${node} (GET /nodes/${node}/storage)`, error, ctx.api.url);
  }
  const entry = list.find((s) => s.storage === id);
  if (!entry) {
    return fail(
      `storage ${id} (${field}) is not available on ${node} (storages there: ${list.map((s) => s.storage).join(", ") || "none"})`,
      `add ${node} to the storage's node list (Datacenter → Storage → ${id} → Nodes) or create it there, or set ${field} to a storage every allowed node has`,
    );
  }
  const problems = storageProblems(entry, content);
  if (problems.length > 0) {
    return fail(
      `storage ${id} on ${node} cannot hold ${role === "disk" ? "VM disks" : "the cloud-init ISOs"}: ${problems.join("; ")}`,
      `fix it in Datacenter → Storage → ${id} (enable it, add content type '${content}'; pvesm set ${id} --content <list including ${content}>), or set ${field} to another storage`,
    );
  }
  const avail = entry.avail ?? 0;
  const needed = role === "disk" ? largestDiskGiB(ctx) * GiB : ISO_FREE_BYTES;
  const figures = { availGiB: Math.round((avail / GiB) * 10) / 10, neededGiB: Math.round((needed / GiB) * 10) / 10 };
  if (avail < needed) {
    return fail(
      `storage ${id} on ${node} has ${figures.availGiB} GiB free; ${role === "disk" ? `one VM boot disk needs ${figures.neededGiB} GiB` : `cloud-init ISOs need at least ${figures.neededGiB} GiB`}`,
      `free space on ${id} (remove unused volumes: pvesm list ${id}) or grow it, or choose another storage for ${field}`,
      figures,
    );
  }
  if (role === "iso") {
    // capmox does not pass the storage: it uploads to the first enabled iso-capable storage of the node.
    const first = list.find((s) => (s.enabled === undefined || truthy(s.enabled)) && s.content.split(",").includes("iso"));
    if (first && first.storage !== id) {
      return fail(
        `capmox uploads the cloud-init ISO to the first enabled storage with content 'iso' on ${node}, which is ${first.storage}, not ${id} (${field})`,
        `set ${field} to ${first.storage} (and grant the token Datastore.AllocateTemplate there), or remove content 'iso' from ${first.storage}`,
        figures,
      );
    }
  }
  return pass(`${id} on ${node}: ${entry.type}, content ${entry.content}, ${figures.availGiB} GiB free`, figures);
}

/** The checks of stage 2, in order; per-node checks for every allowed node; the Talos template's when the config names one. */
export function stage2Checks(allowedNodes: readonly string[], options: { readonly talosTemplate?: boolean } = {}): CheckSpec<StageContext>[] {
  const perNode = allowedNodes.flatMap((node): CheckSpec<StageContext>[] => [
    { id: `node.${node}.online`, title: `node ${node} online`, run: (ctx) => checkNodeOnline(ctx, node) },
    { id: `node.${node}.bridge`, title: `bridge (and VLAN) on ${node}`, needs: [`node.${node}.online`], run: (ctx) => checkBridge(ctx, node) },
    { id: `node.${node}.disk-storage`, title: `disk storage on ${node}`, needs: [`node.${node}.online`], run: (ctx) => checkStorage(ctx, node, "disk") },
    { id: `node.${node}.iso-storage`, title: `ISO storage on ${node}`, needs: [`node.${node}.online`], run: (ctx) => checkStorage(ctx, node, "iso") },
  ]);
  return [
    { id: "cluster.quorum", title: "cluster quorate", run: checkQuorum },
    ...perNode,
    { id: "template.resolve", title: "template found where capmox looks for it", run: checkTemplateResolves },
    { id: "template.cloud-init-drive", title: "template has no PVE cloud-init drive on ide0", needs: ["template.resolve"], run: checkTemplateCloudInitDrive },
    { id: "template.boot-order", title: "template uses a new-style boot order", needs: ["template.resolve"], run: checkTemplateBootOrder },
    { id: "template.boot-disk", title: "template boot disk exists and is not larger than requested", needs: ["template.resolve"], run: checkTemplateBootDisk },
    { id: "template.clone-targets", title: "template can be cloned to every allowed node", needs: ["template.resolve"], run: checkTemplateCloneTargets },
    { id: "template.guest-agent", title: "template has the QEMU guest agent capmox waits for", needs: ["template.resolve"], run: checkTemplateGuestAgent },
    ...(options.talosTemplate ? [{ id: "template.talos", title: "Talos template found, and one Talos can boot from", run: checkTalosTemplate }] : []),
    { id: "network.ip-ranges", title: "VM address ranges not used by existing guests", timeout: "check.ip-ranges", run: checkIpRanges },
    { id: "tenants.placement", title: "each tenant's worst case fits: memory by capmox's scheduler, disk, VMIDs", run: checkPlacement },
  ];
}
