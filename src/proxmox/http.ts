/**
 * The wire: one HTTP(S) request to `<base>/api2/json<path>`, PVE's encoding rules, and
 * transport failures turned into `ProxmoxApiError`s. No retries and no status mapping here
 * (client.ts does both).
 *
 * Built on node:http/https rather than fetch because it lets us (a) verify the server's
 * certificate ourselves before the socket carries the Authorization header, (b) read PVE's
 * reason line, and (c) tell "never connected" from "connected, then failed", which decides
 * whether a write may be repeated.
 */
import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { connect as netConnect, isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { HttpMethod, Params } from "./api.js";
import type { TokenCredentials } from "./auth.js";
import { ProxmoxApiError } from "./errors.js";
import { isTlsErrorCode, tlsConnectOptions, tlsGuidance, TlsVerificationFailure, verifyPeer, type TlsMode } from "./tls.js";

/** Body of a multipart upload: buffers and files, written in order. */
export interface MultipartBody {
  readonly contentType: string;
  readonly length: number;
  readonly parts: readonly (Uint8Array | { readonly file: string })[];
}

export interface TransportRequest {
  readonly method: HttpMethod;
  /** Relative to `/api2/json`, starting with `/`, already encoded. */
  readonly path: string;
  readonly params?: Params;
  readonly multipart?: MultipartBody;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  /** The HTTP reason phrase: PVE puts the first line of its error message here. */
  readonly reason: string;
  /** Parsed JSON body; undefined when the body is empty. */
  readonly body: unknown;
}

export interface TransportOptions {
  readonly baseUrl: URL;
  readonly credentials: TokenCredentials;
  readonly tls: TlsMode;
  readonly userAgent: string;
  /** Parallel keep-alive connections for reads. @default 8 */
  readonly maxSockets?: number;
}

/** PVE's form encoding: booleans as 1/0, arrays as repeated keys, null/undefined dropped. */
export function encodeParams(params: Params | undefined): URLSearchParams {
  const out = new URLSearchParams();
  if (!params) return out;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value as readonly (string | number)[]) out.append(key, String(item));
    else if (typeof value === "boolean") out.append(key, value ? "1" : "0");
    else out.append(key, String(value));
  }
  return out;
}

/** A failure before any byte of the request could reach the server. */
class ConnectFailure extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

type Callback = (err: Error | null, stream: Duplex) => void;

/**
 * Hands the HTTP layer a socket only once it is connected and, for HTTPS, once the peer
 * passed `verifyPeer`. Errors up to that point are `ConnectFailure`s.
 */
function connectVerified(
  options: http.ClientRequestArgs,
  tls: TlsMode | undefined,
  callback: Callback,
): void {
  const host = String(options.host ?? options.hostname ?? "localhost");
  const port = Number(options.port);
  let done = false;
  const finish = (err: Error | null, socket: Socket): void => {
    if (done) return;
    done = true;
    if (err) socket.destroy();
    callback(err, socket);
  };
  let socket: Socket;
  if (!tls) {
    socket = netConnect({ host, port });
    socket.once("connect", () => finish(null, socket));
  } else {
    const tlsSocket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ["http/1.1"],
      ...tlsConnectOptions(tls),
    });
    tlsSocket.once("secureConnect", () => {
      const failure = verifyPeer(tlsSocket, tls, host);
      finish(failure ? new ConnectFailure(failure) : null, tlsSocket);
    });
    socket = tlsSocket;
  }
  socket.once("error", (err) => finish(new ConnectFailure(err), socket));
}

class VerifiedHttpsAgent extends https.Agent {
  constructor(
    private readonly tlsMode: TlsMode,
    options: https.AgentOptions,
  ) {
    super(options);
  }
  override createConnection(options: https.RequestOptions, callback?: Callback): Duplex | null | undefined {
    connectVerified(options, this.tlsMode, callback!);
    return undefined;
  }
}

class PlainHttpAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    connectVerified(options, undefined, callback!);
    return undefined;
  }
}

/** A ProxmoxApiError for this request, from what went wrong. */
type Fail = (props: Omit<ConstructorParameters<typeof ProxmoxApiError>[0], "method" | "path">) => ProxmoxApiError;
/** Ends a request once: with an error, or with the response. */
type Settle = (error: ProxmoxApiError | undefined, response?: TransportResponse) => void;

