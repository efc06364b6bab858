/**
 * Plain HTTP(S) calls to a lab for its tests: no client library, just node:http(s) with the
 * lab's CA so TLS stays verified, and the raw status line, headers and body.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LabHandle, LabToken } from "../../../lab/index.js";

export interface PveAnswer {
  readonly status: number;
  /** The reason phrase of the status line. */
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed JSON body (undefined when empty or not JSON). */
  readonly body: { data?: unknown; message?: string; errors?: Record<string, string>; total?: number } | undefined;
}

export interface CallOptions {
  /** Token to authenticate with; null sends no Authorization header. @default lab.tokens.admin */
  readonly token?: LabToken | null;
  /** JSON body (POST/PUT). */
  readonly json?: Record<string, unknown>;
  /** Form-urlencoded body (POST/PUT). */
  readonly form?: Record<string, string | string[]>;
  /** A raw body with its content type. */
  readonly raw?: { readonly contentType: string; readonly body: Buffer | string };
  readonly headers?: Record<string, string>;
}

/** One API call; `path` is relative to `/api2/json` unless it starts with `!` (raw path). */
export function call(lab: LabHandle, method: string, path: string, options: CallOptions = {}): Promise<PveAnswer> {
  const url = new URL(path.startsWith("!") ? lab.url + path.slice(1) : `${lab.url}/api2/json${path}`);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const token = options.token === undefined ? lab.tokens.admin : options.token;
  if (token) headers["Authorization"] = `PVEAPIToken=${token.id}=${token.secret}`;
  let body: Buffer | undefined;
  if (options.json) {
    body = Buffer.from(JSON.stringify(options.json));
    headers["Content-Type"] = "application/json";
  } else if (options.form) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const item of Array.isArray(v) ? v : [v]) form.append(k, item);
    body = Buffer.from(form.toString());
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (options.raw) {
    body = Buffer.from(options.raw.body);
    headers["Content-Type"] = options.raw.contentType;
  }
  if (body) headers["Content-Length"] = String(body.length);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method, headers, ...(url.protocol === "https:" ? { ca: lab.caPem } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: PveAnswer["body"];
          try {
            parsed = text === "" ? undefined : (JSON.parse(text) as PveAnswer["body"]);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: res.headers, text, body: parsed });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** `data` of a 200 answer; fails the test with the status line otherwise. */
export async function data<T = unknown>(lab: LabHandle, method: string, path: string, options: CallOptions = {}): Promise<T> {
  const answer = await call(lab, method, path, options);
  if (answer.status !== 200) throw new Error(`${method} ${path}: ${answer.status} ${answer.statusText} ${answer.text}`);
  return answer.body?.data as T;
}

export interface TaskStatus {
  readonly status: string;
  readonly exitstatus?: string;
  readonly type: string;
  readonly node: string;
}

/** Polls a task's status until it stopped (bounded); returns the final status. */
export async function waitTask(lab: LabHandle, upid: string, timeoutMs = 10_000): Promise<TaskStatus> {
  const node = upid.split(":")[1] ?? "";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await data<TaskStatus>(lab, "GET", `/nodes/${node}/tasks/${upid}/status`);
    if (status.status === "stopped") return status;
    if (Date.now() > deadline) throw new Error(`task ${upid} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a task to completion and returns its log lines. */
export async function taskLog(lab: LabHandle, upid: string): Promise<string[]> {
  const node = upid.split(":")[1] ?? "";
  const lines = await data<Array<{ n: number; t: string }>>(lab, "GET", `/nodes/${node}/tasks/${upid}/log?limit=0`);
  return lines.map((l) => l.t);
}

/** Polls until `fn` stops throwing (bounded). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
