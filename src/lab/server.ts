/**
 * The request pipeline, in PVE's order: faults → route (501 if unknown) → authentication
 * (401) → body (501 on GET/DELETE or over the endpoint's limit, 506 media type, 408 too slow)
 * → proxying to the node (595 offline, 500 unknown) → endpoint permission (403) →
 * parameter validation (400) → handler (200 or its error).
 *
 * Nothing of a body is read before the request is routed and authenticated, and what the
 * headers already tell (method, media type, Content-Length) is refused before reading too, so
 * an unauthenticated or oversized request costs the lab no memory (limits.ts has the bounds).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticate, type Access, type AuthInfo } from "./access.js";
import { HandlerContext, Reply, type Handler } from "./context.js";
import { PveError, businessError, notImplemented } from "./errors.js";
import type { FaultController } from "./faults.js";
import { mediaType, parseBody, parseQuery, readBody, sendData, sendError, unsupportedMedia } from "./http-io.js";
import type { ByteBudget, LabLimits } from "./limits.js";
import type { ApiSchema, RouteMatch } from "./schema.js";
import type { LabState } from "./state.js";
import type { TaskRunner } from "./tasks.js";

/** Everything the pipeline needs. */
export interface Pipeline {
  readonly state: LabState;
  readonly schema: ApiSchema;
  readonly access: Access;
  readonly tasks: TaskRunner;
  readonly faults: FaultController;
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly limits: LabLimits;
  /** Body bytes held by all requests together. */
  readonly budget: ByteBudget;
  /** Where refused requests are noted (a 403 is what isolation looks like from outside). @default not noted */
  readonly log?: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const UPLOAD_KEY = "POST /nodes/{node}/storage/{storage}/upload";

function decodeSegments(rawPath: string): string[] {
  try {
    return rawPath.split("/").filter(Boolean).map((s) => decodeURIComponent(s));
  } catch (cause) {
    throw new PveError(400, "malformed URI", { cause });
  }
}

/** The node a request is proxied to, checked as pveproxy does. */
function checkNode(state: LabState, route: RouteMatch): void {
  const node = route.pathParams["node"];
  if (node === undefined || !route.template.startsWith("/nodes/{node}")) return;
  const known = state.node(node);
  if (!known) {
    throw businessError(
      `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`,
    );
  }
  if (!known.online && route.api.proxyto === "node") {
    throw new PveError(595, "Connection refused", { emptyBody: true });
  }
}

/** Merges query and body, refusing path parameters that conflict (PVE's rule). */
function mergeParams(
  route: RouteMatch,
  query: Record<string, unknown>,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const params: Record<string, unknown> = { ...body, ...query };
  for (const [k, v] of Object.entries(route.pathParams)) {
    if (params[k] !== undefined && String(params[k]) !== v) {
      throw new PveError(400, "Parameter verification failed.", {
        errors: { [k]: "duplicate parameter (already defined in URI) with conflicting values!" },
      });
    }
    params[k] = v;
  }
  return params;
}

async function authenticateOrDelay(p: Pipeline, req: IncomingMessage): Promise<AuthInfo> {
  try {
    return authenticate(p.state, req.headers.authorization, req.headers.cookie);
  } catch (e) {
    if (p.state.timing.authFailureDelayMs > 0) await sleep(p.state.timing.authFailureDelayMs);
    throw e;
  }
}

const BODY_MEDIA = new Set(["application/json", "application/x-www-form-urlencoded"]);

/**
 * Reads the body the endpoint takes, refusing from the headers alone what they already show
 * is wrong (PVE checks the method, the media type and Content-Length before reading too).
 */
async function receiveBody(p: Pipeline, req: IncomingMessage, res: ServerResponse, method: string, isUpload: boolean): Promise<Buffer> {
  const chunked = req.headers["transfer-encoding"] !== undefined;
  const length = Number(req.headers["content-length"] ?? 0);
  if (!chunked && !(length > 0)) return Buffer.alloc(0);
  const unexpected = (): PveError => new PveError(501, `Unexpected content for method '${method}'`);
  const media = mediaType(req.headers["content-type"]);
  const multipart = media === "multipart/form-data" && isUpload;
  if (method === "GET" || method === "DELETE") {
    if (length > 0) throw unexpected();
  } else if (!multipart && !BODY_MEDIA.has(media)) {
    throw unsupportedMedia(media);
  }
  const limit = multipart ? p.limits.maxUploadBytes : p.limits.maxBodyBytes;
  if (length > limit) throw new PveError(501, "for data too large");
  const body = await readBody(req, res, { limit, timeoutMs: p.limits.bodyTimeoutMs, budget: p.budget });
  if ((method === "GET" || method === "DELETE") && body.length > 0) throw unexpected();
  return body;
}

async function process(p: Pipeline, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? "" : url.slice(q + 1);
  const prefix = /^\/api2\/json(?=\/|$)/.exec(rawPath);
  if (!prefix) throw new PveError(501, "no such uri");
  const segments = decodeSegments(rawPath.slice(prefix[0].length));
  const apiPath = "/" + segments.join("/");

  const fault = p.faults.decide(method, apiPath);
  if (fault.drop) {
    req.socket?.destroy();
    return;
  }
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.error) {
    const empty = fault.error.status >= 595;
    throw new PveError(fault.error.status, fault.error.message, { emptyBody: empty });
  }

