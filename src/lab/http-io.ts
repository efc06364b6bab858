/**
 * Wire format: reading request bodies (JSON, form, multipart) and writing answers with
 * PVE's headers, envelopes and status lines (reason phrase = first line of the message).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PveError } from "./errors.js";
import type { UploadedFile } from "./context.js";

/** PVE refuses request bodies over 512 KiB (uploads excepted). */
export const MAX_BODY = 512 * 1024;
/** The lab's upload limit (PVE streams uploads to disk; the lab keeps them in memory). */
export const MAX_UPLOAD = 64 * 1024 * 1024;

/** Reads the whole body, refusing more than `limit` bytes (501 as PVE). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new PveError(501, "for data too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
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
  const media = (contentType ?? "application/x-www-form-urlencoded").split(";")[0]?.trim().toLowerCase() ?? "";
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
  throw new PveError(506, `upload 'Content-Type '${media}'' not implemented`);
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
  const payload: Record<string, unknown> = { data: null, message: `${error.message}\n` };
  if (error.errors) payload["errors"] = error.errors;
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(error.status, reason, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(body.length),
  });
  res.end(body);
}
