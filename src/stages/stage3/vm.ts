/**
 * Stage 3 reads a provisioned Machine's VM back from Proxmox and compares it with what the
 * node group asked for: shape, disk, NIC, tags, the address capmox took from the pool, the
 * cloud-init ISO and power state, and the providerID against the VM's SMBIOS UUID.
 */
import { type IpRange, type NodeGroupConfig, parseIpv4, type PlatformConfig, type TenantConfig } from "../../config/index.js";
import { smbiosUuid, type QemuConfig } from "../../proxmox/index.js";
import { splitTags } from "../../ownership/index.js";

/** What a VM must look like. */
export interface VmExpectation {
  readonly group: NodeGroupConfig;
  readonly bridge: string;
  readonly vlan?: number;
  readonly bootDevice: string;
  readonly tags: readonly string[];
  readonly addressRanges: readonly IpRange[];
  readonly isoStorage: string;
}

export function vmExpectation(config: PlatformConfig, tenant: TenantConfig, tags: readonly string[]): VmExpectation {
  const group = tenant.nodeGroups[0];
  if (!group) throw new Error(`tenant ${tenant.name} has no node group`);
  return {
    group,
    bridge: config.proxmox.bridge,
    ...(config.proxmox.vlan === undefined ? {} : { vlan: config.proxmox.vlan }),
    bootDevice: config.proxmox.bootDevice ?? "scsi0",
    tags,
    addressRanges: tenant.addressRanges ?? config.network.addressRanges,
    isoStorage: config.proxmox.isoStorage,
  };
}

function inRanges(ip: string, ranges: readonly IpRange[]): boolean {
  const n = parseIpv4(ip);
  if (n === undefined) return false;
  return ranges.some((r) => {
    const [start, end] = [parseIpv4(r.start), parseIpv4(r.end)];
    return start !== undefined && end !== undefined && n >= start && n <= end;
  });
}

function sizeGiB(drive: string | undefined): number | undefined {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)/.exec(drive ?? "");
  if (!m) return undefined;
  const factor = { "": 1 / 1024 ** 3, K: 1 / 1024 ** 2, M: 1 / 1024, G: 1, T: 1024 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * factor;
}

/** What a VM state says, for the check's detail line. */
export interface VmFacts {
  readonly vmid: number;
  readonly node: string;
  readonly status: string;
  readonly config: QemuConfig;
  /** Whether the Machine already has a nodeRef (capmox then detaches the ISO). */
  readonly joined: boolean;
}

/** The differences between a VM and its expectation; empty when it matches. */
export function vmProblems(facts: VmFacts, want: VmExpectation, providerId: string): string[] {
  const c = facts.config;
  const problems: string[] = [];
  const g = want.group;
  if (Number(c.sockets ?? 1) !== g.sockets) problems.push(`sockets ${c.sockets ?? 1}, want ${g.sockets}`);
  if (Number(c.cores ?? 1) !== g.cores) problems.push(`cores ${c.cores ?? 1}, want ${g.cores}`);
  if (Number(c.memory ?? 0) !== g.memoryMiB) problems.push(`memory ${c.memory ?? "unset"} MiB, want ${g.memoryMiB}`);
  const disk = sizeGiB(c[want.bootDevice] as string | undefined);
  if (disk !== g.diskGiB) problems.push(`${want.bootDevice} is ${disk ?? "?"} GiB, want ${g.diskGiB}`);
  const net0 = String(c["net0"] ?? "");
  if (!new RegExp(`(^|,)bridge=${want.bridge}(,|$)`).test(net0)) problems.push(`net0 (${net0}) is not on bridge ${want.bridge}`);
  if (want.vlan !== undefined && !new RegExp(`(^|,)tag=${want.vlan}(,|$)`).test(net0)) problems.push(`net0 (${net0}) is not tagged VLAN ${want.vlan}`);
  const tags = splitTags(c.tags);
  const missing = want.tags.filter((t) => !tags.includes(t.toLowerCase()));
  if (missing.length > 0) problems.push(`tags '${c.tags ?? ""}' lack ${missing.join(", ")}`);
  const ipTag = tags.find((t) => t.startsWith("ip_net0_"));
  const ip = ipTag?.slice("ip_net0_".length);
  if (!ip) problems.push(`no ip_net0_<address> tag (capmox tags the address it took from the pool)`);
  else if (!inRanges(ip, want.addressRanges)) problems.push(`address ${ip} is outside the pool ${want.addressRanges.map((r) => `${r.start}-${r.end}`).join(", ")}`);
  const ide0 = String(c["ide0"] ?? "");
  const iso = `${want.isoStorage}:iso/user-data-${facts.vmid}.iso`;
  if (!ide0.startsWith(iso) && !facts.joined) problems.push(`ide0 is '${ide0 || "empty"}', not the cloud-init ISO ${iso}`);
  if (facts.status !== "running") problems.push(`the VM is ${facts.status}, not running`);
  const uuid = smbiosUuid(c.smbios1);
  if (!uuid) problems.push("the VM has no SMBIOS UUID");
  else if (providerId !== `proxmox://${uuid}`) problems.push(`the Machine's providerID ${providerId} is not proxmox://${uuid}`);
  return problems;
}

/** `VM 101 on pve2: 1×2 vCPU, 4096 MiB, scsi0 20 GiB, 10.0.0.100, ISO attached, running`. */
export function describeVm(facts: VmFacts, want: VmExpectation): string {
  const ip = splitTags(facts.config.tags).find((t) => t.startsWith("ip_net0_"))?.slice("ip_net0_".length) ?? "no address";
  const iso = String(facts.config["ide0"] ?? "").includes("user-data-") ? "cloud-init ISO attached" : "cloud-init ISO detached after join";
  return `VM ${facts.vmid} ${facts.config.name ?? ""} on ${facts.node}: ${want.group.sockets}×${want.group.cores} vCPU, ${want.group.memoryMiB} MiB, ${want.bootDevice} ${want.group.diskGiB} GiB, ${ip}, ${iso}, ${facts.status}`;
}
