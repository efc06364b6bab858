/**
 * Starting and stopping a lab: scenario → state, certificate, HTTP(S) server on loopback.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { randomInt } from "node:crypto";
import { Access } from "./access.js";
import { generateCertificate } from "./certificates.js";
import { PveError } from "./errors.js";
import { FaultController, seededRandom } from "./faults.js";
import { failBody, rawErrorAnswer, sendError } from "./http-io.js";
import { ByteBudget, resolveLimits, type LabLimits } from "./limits.js";
import { closeLingering, isLingering, lingerAfterAnswer } from "./linger.js";
import { labHandlers } from "./router.js";
import { loadApiSchema } from "./schema.js";
import { resolveScenario, type Scenario } from "./scenario.js";
import { handleRequest, type Pipeline } from "./server.js";
import { LabState } from "./state.js";
import { TaskRunner } from "./tasks.js";

/** An API token of the lab. */
export interface LabToken {
  /** `user@realm!name`. */
  readonly id: string;
  readonly secret: string;
}

/** How to start a lab. */
export interface StartLabOptions {
  /** Plain HTTP instead of HTTPS with a generated self-signed certificate. @default false */
  readonly http?: boolean;
  /** TCP port; 0 picks a free one. @default 0 (the CLI uses 8006) */
  readonly port?: number;
  /** Listen address; loopback only (127.0.0.0/8, ::1, localhost). @default "127.0.0.1" */
  readonly host?: string;
  /** A scenario object or the path of a YAML file. @default defaultScenario() */
  readonly scenario?: Scenario | string;
  /** Duration of every task (overrides the scenario's timing). @default scenario's, else 50 */
  readonly taskDurationMs?: number;
  /** The lab's own log lines (each finished VM task). @default kept in `LabHandle.log` only */
  readonly log?: (line: string) => void;
  /** Input limits (body sizes, time to send headers and body); unset fields keep their default. @default DEFAULT_LIMITS */
  readonly limits?: Partial<LabLimits>;
}

/** A running lab. */
export interface LabHandle {
  /** Base URL without `/api2/json`, e.g. `https://127.0.0.1:8006`. */
  readonly url: string;
  /** SHA-256 fingerprint `AA:BB:...` of the certificate (HTTPS only). */
  readonly fingerprint?: string;
  /** The self-signed certificate PEM (HTTPS only); trust it as a CA. */
  readonly caPem?: string;
  /** The scenario's first (admin) and second (read-only) tokens. */
  readonly tokens: { readonly admin: LabToken; readonly readonly: LabToken };
  /** The in-memory cluster; edits show in the next answer. */
  readonly state: LabState;
  /** Run-time fault injection. */
  readonly faults: FaultController;
  /** The lab's log lines so far (the last 1,000): the VMs it cloned, started, stopped and destroyed. */
  readonly log: readonly string[];
  /** Stops the server, drops connections and cancels pending tasks. */
  stop(): Promise<void>;
}

function checkLoopback(host: string): void {
  const loopback = host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!loopback) {
    throw new Error(`startLab: host ${JSON.stringify(host)} is not a loopback address; the lab listens on 127.0.0.1, ::1 or localhost only`);
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`startLab: port ${JSON.stringify(port)} is not a TCP port (0-65535)`);
  }
}

/** The answer to a request Node's parser refused: PVE's error format, then the connection closes. */
function parserError(err: NodeJS.ErrnoException, limits: LabLimits): PveError {
  if (err.code === "HPE_HEADER_OVERFLOW") return new PveError(431, "request headers too large");
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") return new PveError(408, `request headers not received within ${limits.headersTimeoutMs} ms`);
  return new PveError(400, "malformed HTTP request");
}

/**
 * The HTTP(S) server of a lab, with its time limits: headers within `headersTimeoutMs` (TLS
 * handshake too), bodies within `bodyTimeoutMs` (the pipeline's own timer, which answers in
 * PVE's format; Node's whole-request timeout is off so it never answers first).
 */
