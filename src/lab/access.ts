/**
 * Authentication (API tokens) and authorization: PVE's built-in roles, ACL inheritance
 * with propagate, pool-derived permissions, privilege separation for tokens, and the
 * schema's permission DSL (`perm`, `and`, `or`, `require_param`), raising PVE's
 * `Permission check failed (<path>, <priv>)`.
 */
import { timingSafeEqual } from "node:crypto";
import { PveError, permissionError } from "./errors.js";
import { pve8Permissions, type RouteMatch } from "./schema.js";
import type { LabState } from "./state.js";

/** Every privilege of PVE 9.1 (VM.Monitor is gone; VM.GuestAgent.* replace it). */
export const ALL_PRIVILEGES = [
  "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
  "Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify",
  "Pool.Allocate", "Pool.Audit", "Realm.Allocate", "Realm.AllocateUser", "SDN.Allocate", "SDN.Audit",
  "SDN.Use", "Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify",
  "Sys.PowerMgmt", "Sys.Syslog", "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone",
  "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
  "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit",
  "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
  "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot",
  "VM.Snapshot.Rollback",
] as const;

/** Privileges PVE 9.0 introduced: the guest agent split of VM.Monitor, and VM.Replicate. */
const NEW_IN_PVE9 = new Set<string>([
  "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
  "VM.GuestAgent.Unrestricted", "VM.Replicate",
]);
const notPve9Only = (p: string): boolean => !NEW_IN_PVE9.has(p);

/** Every privilege of PVE 8.4 (the lab treats every 8.x, and older, as 8.4). */
export const PVE8_PRIVILEGES: readonly string[] = [...ALL_PRIVILEGES.filter(notPve9Only), "VM.Monitor"].sort();

const VM_USER = [
  "VM.Audit", "VM.Backup", "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.GuestAgent.Audit",
  "VM.PowerMgmt",
];
const VM_ADMIN = [
  ...VM_USER, "VM.Allocate", "VM.Clone", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.HWType",
  "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.GuestAgent.FileRead",
  "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate",
  "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
];
// PVE 8: PVEVMUser had no guest agent access at all; PVEVMAdmin had VM.Monitor.
const VM_USER_PVE8 = VM_USER.filter(notPve9Only);
const VM_ADMIN_PVE8 = [...VM_ADMIN.filter(notPve9Only), "VM.Monitor"];

function builtinRoles(all: readonly string[], vmUser: readonly string[], vmAdmin: readonly string[]): Readonly<Record<string, readonly string[]>> {
  return {
    Administrator: all,
    NoAccess: [],
    PVEAuditor: all.filter((p) => p.endsWith(".Audit")),
    PVEVMAdmin: vmAdmin,
    PVEVMUser: vmUser,
    PVETemplateUser: ["VM.Clone", "VM.Audit"],
    PVEDatastoreAdmin: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"],
    PVEDatastoreUser: ["Datastore.AllocateSpace", "Datastore.Audit"],
    PVESDNUser: ["SDN.Use", "SDN.Audit"],
    PVESDNAdmin: ["SDN.Allocate", "SDN.Audit", "SDN.Use"],
    PVEPoolUser: ["Pool.Audit"],
    PVEPoolAdmin: ["Pool.Allocate", "Pool.Audit"],
    PVEMappingUser: ["Mapping.Audit", "Mapping.Use"],
    PVEAdmin: all.filter((p) => !["Permissions.Modify", "Sys.Modify", "Sys.PowerMgmt", "Sys.Incoming", "Sys.AccessNetwork", "Realm.Allocate"].includes(p)),
  };
}

/** PVE 9's built-in roles. */
export const ROLES = builtinRoles(ALL_PRIVILEGES, VM_USER, VM_ADMIN);
/** PVE 8's built-in roles (VM.Monitor instead of the guest agent privileges, no VM.Replicate). */
export const ROLES_PVE8 = builtinRoles(PVE8_PRIVILEGES, VM_USER_PVE8, VM_ADMIN_PVE8);