  const route = p.schema.match(method, segments);
  if (!route) throw notImplemented(method, apiPath);

  const auth = route.api.permissions?.user === "world" ? undefined : await authenticateOrDelay(p, req);
  if (auth?.tokenid !== undefined && route.api.allowtoken === 0) {
    throw new PveError(403, `Permission check failed (URI '${apiPath}' not available with API token, need proper ticket.\n)`);
  }

  const isUpload = route.key === UPLOAD_KEY;
  const body = await receiveBody(p, req, res, method, isUpload);
  let bodyParams: Record<string, unknown> = {};
  let files = new Map<string, { filename: string; data: Buffer }>();
  if (method !== "GET" && method !== "DELETE") {
    const parsed = await parseBody(req.headers["content-type"], body, isUpload);
    bodyParams = parsed.params;
    files = parsed.files;
  }
  const params = mergeParams(route, parseQuery(search), bodyParams);

  checkNode(p.state, route);
  const vmid = route.pathParams["vmid"];
  if (fault.lockTimeout && vmid !== undefined) {
    throw businessError(`can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`);
  }
  if (!auth) throw new PveError(401, "No ticket", { emptyBody: true });
  p.access.checkEndpoint(route, auth, params);
  const validated = p.schema.validate(route.api, params);

  const handler = p.handlers.get(route.key);
  if (!handler) throw notImplemented(method, apiPath);
  const ctx = new HandlerContext({
    state: p.state,
    access: p.access,
    tasks: p.tasks,
    auth,
    params: validated,
    files,
    api: route.api,
    failTask: fault.failTask,
  });
  const result = await handler(ctx);
  if (result instanceof Reply) sendData(res, result.data, result.extra);
  else sendData(res, result);
}

/** Handles one request; every failure becomes PVE's error answer, unless the client is gone. */
export async function handleRequest(p: Pipeline, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await process(p, req, res);
  } catch (e) {
    // The socket is null once Node detached it from a finished or destroyed exchange.
    if (res.headersSent || res.destroyed || !req.socket || req.socket.destroyed) return;
    const error = e instanceof PveError ? e : new PveError(500, (e as Error).message || String(e), { cause: e });
    // the path only: a query string is the client's, and the lab never logs what it does not need
    if (error.status === 403) p.log?.(`lab: 403 ${req.method ?? "?"} ${(req.url ?? "").split("?")[0]}: ${error.message.trim()}`);
    sendError(res, error);
  }
}
