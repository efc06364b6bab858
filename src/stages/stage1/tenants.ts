/**
 * Stage 1 per tenant: a tenant with its own token must hold what capmox, the CSI plugin and
 * the CCM need in its own pool (and on the template, storages, bridge and nodes cloning
 * touches), and nothing that acts on VMs outside it: no VM privilege but auditing on /vms, on
 * another tenant's pool or on the platform's pool. Each gap and each excess is named with the
 * `pveum` command that fixes it. A tenant on the shared token is a warning, never a pass: that
 * token reaches other tenants' VMs and the management cluster's own.
 *
 * The tenant tokens' permissions are read with the stage's own (administrator) token through
 * `GET /access/permissions?userid=<token>`, so no tenant secret is needed here.
 */
import { tenantPool, tenantToken, type PlatformConfig, type TenantConfig } from "../../config/index.js";
import { ProxmoxApiError, type AclEntry, type PermissionMap } from "../../proxmox/index.js";
import { builtinRoles, pveumCommand, roleForPath, tenantPathContext, type PlanStep } from "../../tenancy/index.js";
import { apiFailure } from "../api-failure.js";
import { type StageContext, majorOf } from "../input.js";
import { type CheckOutcome, fail, pass, warn } from "../model.js";
import { effectiveAt, findGaps, requiredPaths, type PrivilegeGap } from "../../privileges/index.js";

/** VM privileges that act on a VM (everything but reading it). */
export function actsOnVms(privilege: string): boolean {
  return privilege.startsWith("VM.") && privilege !== "VM.Audit" && privilege !== "VM.GuestAgent.Audit";
}

/** One tenant's verdict lines. */
interface TenantFinding {
  readonly tenant: string;
  readonly problems: readonly string[];
  readonly fixes: readonly string[];
}


/** Paths a tenant's token must not act on VMs below: /vms, the other tenants' pools, the platform's pool. */
function foreignPaths(config: PlatformConfig, tenant: TenantConfig): string[] {
  const own = tenantPool(config, tenant);
  const pools = new Set(config.tenants.map((t) => tenantPool(config, t)).filter((p): p is string => p !== undefined && p !== own));
  if (config.proxmox.pool !== undefined && config.proxmox.pool !== own) pools.add(config.proxmox.pool);
  return ["/vms", ...[...pools].sort().map((p) => `/pool/${p}`)];
}

/** The plan's ACL steps that close a gap (for the user and for the token, as privilege separation needs). */
function gapFixes(tenant: string, tokenId: string, gaps: readonly PrivilegeGap[]): string[] {
  const user = tokenId.split("!")[0] ?? tokenId;
  const lines = new Set<string>();
  for (const gap of gaps) {
    const { role, propagate } = roleForPath[gap.kind];
    for (const [subject, ugid] of [["user", user], ["token", tokenId]] as const) {
      const step: PlanStep = { kind: "acl", tenant, path: gap.path, role, propagate, subject, ugid };
      lines.add(pveumCommand(step));
    }
  }
  return [...lines];
}

function ancestors(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
}

/** The ACL entries of the token (or its user) that grant `privilege` at `path`, as `pveum acl delete` commands. */
function excessFixes(acl: readonly AclEntry[] | undefined, roles: ReadonlyMap<string, readonly string[]>, tokenId: string, path: string, privileges: readonly string[]): string[] {
  const user = tokenId.split("!")[0] ?? tokenId;
  if (acl === undefined) {
    return [`pveum acl list   # find the entries of '${tokenId}' (or ${user}) on ${path} or above that grant ${privileges.join(", ")}, then: pveum acl delete <path> --tokens '${tokenId}' --roles <role>`];
  }
  const reaching = new Set(ancestors(path));
  return acl
    .filter((e) => (e.ugid === tokenId || e.ugid === user) && reaching.has(e.path) && (e.path === path || e.propagate === 1 || e.propagate === true))
    .filter((e) => privileges.some((p) => roles.get(e.roleid)?.includes(p) ?? true))
    .map((e) => `pveum acl delete ${e.path} --${e.ugid === tokenId ? "tokens" : "users"} '${e.ugid}' --roles ${e.roleid}`);
}

async function readAcl(ctx: StageContext): Promise<{ acl?: AclEntry[]; roles: Map<string, readonly string[]> }> {
  return ctx.memo("acl-and-roles", async () => {
    const roles = new Map<string, readonly string[]>(Object.entries(builtinRoles));
    try {
      const list = await ctx.api.get<Array<{ roleid: string; privs?: string }>>("/access/roles");
      for (const r of list) if (typeof r.privs === "string") roles.set(r.roleid, r.privs.split(",").filter(Boolean));
    } catch {
      // the built-in table stands in for unreadable roles
    }
    try {
      return { acl: await ctx.api.get<AclEntry[]>("/access/acl"), roles };
    } catch {
      return { roles };
    }
  });
}