/** The privilege generation a `/version` answer stands for: 8 below PVE 9 (and when unparsable, 9). */
export function privilegeGeneration(version: { readonly version: string; readonly release: string }): 8 | 9 {
  const major = Number(/^(\d+)/.exec(version.release || version.version)?.[1] ?? Number.NaN);
  return major < 9 ? 8 : 9;
}

interface PrivilegeModel {
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** root@pam's privileges (shared, never mutated by callers). */
  readonly root: ReadonlyMap<string, boolean>;
}

const MODELS: Readonly<Record<8 | 9, PrivilegeModel>> = {
  8: { roles: ROLES_PVE8, root: new Map(PVE8_PRIVILEGES.map((p) => [p, true])) },
  9: { roles: ROLES, root: new Map(ALL_PRIVILEGES.map((p) => [p, true])) },
};

/**
 * What lets an auth id change the ACLs of a path (PVE's check_perm_modify): Permissions.Modify,
 * or the allocation privilege of the object kind.
 */
function modifyPrivileges(path: string): string[] {
  if (/^\/storage\/.+/.test(path)) return ["Permissions.Modify", "Datastore.Allocate"];
  if (/^\/vms\/.+/.test(path)) return ["Permissions.Modify", "VM.Allocate"];
  if (/^\/pool\/.+/.test(path)) return ["Permissions.Modify", "Pool.Allocate"];
  return ["Permissions.Modify"];
}

/** Who made a request. */
export interface AuthInfo {
  /** `user@realm` or `user@realm!token` (what UPIDs and permission checks use). */
  readonly authid: string;
  readonly user: string;
  readonly tokenid?: string;
}

/** Splits `user@realm!token`. */
export function splitTokenId(id: string): { user: string; token: string } | undefined {
  const bang = id.lastIndexOf("!");
  if (bang < 0) return undefined;
  return { user: id.slice(0, bang), token: id.slice(bang + 1) };
}

function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates a request from its Authorization header (PVE API tokens only; the lab has no
 * tickets). Missing credentials → 401 `No ticket`; anything wrong → 401 `Authentication failed!`.
 */
export function authenticate(state: LabState, authorization: string | undefined, cookie: string | undefined): AuthInfo {
  const m = authorization === undefined ? null : /^PVEAPIToken[= ](.+)$/.exec(authorization.trim());
  if (!m) {
    const hasTicket = /PVEAuthCookie=/.test(cookie ?? "") || /^PVEAuthCookie=/.test(authorization ?? "");
    throw new PveError(401, hasTicket ? "Authentication failed!" : "No ticket", { emptyBody: true });
  }
  const value = m[1] ?? "";
  const eq = value.lastIndexOf("=");
  // Built only on failure: constructing an Error (stack trace) on every request is costly.
  const failed = (): PveError => new PveError(401, "Authentication failed!", { emptyBody: true });
  if (eq < 0) throw failed();
  const tokenId = value.slice(0, eq);
  const secret = value.slice(eq + 1);
  const token = state.tokens.get(tokenId);
  const parts = splitTokenId(tokenId);
  if (!token || !parts || !secretsEqual(token.secret, secret)) throw failed();
  const user = state.users.get(parts.user);
  if (!user || !user.enabled) throw failed();
  return { authid: tokenId, user: parts.user, tokenid: parts.token };
}

/** Privilege → propagate flag. */
export type PrivilegeMap = Map<string, boolean>;

function pathPrefixes(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  const out = ["/"];
  for (let i = 1; i <= parts.length; i++) out.push("/" + parts.slice(0, i).join("/"));
  return out;
}

/** Normalizes an ACL path (`/vms/100/` → `/vms/100`, `//` collapsed). */
export function normalizePath(path: string): string {
  const n = "/" + path.split("/").filter(Boolean).join("/");
  return n;
}

/**
 * Permission evaluation over the lab's ACLs. Roles, root's privileges and endpoint permissions
 * follow the PVE major the scenario's `/version` claims (read per request: tests may change it).
 */
export class Access {
  private readonly state: LabState;

