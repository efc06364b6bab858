/**
 * HTTP/1.1 on a bare socket, for the lab's transport tests: a request is whatever bytes the
 * test writes (lying Content-Length, broken chunking, endless bodies), and the answer is the
 * first response the lab writes back, parsed by hand so nothing is normalized away.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { LabHandle } from "../../../lab/index.js";

/** The first response on the connection. */
export interface RawAnswer {
  readonly status: number;
  /** The reason phrase of the status line. */
  readonly reason: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What came back, and how the request side went. */
export interface RawExchange {
  /** undefined when the lab closed the connection without a (complete) response. */
  readonly answer: RawAnswer | undefined;
  /** Body bytes the socket accepted before the answer came or the lab closed the connection. */
  readonly bytesWritten: number;
}

export interface RawOptions {
  /** Request line and headers, CRLF-separated, without the blank line that ends them. */
  readonly head: string;
  /** Body bytes: a buffer, or chunks written with back-pressure until the answer arrives. @default none */
  readonly body?: Buffer | Iterable<Buffer>;
  /** Gives up (and fails) after this long. @default 10_000 */
  readonly timeoutMs?: number;
  /** Leave the head unterminated (no blank line), as a client that never finishes its headers. @default false */
  readonly unterminated?: boolean;
  /** Skip interim answers (`100 Continue`) and wait for the final one. @default false */
  readonly skipInterim?: boolean;
}

/** Where to connect: a running lab, or one in another process (url, and its CA for HTTPS). */
export type LabAddress = Pick<LabHandle, "url"> & { readonly caPem?: string | undefined };

function open(lab: LabAddress, onConnect: () => void): Socket {
  const url = new URL(lab.url);
  const port = Number(url.port);
  if (url.protocol === "https:") return tlsConnect({ host: url.hostname, port, ...(lab.caPem === undefined ? {} : { ca: lab.caPem }) }, onConnect);
  return netConnect({ host: url.hostname, port }, onConnect);
}

/** Parses the first complete (with `skipInterim`: final) response in `buf`, or undefined when it is not complete yet. */
export function parseResponse(buf: Buffer, headOnly = false, skipInterim = false): RawAnswer | undefined {
  const first = parseOne(buf, headOnly);
  if (!skipInterim || !first || first.status >= 200) return first;
  return parseResponse(buf.subarray(buf.indexOf("\r\n\r\n") + 4), headOnly, skipInterim);
}

function parseOne(buf: Buffer, headOnly: boolean): RawAnswer | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headOnly || Number(m[1]) < 200 ? 0 : Number(headers["content-length"] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return { status: Number(m[1]), reason: m[2] ?? "", headers, body: buf.subarray(end + 4, end + 4 + length) };
}

/** Writes one request and reads the first response (HEAD: headers only). */
export function rawRequest(lab: LabAddress, options: RawOptions): Promise<RawExchange> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headOnly = /^HEAD /.test(options.head);
  return new Promise<RawExchange>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let bytesWritten = 0;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else {
        try {
          resolve({ answer: parseResponse(received, headOnly, options.skipInterim), bytesWritten });
        } catch (e) {
          reject(e as Error);
        }
      }
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms to ${options.head.split("\r\n")[0]}`)), timeoutMs);
    const writeBody = async (): Promise<void> => {
      const body = options.body;
      if (body === undefined) return;
      for (const chunk of Buffer.isBuffer(body) ? [body] : body) {
        if (settled || socket.destroyed) return;
        const flushed = socket.write(chunk);
        bytesWritten += chunk.length;
        if (!flushed) await new Promise<void>((r) => { socket.once("drain", r); socket.once("close", r); });
      }
    };
    const socket = open(lab, () => {
      socket.write(options.head + (options.unterminated ? "\r\n" : "\r\n\r\n"));
      void writeBody();
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        if (parseResponse(received, headOnly, options.skipInterim)) finish();
      } catch (e) {
        finish(e as Error);
      }
    });
    // The lab may close while the body is still being written (EPIPE, ECONNRESET): what it answered before counts.
    socket.on("error", () => finish());
    socket.on("close", () => finish());
  });
}

/** `count` chunks of `size` zero bytes (the same buffer each time: the test itself stays small). */
export function* zeros(count: number, size = 64 * 1024): Generator<Buffer> {
  const chunk = Buffer.alloc(size);
  for (let i = 0; i < count; i++) yield chunk;
}

/** The `Authorization` header line of a lab token. */
export function authLine(lab: LabHandle, which: "admin" | "readonly" = "admin"): string {
  const t = lab.tokens[which];
  return `Authorization: PVEAPIToken=${t.id}=${t.secret}`;
}
