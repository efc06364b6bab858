/**
 * Stage 2's placement preflight: for each tenant, its worst case (every node group at
 * maxReplicas plus one surge machine) against its allowed nodes' reservable memory as capmox
 * schedules it, the disk storage's free space for the full clones, and its VMID range's free
 * VMIDs; a tenant that does not fit is reported with the numbers, before a VM is cloned.
 * The tenant's own VMs (capmox's `capi-<tenant>-<group>` tags) are part of its worst case, not
 * of what is already used, so a deployed tenant is not counted twice. Tenants that each fit
 * but not all at once (memory) give a warning.
 */
import { machineTag } from "../../capi/index.js";
import { vmIdsNeeded, type PlatformConfig, type TenantConfig } from "../../config/index.js";
import type { ClusterResource, NodeStorage } from "../../proxmox/index.js";
import { apiFailure } from "../api-failure.js";
import { StageContext, type StageInput } from "../input.js";
import { type CheckOutcome, type Figure, fail, pass, warn } from "../model.js";
import { DEFAULT_MEMORY_ADJUSTMENT, diskBytesNeeded, simulatePlacement, type GroupDemand, type NodeCapacity } from "./placement-logic.js";

const GiB = 1024 ** 3;
const gib = (bytes: number): number => Math.round((bytes / GiB) * 10) / 10;

function demands(config: PlatformConfig, tenant: TenantConfig): GroupDemand[] {
  return tenant.nodeGroups.map((g) => ({
    group: g.name,
    machines: g.maxReplicas + 1,
    memoryMiB: g.memoryMiB,
    vcpus: g.sockets * g.cores,
    diskGiB: g.diskGiB,
    allowedNodes: g.allowedNodes ?? config.proxmox.allowedNodes,
  }));
}

function tenantTags(tenant: TenantConfig): Set<string> {
  return new Set(tenant.nodeGroups.map((g) => machineTag(tenant.name, g.name).toLowerCase()));
}

function ownedBy(vm: ClusterResource, tags: ReadonlySet<string>): boolean {
  return String(vm.tags ?? "").toLowerCase().split(/[;, ]+/).some((t) => tags.has(t));
}

async function nodeCapacities(ctx: StageContext, names: readonly string[], vms: readonly ClusterResource[], own: ReadonlySet<string>): Promise<NodeCapacity[]> {
  return Promise.all(
    names.map(async (name) => {
      const reservedBytes = vms
        .filter((vm) => vm.node === name && Number(vm.template ?? 0) !== 1 && !ownedBy(vm, own))
        .reduce((sum, vm) => sum + Number(vm.maxmem ?? 0), 0);
      try {
        const status = await ctx.memo(`node-status:${name}`, () => ctx.api.nodeStatus(name));
        return { name, online: true, memoryTotalBytes: status.memory.total, reservedBytes, cpus: Number(status.cpuinfo?.cpus ?? 0) };
      } catch {
        return { name, online: false, memoryTotalBytes: 0, reservedBytes, cpus: 0 };
      }
    }),
  );
}

interface TenantVerdict {
  readonly ok: boolean;
  readonly line: string;
  readonly figures: Record<string, Figure>;
}

function vmIdProblem(tenant: TenantConfig, vms: readonly ClusterResource[], own: ReadonlySet<string>): string | undefined {
  const range = tenant.proxmox?.vmIdRange;
  if (!range) return undefined;
  const taken = vms.filter((vm) => (vm.vmid ?? 0) >= range.start && (vm.vmid ?? 0) <= range.end && !ownedBy(vm, own)).map((vm) => vm.vmid ?? 0).sort((a, b) => a - b);
  const free = range.end - range.start + 1 - taken.length;
  const needed = vmIdsNeeded(tenant);
  if (free >= needed) return undefined;
  return `VMID range ${range.start}-${range.end} has ${free} free VMIDs, ${needed} needed (taken by other guests: ${taken.slice(0, 10).join(", ")}${taken.length > 10 ? ", …" : ""})`;
}

async function diskProblems(ctx: StageContext, tenant: TenantConfig, groups: readonly GroupDemand[], perNode: ReadonlyMap<string, number>): Promise<string[]> {
  const p = ctx.config.proxmox;
  if (p.fullClone === false) return [];
  const nodes = [...new Set(groups.flatMap((g) => g.allowedNodes))];
  const storages = new Map<string, NodeStorage | undefined>();
  for (const node of nodes) {
    const list = await ctx.memo(`node-storages:${node}`, () => ctx.api.nodeStorages(node)).catch(() => []);
    storages.set(node, list.find((s) => s.storage === p.diskStorage));
  }
  const any = [...storages.values()].find((s) => s !== undefined);
  if (!any) return [`disk storage ${p.diskStorage} is on none of ${nodes.join(", ")}`];
  if (any.shared === 1 || any.shared === true) {
    const needed = diskBytesNeeded(groups);
    const avail = any.avail ?? 0;
    return needed > avail ? [`storage ${p.diskStorage} needs ${gib(needed)} GiB for ${groups.reduce((n, g) => n + g.machines, 0)} full clones, has ${gib(avail)} GiB free`] : [];
  }
  const out: string[] = [];
  for (const [node, bytes] of perNode) {
    const avail = storages.get(node)?.avail ?? 0;
    if (bytes > avail) out.push(`storage ${p.diskStorage} on ${node} needs ${gib(bytes)} GiB for its full clones, has ${gib(avail)} GiB free`);
  }
  return out;
}

