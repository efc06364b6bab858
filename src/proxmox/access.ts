/**
 * Access: the calling token's effective privileges (`GET /access/permissions`) and a
 * preflight check against what an operation needs.
 */
import type { Requester } from "./requester.js";
import type { PermissionMap, PermissionsQuery } from "./types.js";

export function permissions(r: Requester, query: PermissionsQuery = {}): Promise<PermissionMap> {
  return r.request("GET", "/access/permissions", { path: query.path, userid: query.userid });
}

/** Privileges needed on an ACL path (all of them, or any one with `any`). */
export interface PrivilegeRequirement {
  readonly path: string;
  readonly privs: readonly string[];
  readonly any?: boolean;
}

export interface MissingPrivilege {
  readonly path: string;
  /** Privileges that are missing (for `any`: all of the alternatives). */
  readonly privs: readonly string[];
}

/**
 * Effective privileges at `path`: the path's own entry when PVE listed it, else what the
 * nearest listed ancestor propagates (flag 1).
 */
export function privilegesAt(map: PermissionMap, path: string): Set<string> {
  const own = map[path];
  if (own) return new Set(Object.keys(own));
  let parent = path;
  while (parent !== "/") {
    parent = parent.replace(/\/[^/]*$/, "") || "/";
    const entry = map[parent];
    if (entry) return new Set(Object.entries(entry).filter(([, propagate]) => propagate === 1 || propagate === true).map(([priv]) => priv));
  }
  return new Set();
}

/** The requirements the permission map does not satisfy (empty when all are met). */
export function missingPrivileges(map: PermissionMap, requirements: readonly PrivilegeRequirement[]): MissingPrivilege[] {
  const missing: MissingPrivilege[] = [];
  for (const req of requirements) {
    const have = privilegesAt(map, req.path);
    const lacking = req.privs.filter((p) => !have.has(p));
    const ok = req.any ? lacking.length < req.privs.length : lacking.length === 0;
    if (!ok) missing.push({ path: req.path, privs: req.any ? [...req.privs] : lacking });
  }
  return missing;
}
