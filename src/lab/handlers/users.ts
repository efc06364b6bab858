/**
 * Users, API tokens and ACLs (PVE/API2/User.pm, AccessControl/ACL.pm): what a tenant's
 * Proxmox plan creates. A token's secret is returned once, by the POST that makes it; no
 * read gives it again. ACL roles are PVE's built-in ones.
 */
import { randomUUID } from "node:crypto";
import { normalizePath, ROLES, splitTokenId } from "../access.js";
import type { Handler, HandlerContext } from "../context.js";
import { businessError } from "../errors.js";
import type { LabAclEntry, LabTokenState } from "../state.js";

/** The realms the lab knows. */
const REALMS = new Set(["pam", "pve"]);

function userOf(ctx: HandlerContext): string {
  const userid = ctx.need("userid");
  if (!ctx.state.users.has(userid)) throw businessError(`no such user ('${userid}')`);
  return userid;
}

function tokenInfo(t: LabTokenState): Record<string, unknown> {
  return { privsep: t.privsep ? 1 : 0, expire: 0, ...(t.comment === undefined ? {} : { comment: t.comment }) };
}

function tokensOf(ctx: HandlerContext, userid: string): LabTokenState[] {
  return [...ctx.state.tokens.values()].filter((t) => splitTokenId(t.id)?.user === userid).sort((a, b) => a.id.localeCompare(b.id));
}

const listUsers: Handler = (ctx) => {
  const me = splitTokenId(ctx.auth.authid)?.user ?? ctx.auth.authid;
  const seeAll = ctx.access.has(ctx.auth.authid, "/access/groups", ["User.Modify", "Sys.Audit"], true);
  return [...ctx.state.users.values()]
    .filter((u) => seeAll || u.id === me)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((u) => ({ userid: u.id, enable: u.enabled ? 1 : 0, expire: 0, ...(u.comment === undefined ? {} : { comment: u.comment }) }));
};

const readUser: Handler = (ctx) => {
  const userid = userOf(ctx);
  const u = ctx.state.users.get(userid)!;
  const tokens = Object.fromEntries(tokensOf(ctx, userid).map((t) => [splitTokenId(t.id)?.token ?? t.id, tokenInfo(t)]));
  return { enable: u.enabled ? 1 : 0, expire: 0, groups: [], tokens, ...(u.comment === undefined ? {} : { comment: u.comment }) };
};

const createUser: Handler = (ctx) => {
  const userid = ctx.need("userid");
  const realm = userid.split("@")[1] ?? "";
  if (!REALMS.has(realm)) throw businessError(`create user failed: domain '${realm}' does not exist`);
  if (ctx.state.users.has(userid)) throw businessError(`create user failed: user '${userid}' already exists`);
  const comment = ctx.str("comment");
  ctx.state.users.set(userid, { id: userid, enabled: ctx.flag("enable") ?? true, ...(comment === undefined ? {} : { comment }) });
  return null;
};

const deleteUser: Handler = (ctx) => {
  const userid = userOf(ctx);
  for (const t of tokensOf(ctx, userid)) ctx.state.tokens.delete(t.id);
  ctx.state.acl = ctx.state.acl.filter((e) => e.ugid !== userid && splitTokenId(e.ugid)?.user !== userid);
  ctx.state.users.delete(userid);
  return null;
};

const listTokens: Handler = (ctx) => tokensOf(ctx, userOf(ctx)).map((t) => ({ tokenid: splitTokenId(t.id)?.token, ...tokenInfo(t) }));

function fullTokenId(ctx: HandlerContext): string {
  return `${userOf(ctx)}!${ctx.need("tokenid")}`;
}

function tokenOf(ctx: HandlerContext): LabTokenState {
  const id = fullTokenId(ctx);
  const t = ctx.state.tokens.get(id);
  if (!t) throw businessError(`no such token '${ctx.need("tokenid")}' for user '${ctx.need("userid")}'`);
  return t;
}

const readToken: Handler = (ctx) => tokenInfo(tokenOf(ctx));