  constructor(state: LabState) {
    this.state = state;
  }

  private get generation(): 8 | 9 {
    return privilegeGeneration(this.state.version);
  }

  /** Privileges a single ACL subject (user or token id) has on exactly `path` from the ACL tree. */
  private aclPrivileges(ugid: string, path: string): PrivilegeMap {
    const roles = MODELS[this.generation].roles;
    let granted: PrivilegeMap | undefined;
    for (const prefix of pathPrefixes(path)) {
      const entries = this.state.acl.filter((e) => e.ugid === ugid && e.path === prefix && (prefix === path || e.propagate));
      if (entries.length === 0) continue;
      // A deeper ACL replaces what was inherited (PVE's "more specific wins").
      granted = new Map();
      for (const e of entries) {
        for (const priv of roles[e.role] ?? []) granted.set(priv, (granted.get(priv) ?? false) || e.propagate);
      }
    }
    return granted ?? new Map();
  }

  /** The pools whose ACLs reach `path`: a member VM's pool, or the pools holding a storage. */
  private poolsOf(path: string): string[] {
    const vm = /^\/vms\/(\d+)$/.exec(path);
    if (vm) {
      const pool = this.state.vms.get(Number(vm[1]))?.pool;
      return pool === undefined ? [] : [pool];
    }
    const storage = /^\/storage\/([^/]+)$/.exec(path);
    return storage ? this.state.poolsOfStorage(storage[1] ?? "") : [];
  }

  private subjectPrivileges(ugid: string, path: string): PrivilegeMap {
    if (ugid === "root@pam") return MODELS[this.generation].root as PrivilegeMap; // shared, never mutated by callers
    const own = this.aclPrivileges(ugid, path);
    // Members of a pool (VMs and storages) also get the privileges granted on /pool/<pool>.
    for (const pool of this.poolsOf(path)) {
      for (const [p, prop] of this.aclPrivileges(ugid, `/pool/${pool}`)) own.set(p, (own.get(p) ?? false) || prop);
    }
    return own;
  }

  /** The effective privileges of an auth id (user or token) on a path. */
  privileges(authid: string, path: string): PrivilegeMap {
    const norm = normalizePath(path);
    const tok = splitTokenId(authid);
    if (!tok) return this.subjectPrivileges(authid, norm);
    const token = this.state.tokens.get(authid);
    const userPrivs = this.subjectPrivileges(tok.user, norm);
    if (!token || !token.privsep) return userPrivs;
    const tokenPrivs = this.subjectPrivileges(authid, norm);
    const both: PrivilegeMap = new Map();
    for (const [p, prop] of tokenPrivs) if (userPrivs.has(p)) both.set(p, prop);
    return both;
  }

  /** Whether the auth id has all (or, with `any`, one) of `privs` on `path`. */
  has(authid: string, path: string, privs: readonly string[], any = false): boolean {
    const have = this.privileges(authid, path);
    return any ? privs.some((p) => have.has(p)) : privs.every((p) => have.has(p));
  }

  /** Like `has`, but raises PVE's 403 naming the path and the (first missing | any-of) privilege. */
  check(authid: string, path: string, privs: readonly string[], any = false): void {
    const norm = normalizePath(path);
    const have = this.privileges(authid, norm);
    if (any) {
      if (!privs.some((p) => have.has(p))) throw permissionError(`${norm}, ${privs.join("|")}`);
      return;
    }
    const missing = privs.find((p) => !have.has(p));
    if (missing !== undefined) throw permissionError(`${norm}, ${missing}`);
  }

  /**
   * Evaluates an endpoint's `permissions` (RPCEnvironment::check_api2_permissions): the 9.1
   * schema's, or on a PVE 8 lab the 8.4 schema's where the endpoint exists there (the guest
   * agent endpoints then want VM.Monitor).
   */
  checkEndpoint(route: Pick<RouteMatch, "key" | "api">, auth: AuthInfo | undefined, params: Readonly<Record<string, unknown>>): void {
    const pve8 = this.generation === 8 ? pve8Permissions() : undefined;
    const perm = pve8?.has(route.key) ? pve8.get(route.key) : route.api.permissions;
    if (perm?.user === "world") return;
    if (!auth) throw permissionError("user != null");
    if (auth.authid === "root@pam") return;
    if (!perm) throw permissionError("user != root@pam");
    if (perm.user === "all") return;
    if (perm.check) {
      this.evalCheck(perm.check, auth.authid, params, false);
      return;
    }
    throw permissionError();
  }

