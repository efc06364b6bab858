/**
 * `/access/permissions`: what the caller (or one of its tokens, or — with Sys.Audit on
 * /access — anyone) may do, as path → privilege → propagate (1/0).
 */
import type { Handler } from "../context.js";
import { businessError } from "../errors.js";

const permissions: Handler = (ctx) => {
  const me = ctx.auth.authid;
  const userid = ctx.str("userid") ?? me;
  const own = userid === me || (ctx.auth.tokenid === undefined && userid.startsWith(`${me}!`));
  if (!own) ctx.access.check(me, "/access", ["Sys.Audit"]);
  const known = userid.includes("!") ? ctx.state.tokens.has(userid) : ctx.state.users.has(userid);
  if (!known) throw businessError(`no such ${userid.includes("!") ? "token" : "user"} '${userid}'`);
  return ctx.access.permissionsDump(userid, ctx.str("path"));
};

export const permissionHandlers: Record<string, Handler> = {
  "GET /access/permissions": permissions,
};