function createServer(pipeline: Pipeline, cert: { certPem: string; keyPem: string } | undefined, log: (line: string) => void): Server {
  const { limits } = pipeline;
  // The request each socket is serving: a parser error on the socket (a malformed body, or the
  // next request) comes while its answer is pending, and that answer then ends the connection.
  const serving = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse }>();
  const track = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const exchange = { req, res };
    serving.set(socket, exchange);
    res.once("close", () => {
      if (serving.get(socket) === exchange) serving.delete(socket);
    });
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    track(req, res);
    handleRequest(pipeline, req, res).catch((e: unknown) => {
      log(`lab: ${req.method ?? "?"} request failed without an answer: ${(e as Error).message}`);
      res.destroy();
    });
  };
  const onParserError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (isLingering(socket)) return;
    const current = serving.get(socket);
    if (current && !current.res.headersSent) {
      current.res.setHeader("Connection", "close");
      failBody(current.req, parserError(err, limits));
      return;
    }
    if (current) {
      if (current.res.writableFinished) closeLingering(socket);
      else current.res.once("finish", () => closeLingering(socket));
      return;
    }
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    closeLingering(socket, rawErrorAnswer(parserError(err, limits)));
  };
  const timing = {
    // PVE answers requests without a Host header; Node would answer them a bare 400 of its own.
    requireHostHeader: false,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
  };
  const server: Server = cert
    ? createHttpsServer({ cert: cert.certPem, key: cert.keyPem, handshakeTimeout: limits.headersTimeoutMs, ...timing }, listener)
    : createHttpServer(timing, listener);
  server.keepAliveTimeout = 10_000;
  // Expect: 100-continue goes through the pipeline like any request; the body is asked for only once it is authenticated.
  server.on("checkContinue", listener);
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    track(req, res);
    sendError(res, new PveError(417, "Expectation Failed"));
  });
  // CONNECT (no listener: Node drops the connection without a word) gets PVE's 501.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    closeLingering(socket, rawErrorAnswer(new PveError(501, "method 'CONNECT' not available")));
  });
  server.on("clientError", onParserError);
  return server;
}

/** Starts a lab and resolves once it listens. */
export async function startLab(options: StartLabOptions = {}): Promise<LabHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkLoopback(host);
  checkPort(port);
  if (options.taskDurationMs !== undefined && !(Number.isInteger(options.taskDurationMs) && options.taskDurationMs >= 0)) {
    throw new Error(`startLab: taskDurationMs ${JSON.stringify(options.taskDurationMs)} must be a non-negative integer`);
  }
  const limits = resolveLimits(options.limits);
  const logLines: string[] = [];
  const log = (line: string): void => {
    logLines.push(line);
    if (logLines.length > 1000) logLines.shift();
    options.log?.(line);
  };
  const scenario = resolveScenario(options.scenario);
  const seed = scenario.seed ?? randomInt(0, 2 ** 31);
  const state = new LabState(
    scenario,
    seededRandom(seed),
    { maxStoredBytes: limits.maxStoredBytes, ...(options.taskDurationMs === undefined ? {} : { taskDurationMs: options.taskDurationMs }) },
  );
  const tasks = new TaskRunner(state, log);
  const faults = new FaultController(seed ^ 0x5eed, scenario.faults ?? []);
  const pipeline: Pipeline = {
    state,
    schema: loadApiSchema(),
    access: new Access(state),
    tasks,
    faults,
    handlers: labHandlers(),
    limits,
    budget: new ByteBudget(limits.maxBufferedBytes),
    log,
  };
  // Checked before listening: nothing after listen may throw, or the server would leak.
  const [admin, readonly] = [...state.tokens.values()];
  if (!admin || !readonly) throw new Error("startLab: the scenario needs two tokens (admin, read-only)");
  const cert = options.http ? undefined : await generateCertificate();
  if (cert) state.sslFingerprint = cert.fingerprint;
  const server = createServer(pipeline, cert, log);
  const sockets = new Set<Socket>();
  server.on(cert ? "secureConnection" : "connection", (s: Socket) => {
    lingerAfterAnswer(s);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${cert ? "https" : "http"}://${hostInUrl}:${address.port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    ...(cert ? { fingerprint: cert.fingerprint, caPem: cert.certPem } : {}),
    tokens: { admin: { id: admin.id, secret: admin.secret }, readonly: { id: readonly.id, secret: readonly.secret } },
    state,
    faults,
    log: logLines,
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        tasks.stopAll();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