  private evalCheck(check: readonly unknown[], authid: string, params: Readonly<Record<string, unknown>>, noerr: boolean): boolean {
    const [test, ...rest] = check;
    if (test === "and") {
      for (const c of rest) if (!this.evalCheck(c as unknown[], authid, params, noerr)) return false;
      return true;
    }
    if (test === "or") {
      for (const c of rest) if (this.evalCheck(c as unknown[], authid, params, true)) return true;
      if (noerr) return false;
      throw permissionError();
    }
    if (test === "perm") {
      const [tmpl, privs, ...opts] = rest as [string, string[], ...unknown[]];
      const options = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < opts.length; i += 2) options.set(opts[i], opts[i + 1]);
      const required = options.get("require_param");
      if (typeof required === "string" && params[required] === undefined) {
        if (noerr) return false;
        throw permissionError();
      }
      const path = normalizePath(tmpl.replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name] ?? "")));
      const any = Boolean(options.get("any"));
      if (noerr) return this.has(authid, path, privs, any);
      this.check(authid, path, privs, any);
      return true;
    }
    if (test === "userid-param" && rest[0] === "self") {
      const ok = params["userid"] === authid || params["userid"] === splitTokenId(authid)?.user;
      if (!ok && !noerr) throw permissionError();
      return ok;
    }
    if (test === "userid-param") {
      // the realm of the user being made: Realm.AllocateUser on /access/realm/<realm>
      const realm = String(params["userid"] ?? "").split("@")[1] ?? "";
      return this.checkOrNot(authid, `/access/realm/${realm}`, rest as string[], false, noerr);
    }
    if (test === "userid-group") {
      // the lab has no groups: the privileges on /access/groups decide, as for a user in none
      return this.checkOrNot(authid, "/access/groups", rest[0] as string[], true, noerr);
    }
    if (test === "perm-modify") {
      const path = normalizePath(String(rest[0] ?? "").replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name] ?? "")));
      return this.checkOrNot(authid, path, modifyPrivileges(path), true, noerr);
    }
    // Other checks (userid-group, perm-modify, ...) are not modelled: only root passes them.
    if (noerr) return false;
    throw permissionError();
  }

  private checkOrNot(authid: string, path: string, privs: readonly string[], any: boolean, noerr: boolean): boolean {
    if (noerr) return this.has(authid, path, privs, any);
    this.check(authid, path, privs, any);
    return true;
  }

  /** Whether the auth id may change the ACLs of `path` (PVE's check_perm_modify). */
  mayModify(authid: string, path: string): boolean {
    return this.has(authid, normalizePath(path), modifyPrivileges(normalizePath(path)), true);
  }

  /** `/access/permissions`: paths → privileges with their propagate flag (0/1). */
  permissionsDump(authid: string, onlyPath?: string): Record<string, Record<string, number>> {
    const paths = new Set<string>();
    if (onlyPath !== undefined) paths.add(normalizePath(onlyPath));
    else {
      for (const p of ["/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"]) paths.add(p);
      for (const e of this.state.acl) paths.add(normalizePath(e.path));
      for (const pool of this.state.pools.keys()) paths.add(`/pool/${pool}`);
      for (const vm of this.state.vms.values()) if (vm.pool !== undefined) paths.add(`/vms/${vm.vmid}`);
    }
    const out: Record<string, Record<string, number>> = {};
    for (const path of [...paths].sort()) {
      const privs = this.privileges(authid, path);
      out[path] = Object.fromEntries([...privs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, prop]) => [p, prop ? 1 : 0]));
    }
    return out;
  }
}
