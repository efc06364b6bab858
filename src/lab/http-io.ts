/**
 * Wire format: reading request bodies (JSON, form, multipart) and writing answers with
 * PVE's headers, envelopes and status lines (reason phrase = first line of the message).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PveError } from "./errors.js";
import type { UploadedFile } from "./context.js";
import type { ByteBudget } from "./limits.js";

/** How one body is read. */
export interface BodyRead {
  /** Most bytes this endpoint takes (more: 501 `for data too large`, as PVE). */
  readonly limit: number;
  /** Time the client has to send it all (else 408). */
  readonly timeoutMs: number;
  /** Bytes all requests hold together (none left: 503). */
  readonly budget: ByteBudget;
}

const pendingBodies = new WeakMap<IncomingMessage, (error: Error) => void>();

/** Fails the read of `req`'s body, if one is under way (Node's parser found the rest of it malformed). */
export function failBody(req: IncomingMessage, error: Error): void {
  pendingBodies.get(req)?.(error);
}

/**
 * Reads the whole body within `limit` bytes and `timeoutMs`. A client that sent
 * `Expect: 100-continue` is asked for the body only now, after its request passed the checks
 * that need no body. On failure the rest of the body is left to drain unread: the error answer
 * closes the connection, and nothing of the body stays held.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, read: BodyRead): Promise<Buffer> {
  if (req.destroyed) return Promise.reject(new Error("the client closed the connection before sending the body"));
  if (/^\s*100-continue\s*$/i.test(req.headers.expect ?? "")) res.writeContinue();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    res.once("close", () => read.budget.give(held));
    const cleanup = (): void => {
      pendingBodies.delete(req);
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      req.off("error", onError);
    };
    const fail = (error: Error): void => {
      cleanup();
      chunks.length = 0;
      read.budget.give(held);
      held = 0;
      req.resume(); // discard what still comes until the connection closes
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > read.limit) return fail(new PveError(501, "for data too large"));
      if (!read.budget.take(chunk.length)) {
        return fail(new PveError(503, "too many request bodies at once, try again later"));
      }
      held += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = (): void => fail(new Error("the client closed the connection before the end of the body"));
    const onError = (cause: Error): void => fail(new Error("the request body could not be read", { cause }));
    const timer = setTimeout(
      () => fail(new PveError(408, `request body not received within ${read.timeoutMs} ms`)),
      read.timeoutMs,
    );
    pendingBodies.set(req, fail);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
    req.on("error", onError);
  });
}

/** The media type of a Content-Type header, lower-cased, without parameters (form when absent, as PVE). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "application/x-www-form-urlencoded").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The 506 PVE answers for a body of a media type it does not take. */
export function unsupportedMedia(media: string): PveError {
  return new PveError(506, `upload 'Content-Type '${media}'' not implemented`);
}

function addParam(into: Record<string, unknown>, key: string, value: string): void {
  const prev = into[key];
  if (prev === undefined) into[key] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else into[key] = [prev, value];
}

/** Query string → params (repeated keys become arrays; `_dc` is dropped as PVE does). */
export function parseQuery(search: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(search)) if (k !== "_dc") addParam(out, k, v);
  return out;
}

/** Parsed body parameters and uploaded files. */
export interface ParsedBody {
  readonly params: Record<string, unknown>;
  readonly files: Map<string, UploadedFile>;
}

/** Parses a POST/PUT body by its media type: JSON, form-urlencoded or (uploads) multipart. */
export async function parseBody(contentType: string | undefined, body: Buffer, allowMultipart: boolean): Promise<ParsedBody> {
  const files = new Map<string, UploadedFile>();
  if (body.length === 0) return { params: {}, files };
  const media = mediaType(contentType);
  if (media === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (cause) {
      throw new PveError(400, `malformed JSON string: ${(cause as Error).message}`, { cause });
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new PveError(400, "malformed JSON string: expected an object");
    }
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (v !== null) params[k] = v;
    return { params, files };
  }
  if (media === "application/x-www-form-urlencoded") {
    return { params: parseQuery(body.toString("utf8")), files };
  }
  if (media === "multipart/form-data" && allowMultipart) {
    // undici (Node's fetch) ships a complete multipart parser.
    const form = await new Request("http://lab.invalid/", {
      method: "POST",
      headers: { "content-type": contentType ?? "" },
      body,
    }).formData();
    const params: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) {
      if (typeof v === "string") addParam(params, k, v);
      else {
        const data = Buffer.from(await v.arrayBuffer());
        files.set(k, { filename: v.name, data });
        params[k] = v.name;
      }
    }
    return { params, files };
  }
  throw unsupportedMedia(media);
}

/** Reason phrases must be printable single-line Latin-1 (Node rejects anything else). */
function reasonPhrase(message: string): string {
  const first = message.split("\n")[0] ?? "";
  return first.replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
}

function baseHeaders(): Record<string, string> {
  const date = new Date().toUTCString();
  return { Server: "pve-api-daemon/3.0", "Cache-Control": "max-age=0", Pragma: "no-cache", Expires: date };
}

/** 200 with `{"data": ...}` (plus siblings such as `total`). */
export function sendData(res: ServerResponse, data: unknown, extra: Readonly<Record<string, unknown>> = {}): void {
  const body = Buffer.from(JSON.stringify({ ...extra, data: data === undefined ? null : data }));
  res.writeHead(200, "OK", {
    ...baseHeaders(),
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(body.length),
  });
  res.end(body);
}

function errorBody(error: PveError): Buffer {
  const payload: Record<string, unknown> = { data: null, message: `${error.message}\n` };
  if (error.errors) payload["errors"] = error.errors;
  return Buffer.from(JSON.stringify(payload));
}

/** An error answer: status line from the message; JSON body with `message`/`errors`, or empty. */
export function sendError(res: ServerResponse, error: PveError): void {
  const headers: Record<string, string> = { ...baseHeaders(), Connection: "close" };
  const reason = reasonPhrase(error.message);
  if (error.emptyBody) {
    headers["Content-Length"] = "0";
    res.writeHead(error.status, reason, headers);
    res.end();
    return;
  }
  const body = errorBody(error);
  res.writeHead(error.status, reason, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(body.length),
  });
  res.end(body);
}

/**
 * The bytes of an error answer written straight to a socket, for requests Node's parser
 * refused before there was a response object (malformed, headers too large or too slow).
 */
export function rawErrorAnswer(error: PveError): Buffer {
  const body = errorBody(error);
  const headers: Record<string, string> = {
    ...baseHeaders(),
    Connection: "close",
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(body.length),
  };
  const head = [`HTTP/1.1 ${error.status} ${reasonPhrase(error.message)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(head.join("\r\n") + "\r\n\r\n", "latin1"), body]);
}
