/**
 * Tenant isolation on the Proxmox side: each tenant's pool, VMID range and API token, the
 * values synth emits for them, and the rules that keep tenants apart (ranges that never
 * overlap each other or the management cluster's, ranges large enough for the worst case,
 * pools not shared). capmox bug #856 (a stale VMID reused, another machine's VM deleted) is
 * why the ranges matter: a VMID outside a tenant's range and pool is one its token cannot touch.
 */
import { issue, type PathSegment } from "./errors.js";
import type { ConfigIssue, PlatformConfig, SecretSource, TenantConfig, VmIdRange } from "./types.js";

/** The pool the tenant's VMs go into: its own, else the platform's, else none. */
export function tenantPool(platform: PlatformConfig, tenant: TenantConfig): string | undefined {
  return tenant.proxmox?.pool ?? platform.proxmox.pool;
}

/** The token the tenant's capmox, CCM and CSI plugin use, and where its secret comes from. */
export function tenantToken(platform: PlatformConfig, tenant: TenantConfig): { readonly tokenId: string; readonly secret: SecretSource; readonly shared: boolean } {
  const own = tenant.proxmox?.tokenId;
  if (own !== undefined && tenant.proxmox?.secret !== undefined) return { tokenId: own, secret: tenant.proxmox.secret, shared: false };
  return { tokenId: platform.proxmox.tokenId, secret: platform.proxmox.secret, shared: true };
}

/**
 * VMIDs a tenant can hold at once at worst: every node group at its maxReplicas, plus the one
 * extra machine a rolling update of each group adds (CAPI's default maxSurge of 1).
 */
export function vmIdsNeeded(tenant: TenantConfig): number {
  return tenant.nodeGroups.reduce((sum, g) => sum + (Number.isInteger(g.maxReplicas) ? g.maxReplicas : 0) + 1, 0);
}

function rangeText(r: VmIdRange): string {
  return `${r.start}-${r.end}`;
}

function usable(r: VmIdRange | undefined): r is VmIdRange {
  return r !== undefined && Number.isInteger(r.start) && Number.isInteger(r.end);
}

interface Owned {
  readonly range: VmIdRange;
  /** Tenant index, or -1 for the management cluster's range. */
  readonly tenant: number;
}

function ownerName(platform: PlatformConfig, o: Owned): string {
  return o.tenant < 0 ? `proxmox.managementVmIdRange (${rangeText(o.range)})` : `tenants[${o.tenant}] (${platform.tenants[o.tenant]?.name}, ${rangeText(o.range)})`;
}

/** Overlapping ranges: sorted by start, each compared with the furthest-reaching one before it. */
function overlapIssues(platform: PlatformConfig, owned: readonly Owned[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const order = [...owned].sort((a, b) => a.range.start - b.range.start || a.tenant - b.tenant);
  let widest: Owned | undefined;
  for (const o of order) {
    if (widest && widest.range.end >= o.range.start) {
      // report on a tenant (the management range is not a tenant's to change), naming both
      const [at, other] = o.tenant >= 0 ? [o, widest] : [widest, o];
      issues.push(
        issue(["tenants", at.tenant, "proxmox", "vmIdRange"], at.range,
          `of tenant ${platform.tenants[at.tenant]?.name} overlaps ${ownerName(platform, other)}: the two would take each other's VMIDs; give each its own range`),
      );
    }
    if (!widest || o.range.end > widest.range.end) widest = o;
  }
  return issues;
}

function sizeIssue(tenant: TenantConfig, index: number, range: VmIdRange): ConfigIssue | undefined {
  const size = range.end - range.start + 1;
  const needed = vmIdsNeeded(tenant);
  if (size >= needed) return undefined;
  const groups = tenant.nodeGroups.map((g) => `${g.name} ${g.maxReplicas}+1`).join(", ");
  return issue(["tenants", index, "proxmox", "vmIdRange"], range,
    `holds ${size} VMIDs, tenant ${tenant.name} needs at least ${needed} (maxReplicas plus one surge machine per node group: ${groups})`);
}

function templateIssue(platform: PlatformConfig, index: number, range: VmIdRange): ConfigIssue | undefined {
  const t = platform.proxmox.template;
  if (t.kind !== "id" || !Number.isInteger(t.templateId) || t.templateId < range.start || t.templateId > range.end) return undefined;
  return issue(["tenants", index, "proxmox", "vmIdRange"], range, `contains the template's VMID ${t.templateId} (proxmox.template.templateId)`);
}

function startAfterEnd(range: VmIdRange, at: PathSegment[]): ConfigIssue | undefined {
  return range.start > range.end ? issue(at, range, `start (${range.start}) must not be after end (${range.end})`) : undefined;
}

/** Two tenants with their own tokens in one pool could still reach each other's VMs. */
function poolIssues(platform: PlatformConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const owner = new Map<string, number>();
  platform.tenants.forEach((t, i) => {
    const pool = t.proxmox?.pool;
    if (typeof pool !== "string") return;
    const other = owner.get(pool);
    if (other !== undefined) {
      issues.push(issue(["tenants", i, "proxmox", "pool"], pool,
        `is also the pool of tenants[${other}] (${platform.tenants[other]?.name}): tenants[${i}] (${t.name}) and tenants[${other}] (${platform.tenants[other]?.name}) could act on each other's VMs; give each its own pool`));
    } else {
      owner.set(pool, i);
    }
  });
  return issues;
}

/** A tenant's own token is limited to its own pool: without one it would need rights on all of /vms. */
function tokenIssues(platform: PlatformConfig): ConfigIssue[] {
  return platform.tenants.flatMap((t, i) =>
    t.proxmox?.tokenId !== undefined && t.proxmox.pool === undefined
      ? [issue(["tenants", i, "proxmox", "pool"], undefined, `is required with tenants[${i}].proxmox.tokenId: tenant ${t.name}'s own token is limited to its own pool`)]
      : [],
  );
}

/** Every isolation problem of a defaulted config. */
export function isolationIssues(platform: PlatformConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [...tokenIssues(platform)];
  const owned: Owned[] = [];
  const management = platform.proxmox.managementVmIdRange;
  if (usable(management)) {
    const bad = startAfterEnd(management, ["proxmox", "managementVmIdRange"]);
    if (bad) issues.push(bad);
    else owned.push({ range: management, tenant: -1 });
  }
  platform.tenants.forEach((t, i) => {
    const range = t.proxmox?.vmIdRange;
    if (!usable(range)) return;
    const bad = startAfterEnd(range, ["tenants", i, "proxmox", "vmIdRange"]);
    if (bad) {
      issues.push(bad);
      return;
    }
    for (const found of [sizeIssue(t, i, range), templateIssue(platform, i, range)]) if (found) issues.push(found);
    owned.push({ range, tenant: i });
  });
  return [...issues, ...overlapIssues(platform, owned), ...poolIssues(platform)];
}