/** Permissions of another auth id on every path, one `?path=` query each. */
async function permissionsOf(ctx: StageContext, tokenId: string, paths: readonly string[]): Promise<PermissionMap> {
  const merged: Record<string, PermissionMap[string]> = {};
  for (const path of paths) Object.assign(merged, await ctx.api.permissions({ userid: tokenId, path }));
  return merged;
}

async function judgeTenant(ctx: StageContext, tenant: TenantConfig, templateIds: readonly number[], major: number): Promise<TenantFinding> {
  const config = ctx.config;
  const tokenId = tenantToken(config, tenant).tokenId;
  const paths = tenantPathContext(config, tenant, templateIds);
  const foreign = foreignPaths(config, tenant);
  const permissions = await permissionsOf(ctx, tokenId, [...requiredPaths(paths), ...foreign]);
  const gaps = (["capmox", "csi", "ccm"] as const).flatMap((c) => findGaps(c, permissions, paths, major)).filter((g) => !g.optional);
  const problems: string[] = gaps.map((g) => `${g.path}: missing ${[...g.missing, ...g.notPropagated.map((p) => `${p} (propagated)`)].join(", ")} (${g.consumer} ${g.why})`);
  const fixes = gapFixes(tenant.name, tokenId, gaps);
  const { acl, roles } = await readAcl(ctx);
  for (const path of foreign) {
    const excess = Object.keys(effectiveAt(permissions, path)).filter(actsOnVms).sort();
    if (excess.length === 0) continue;
    problems.push(`${path}: holds ${excess.join(", ")} outside its pool ${paths.pool}`);
    fixes.push(...excessFixes(acl, roles, tokenId, path, excess));
  }
  return { tenant: tenant.name, problems, fixes: [...new Set(fixes)] };
}

function noToken(error: unknown): boolean {
  return error instanceof ProxmoxApiError && /no such (token|user)/i.test(error.message);
}

/** The check: every isolated tenant least-privileged; shared tokens a warning. */
export async function checkTenantIsolation(ctx: StageContext, templateIds: readonly number[]): Promise<CheckOutcome> {
  const config = ctx.config;
  if (config.tenants.length === 0) return pass("no tenants in the config");
  const major = majorOf(await ctx.version());
  const shared = config.tenants.filter((t) => tenantToken(config, t).shared);
  const findings: TenantFinding[] = [];
  for (const tenant of config.tenants.filter((t) => !tenantToken(config, t).shared)) {
    try {
      findings.push(await judgeTenant(ctx, tenant, templateIds, Number.isNaN(major) ? 9 : major));
    } catch (error) {
      const tokenId = tenantToken(config, tenant).tokenId;
      if (noToken(error)) {
        findings.push({ tenant: tenant.name, problems: [`its token ${tokenId} does not exist`], fixes: [`npm run tenant-access -- --apply   # or the pveum commands npm run tenant-access prints`] });
        continue;
      }
      return apiFailure(`reading the permissions of tenant ${tenant.name}'s token ${tokenId} (GET /access/permissions?userid=…; the stage's token needs Sys.Audit on /access)`, error, ctx.api.url);
    }
  }
  const bad = findings.filter((f) => f.problems.length > 0);
  const isolated = findings.length - bad.length;
  const figures = { tenants: config.tenants.length, isolated, shared: shared.length, wrong: bad.length };
  if (bad.length > 0) {
    return fail(
      bad.map((f) => `tenant ${f.tenant}: ${f.problems.join("; ")}`).join("; "),
      `run on a Proxmox node as root:\n${bad.flatMap((f) => f.fixes).join("\n")}`,
      figures,
    );
  }
  const ok = findings.map((f) => f.tenant);
  const okText = ok.length > 0 ? `tenants ${ok.join(", ")}: own token, what capmox, CSI and CCM need in their pools and nothing on VMs outside them` : "";
  if (shared.length > 0) {
    const tokens = [...new Set(shared.map((t) => tenantToken(config, t).tokenId))].join(", ");
    return warn(
      `${shared.length === 1 ? "tenant" : "tenants"} ${shared.map((t) => t.name).join(", ")} ${shared.length === 1 ? "uses" : "use"} the shared token ${tokens}: not isolated from ${config.tenants.length > 1 ? "other tenants' VMs or " : ""}the management cluster's VMs (a capmox mistake such as #856 can destroy any VM that token reaches)`,
      "give each tenant its own pool and token (tenants[].proxmox.pool, tokenId, secret), then run npm run tenant-access -- --apply",
      okText || undefined,
      figures,
    );
  }
  return pass(okText, figures);
}