async function judgeTenant(ctx: StageContext, tenant: TenantConfig, vms: readonly ClusterResource[]): Promise<TenantVerdict> {
  const groups = demands(ctx.config, tenant);
  const own = tenantTags(tenant);
  const nodes = await nodeCapacities(ctx, [...new Set(groups.flatMap((g) => g.allowedNodes))], vms, own);
  const result = simulatePlacement(nodes, groups);
  const machines = groups.reduce((n, g) => n + g.machines, 0);
  const memoryMiB = groups.reduce((n, g) => n + g.machines * g.memoryMiB, 0);
  const vcpus = groups.reduce((n, g) => n + g.machines * g.vcpus, 0);
  const diskGiB = groups.reduce((n, g) => n + g.machines * g.diskGiB, 0);
  const problems: string[] = result.unplaced.map(
    (u) =>
      `${u.count} of group ${u.group}'s machines (${u.memoryMiB} MiB each) fit on no allowed node: ` +
      (u.bestNode === undefined ? "none of its nodes is online" : `the most left is ${u.bestFreeMiB} MiB on ${u.bestNode}`) +
      ` (reservable = total × ${DEFAULT_MEMORY_ADJUSTMENT}% − the maxmem of other guests; before: ${[...result.freeBeforeMiB].map(([n, f]) => `${n} ${f} MiB`).join(", ")})`,
  );
  for (const c of result.tooManyCpus) problems.push(`group ${c.group}'s VMs have ${c.vcpus} vCPUs, node ${c.node} has ${c.cpus} CPUs (PVE refuses to start them there)`);
  problems.push(...(await diskProblems(ctx, tenant, groups, result.diskBytes)));
  const vmid = vmIdProblem(tenant, vms, own);
  if (vmid) problems.push(vmid);
  const worst = `${machines} machines (${groups.map((g) => `${g.group} ${g.machines - 1}+1`).join(", ")}): ${memoryMiB} MiB, ${vcpus} vCPUs, ${diskGiB} GiB`;
  const figures = { [`${tenant.name}.machines`]: machines, [`${tenant.name}.memoryMiB`]: memoryMiB, [`${tenant.name}.vcpus`]: vcpus, [`${tenant.name}.diskGiB`]: diskGiB };
  if (problems.length > 0) return { ok: false, line: `tenant ${tenant.name}, worst case ${worst}: ${problems.join("; ")}`, figures };
  const where = [...result.placed].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n} ${c}`).join(", ");
  return { ok: true, line: `tenant ${tenant.name}: worst case ${worst} fits (${where})`, figures };
}

/**
 * Every tenant at its worst case at once, memory only, placed as capmox would one tenant after
 * another. Worst cases seldom meet, so when each tenant fits alone this is a warning, not a
 * failure; undefined when they fit together (or there is one tenant).
 */
async function togetherProblem(ctx: StageContext, vms: readonly ClusterResource[]): Promise<string | undefined> {
  const tenants = ctx.config.tenants;
  if (tenants.length < 2) return undefined;
  const groups = tenants.flatMap((t) => demands(ctx.config, t).map((g) => ({ ...g, group: `${t.name}/${g.group}` })));
  const own = new Set(tenants.flatMap((t) => [...tenantTags(t)]));
  const result = simulatePlacement(await nodeCapacities(ctx, [...new Set(groups.flatMap((g) => g.allowedNodes))], vms, own), groups);
  if (result.unplaced.length === 0) return undefined;
  const total = groups.reduce((n, g) => n + g.machines * g.memoryMiB, 0);
  const left = result.unplaced.map((u) => `${u.count} of ${u.group}'s machines (${u.memoryMiB} MiB each)`).join(", ");
  return `each tenant fits alone, but not all at their worst case at once (${total} MiB in all): ${left} would fit on no allowed node (before: ${[...result.freeBeforeMiB].map(([n, f]) => `${n} ${f} MiB`).join(", ")})`;
}

/** The check over every tenant of the config. */
export async function checkPlacement(ctx: StageContext): Promise<CheckOutcome> {
  if (ctx.config.tenants.length === 0) return pass("no tenants in the config");
  let vms: ClusterResource[];
  try {
    vms = await ctx.vmResources();
  } catch (error) {
    return apiFailure("listing the guests (GET /cluster/resources?type=vm)", error, ctx.api.url);
  }
  const verdicts: TenantVerdict[] = [];
  for (const tenant of ctx.config.tenants) verdicts.push(await judgeTenant(ctx, tenant, vms));
  const figures = Object.assign({}, ...verdicts.map((v) => v.figures)) as Record<string, Figure>;
  const bad = verdicts.filter((v) => !v.ok);
  if (bad.length > 0) {
    return fail(
      bad.map((v) => v.line).join("; "),
      "lower the node groups' maxReplicas or their memory, disk or vCPUs, allow more nodes (proxmox.allowedNodes or the group's allowedNodes), free memory or disk space on the nodes, or widen the tenant's proxmox.vmIdRange",
      figures,
    );
  }
  const detail = verdicts.map((v) => v.line).join("; ");
  const together = await togetherProblem(ctx, vms);
  if (together) return warn(together, "give the nodes more memory, allow more nodes, or lower some tenants' maxReplicas or memory if their worst cases can meet", detail, figures);
  return pass(detail, figures);
}

/** The placement check alone, for `synth --check`. */
export function checkPlacementOnly(input: StageInput): Promise<CheckOutcome> {
  return checkPlacement(new StageContext(input));
}
