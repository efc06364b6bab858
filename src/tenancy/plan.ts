/**
 * The Proxmox side of tenant isolation, as a list of steps: per tenant with its own token, its
 * pool, its user, its privilege-separated token and the ACLs (PVE built-in roles) on its pool
 * and on the few shared paths cloning needs (the template, the storages, the bridge, the
 * nodes' status). Each step has the `pveum` command a person would type and the API call the
 * apply step makes. Tenants on the shared token get no steps, only a note.
 */
import { tenantPool, tenantToken, type PlatformConfig, type TenantConfig } from "../config/index.js";
import { expandPath, type PathContext, type PathKind } from "../privileges/index.js";
import { roleForPath, type BuiltinRole } from "./roles.js";

export type PlanStep =
  | { readonly kind: "pool"; readonly tenant: string; readonly pool: string }
  | { readonly kind: "user"; readonly tenant: string; readonly userid: string }
  | { readonly kind: "token"; readonly tenant: string; readonly userid: string; readonly tokenName: string }
  | {
      readonly kind: "acl";
      readonly tenant: string;
      readonly path: string;
      readonly role: BuiltinRole;
      readonly propagate: boolean;
      /** `user` (user@realm) or `token` (user@realm!name): with privilege separation both need the ACL. */
      readonly subject: "user" | "token";
      readonly ugid: string;
    };

export interface TenantPlan {
  readonly tenant: string;
  /** Steps in order; empty for a tenant on the shared token. */
  readonly steps: readonly PlanStep[];
  /** Why a tenant has no steps (shared token: not isolated). */
  readonly note?: string;
}

/** The path kinds in the order the plan grants them. */
const pathKinds: readonly PathKind[] = ["vm-target", "template", "disk-storage", "iso-storage", "sdn-bridge", "node", "root"];

/** The paths a tenant's capmox, CSI plugin and CCM touch: its pool, the template, storages, bridge and nodes. */
export function tenantPathContext(config: PlatformConfig, tenant: TenantConfig, templateIds: readonly number[]): PathContext {
  const p = config.proxmox;
  const groupNodes = tenant.nodeGroups.flatMap((g) => g.allowedNodes ?? []);
  return {
    allowedNodes: [...new Set([...p.allowedNodes, ...groupNodes])],
    pool: tenantPool(config, tenant),
    templateIds,
    diskStorage: p.diskStorage,
    isoStorage: p.isoStorage,
    bridge: p.bridge,
    ...(p.vlan === undefined ? {} : { vlan: p.vlan }),
  };
}

/**
 * The plan. `templateIds` are the VMIDs of the template(s) capmox clones: the config's
 * templateId, or for a template chosen by tags those the caller resolved through the API
 * (without them the template's ACL is left out and the plan says so).
 */
export function tenantPlans(config: PlatformConfig, templateIds: readonly number[]): TenantPlan[] {
  return config.tenants.map((tenant) => {
    const token = tenantToken(config, tenant);
    const pool = tenantPool(config, tenant);
    if (token.shared || pool === undefined) {
      return { tenant: tenant.name, steps: [], note: `uses the shared token ${token.tokenId}: not isolated from the other tenants (give tenants[].proxmox.tokenId and pool)` };
    }
    const [userid = "", tokenName = ""] = token.tokenId.split("!");
    const steps: PlanStep[] = [
      { kind: "pool", tenant: tenant.name, pool },
      { kind: "user", tenant: tenant.name, userid },
      { kind: "token", tenant: tenant.name, userid, tokenName },
    ];
    const ctx = tenantPathContext(config, tenant, templateIds);
    for (const kind of pathKinds) {
      if (kind === "template" && templateIds.length === 0) continue;
      const { role, propagate } = roleForPath[kind];
      for (const path of expandPath(kind, ctx)) {
        steps.push({ kind: "acl", tenant: tenant.name, path, role, propagate, subject: "user", ugid: userid });
        steps.push({ kind: "acl", tenant: tenant.name, path, role, propagate, subject: "token", ugid: token.tokenId });
      }
    }
    return { tenant: tenant.name, steps };
  });
}

/** The `pveum` command of a step: what a person types on a node instead of `--apply`. */
export function pveumCommand(step: PlanStep): string {
  switch (step.kind) {
    case "pool":
      return `pveum pool add ${step.pool} --comment 'cozy-proxmox tenant ${step.tenant}'`;
    case "user":
      return `pveum user add ${step.userid} --comment 'cozy-proxmox tenant ${step.tenant}'`;
    case "token":
      return `pveum user token add ${step.userid} ${step.tokenName} --privsep 1 --comment 'cozy-proxmox tenant ${step.tenant}'`;
    case "acl":
      return `pveum acl modify ${step.path} --${step.subject === "user" ? "users" : "tokens"} '${step.ugid}' --roles ${step.role} --propagate ${step.propagate ? 1 : 0}`;
  }
}