/** The only answer that carries the token's secret (`value`). */
const createToken: Handler = (ctx) => {
  const id = fullTokenId(ctx);
  if (ctx.state.tokens.has(id)) throw businessError("Token already exists.");
  const comment = ctx.str("comment");
  const token: LabTokenState = { id, secret: randomUUID(), privsep: ctx.flag("privsep") ?? true, ...(comment === undefined ? {} : { comment }) };
  ctx.state.tokens.set(id, token);
  return { "full-tokenid": id, info: tokenInfo(token), value: token.secret };
};

const deleteToken: Handler = (ctx) => {
  const t = tokenOf(ctx);
  ctx.state.tokens.delete(t.id);
  ctx.state.acl = ctx.state.acl.filter((e) => e.ugid !== t.id);
  return null;
};

const ACL_PATH = /^\/(access(\/(groups(\/[^/]+)?|realm(\/[^/]+)?))?|nodes(\/[^/]+)?|pool(\/[^/]+)?|sdn(\/zones(\/[^/]+(\/[^/]+(\/[^/]+)?)?)?)?|storage(\/[^/]+)?|vms(\/\d+)?|mapping(\/[^/]+(\/[^/]+)?)?)?$/;

function aclTargets(ctx: HandlerContext): Array<{ ugid: string; kind: "user" | "token" }> {
  const split = (name: string): string[] => (ctx.str(name) ?? "").split(/[,;\s]+/).filter(Boolean);
  if (split("groups").length > 0) throw businessError("the lab has no groups: grant to users or tokens");
  const users = split("users").map((ugid) => {
    if (!ctx.state.users.has(ugid)) throw businessError(`user '${ugid}' does not exist`);
    return { ugid, kind: "user" as const };
  });
  const tokens = split("tokens").map((ugid) => {
    if (!ctx.state.tokens.has(ugid)) {
      const parts = splitTokenId(ugid);
      throw businessError(`no such token '${parts?.token ?? ugid}' for user '${parts?.user ?? ""}'`);
    }
    return { ugid, kind: "token" as const };
  });
  return [...users, ...tokens];
}

const updateAcl: Handler = (ctx) => {
  const path = normalizePath(ctx.need("path"));
  if (!ACL_PATH.test(path)) throw businessError(`invalid ACL path '${ctx.need("path")}'`);
  const roles = ctx.need("roles").split(/[,;\s]+/).filter(Boolean);
  for (const role of roles) if (!(role in ROLES)) throw businessError(`role '${role}' does not exist`);
  const remove = ctx.flag("delete") ?? false;
  const propagate = ctx.flag("propagate") ?? true;
  for (const { ugid, kind } of aclTargets(ctx)) {
    for (const role of roles) {
      const same = (e: LabAclEntry): boolean => e.path === path && e.ugid === ugid && e.role === role;
      ctx.state.acl = ctx.state.acl.filter((e) => !same(e));
      if (!remove) ctx.state.acl.push({ path, role, ugid, kind, propagate });
    }
  }
  return null;
};

/** Only the entries whose path the caller may change permissions of. */
const listAcl: Handler = (ctx) =>
  ctx.state.acl
    .filter((e) => ctx.auth.authid === "root@pam" || ctx.access.mayModify(ctx.auth.authid, e.path))
    .map((e) => ({ path: e.path, roleid: e.role, type: e.kind, ugid: e.ugid, propagate: e.propagate ? 1 : 0 }));

const listRoles: Handler = () =>
  Object.entries(ROLES).map(([roleid, privs]) => ({ roleid, privs: [...privs].sort().join(","), special: 1 }));

export const userHandlers: Record<string, Handler> = {
  "GET /access/users": listUsers,
  "POST /access/users": createUser,
  "GET /access/users/{userid}": readUser,
  "DELETE /access/users/{userid}": deleteUser,
  "GET /access/users/{userid}/token": listTokens,
  "GET /access/users/{userid}/token/{tokenid}": readToken,
  "POST /access/users/{userid}/token/{tokenid}": createToken,
  "DELETE /access/users/{userid}/token/{tokenid}": deleteToken,
  "GET /access/acl": listAcl,
  "PUT /access/acl": updateAcl,
  "GET /access/roles": listRoles,
};