export class HttpTransport {
  readonly #options: TransportOptions;
  readonly #secure: boolean;
  /** Keep-alive connections for reads. */
  readonly #readAgent: http.Agent;
  /**
   * A fresh connection per write: a write on a reused keep-alive socket that the server
   * already closed fails in a way that cannot prove the server did not act on it.
   */
  readonly #writeAgent: http.Agent;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#secure = options.baseUrl.protocol === "https:";
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8, scheduling: "lifo" as const };
    this.#readAgent = this.#secure ? new VerifiedHttpsAgent(options.tls, agentOptions) : new PlainHttpAgent(agentOptions);
    this.#writeAgent = this.#secure
      ? new VerifiedHttpsAgent(options.tls, { keepAlive: false })
      : new PlainHttpAgent({ keepAlive: false });
  }

  /** Closes idle connections. */
  close(): void {
    this.#readAgent.destroy();
    this.#writeAgent.destroy();
  }

  /** Sends one request; resolves with any HTTP status, rejects on transport failures. */
  send(request: TransportRequest): Promise<TransportResponse> {
    const { method, path } = request;
    const fail: Fail = (props) => new ProxmoxApiError({ method, path: path.split("?")[0], ...props });
    const { query, body, headers } = this.#encode(request);
    return new Promise<TransportResponse>((resolve, reject) => {
      if (request.signal?.aborted) {
        reject(fail({ kind: "aborted", requestSent: false, cause: request.signal.reason }));
        return;
      }
      let settled = false;
      let gotSocket = false;
      const settle: Settle = (error, response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = this.#request(method, `${path}${query}`, headers);
      req.on("socket", () => {
        gotSocket = true;
      });
      const timer = setTimeout(() => {
        settle(fail({ kind: "timeout", code: "ETIMEDOUT", requestSent: gotSocket, hint: `no answer within ${request.timeoutMs} ms` }));
        req.destroy();
      }, request.timeoutMs);
      const onAbort = (): void => {
        settle(fail({ kind: "aborted", requestSent: gotSocket, cause: request.signal?.reason }));
        req.destroy();
      };
      request.signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (err) => settle(this.#transportError(fail, err, gotSocket)));
      req.on("response", (res) => this.#readResponse(res, fail, settle));
      this.#writeBody(req, body, request.multipart).catch((err: Error) => {
        settle(this.#transportError(fail, err, true));
        req.destroy();
      });
    });
  }

  /** The query string, body and headers of a request: form-encoded, in the query for GET and DELETE. */
  #encode(request: TransportRequest): { query: string; body?: Buffer; headers: Record<string, string | number> } {
    const headers: Record<string, string | number> = { Accept: "application/json", "User-Agent": this.#options.userAgent };
    if (request.multipart) {
      return { query: "", headers: { ...headers, "Content-Type": request.multipart.contentType, "Content-Length": request.multipart.length } };
    }
    const form = encodeParams(request.params).toString();
    if (request.method === "GET" || request.method === "DELETE") return { query: form ? `?${form}` : "", headers };
    const body = Buffer.from(form, "utf8");
    return { query: "", body, headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": body.length } };
  }

  /** The request object, on the read agent for GET and the write agent otherwise. */
  #request(method: string, pathAndQuery: string, headers: Record<string, string | number>): http.ClientRequest {
    const base = this.#options.baseUrl;
    return (this.#secure ? https : http).request({
      method,
      host: base.hostname.replace(/^\[|\]$/g, ""),
      port: base.port || (this.#secure ? 443 : 80),
      path: `${base.pathname.replace(/\/+$/, "")}/api2/json${pathAndQuery}`,
      headers: { ...headers, Authorization: this.#options.credentials.authorizationHeader() },
      agent: method === "GET" ? this.#readAgent : this.#writeAgent,
    });
  }

  /** The answer, whatever its status: JSON body, or none; a 2xx that is not JSON is a protocol error. */
  #readResponse(res: http.IncomingMessage, fail: Fail, settle: Settle): void {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", (err) => settle(this.#transportError(fail, err, true)));
    res.on("end", () => {
      const status = res.statusCode ?? 0;
      const reason = res.statusMessage ?? "";
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return settle(undefined, { status, reason, body: undefined });
      try {
        settle(undefined, { status, reason, body: JSON.parse(text) as unknown });
      } catch (cause) {
        // An error status with a non-JSON body still says enough through its status line.
        if (status >= 400) settle(undefined, { status, reason, body: undefined });
        else settle(fail({ kind: "protocol", status, reason, hint: `response is not JSON (${text.slice(0, 80)})`, cause }));
      }
    });
  }

  async #writeBody(req: http.ClientRequest, body: Buffer | undefined, multipart: MultipartBody | undefined): Promise<void> {
    if (!multipart) {
      req.end(body);
      return;
    }
    for (const part of multipart.parts) {
      if (part instanceof Uint8Array) {
        if (!req.write(part)) await onceDrainOrClose(req);
        continue;
      }
      for await (const chunk of createReadStream(part.file)) {
        if (!req.write(chunk as Buffer)) await onceDrainOrClose(req);
      }
    }
    req.end();
  }

  #transportError(fail: Fail, err: Error, gotSocket: boolean): ProxmoxApiError {
    const connectPhase = err instanceof ConnectFailure;
    const original = connectPhase ? err.original : err;
    const code = original instanceof TlsVerificationFailure ? original.code : (original as NodeJS.ErrnoException).code;
    if (original instanceof TlsVerificationFailure || isTlsErrorCode(code)) {
      const peer = original instanceof TlsVerificationFailure ? original.peerFingerprint : undefined;
      return fail({
        kind: "tls",
        code,
        requestSent: false,
        hint: `${original.message}; ${tlsGuidance(this.#options.baseUrl.origin, peer)}`,
        cause: original,
      });
    }
    return fail({
      kind: "network",
      code,
      requestSent: !connectPhase && gotSocket,
      hint: original.message,
      cause: original,
    });
  }
}

function onceDrainOrClose(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off("drain", done);
      req.off("close", done);
      resolve();
    };
    req.once("drain", done);
    req.once("close", done);
  });
}
