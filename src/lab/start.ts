/**
 * Starting and stopping a lab: scenario → state, certificate, HTTP(S) server on loopback.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { randomInt } from "node:crypto";
import { Access } from "./access.js";
import { generateCertificate } from "./certificates.js";
import { FaultController, seededRandom } from "./faults.js";
import { labHandlers } from "./router.js";
import { loadApiSchema } from "./schema.js";
import { resolveScenario, type Scenario } from "./scenario.js";
import { handleRequest, type Pipeline } from "./server.js";
import { LabState } from "./state.js";
import { TaskRunner } from "./tasks.js";
import { attachKubeletStandIns } from "./kubelet/index.js";

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
  /** The lab's own log lines (kubelet stand-ins joining or not). @default kept in `LabHandle.log` only */
  readonly log?: (line: string) => void;
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
  /** The lab's log lines so far (the last 1,000): what the kubelet stand-ins did, and why a VM never joined. */
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

/** Starts a lab and resolves once it listens. */
export async function startLab(options: StartLabOptions = {}): Promise<LabHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkLoopback(host);
  checkPort(port);
  if (options.taskDurationMs !== undefined && !(Number.isInteger(options.taskDurationMs) && options.taskDurationMs >= 0)) {
    throw new Error(`startLab: taskDurationMs ${JSON.stringify(options.taskDurationMs)} must be a non-negative integer`);
  }
  const scenario = resolveScenario(options.scenario);
  const seed = scenario.seed ?? randomInt(0, 2 ** 31);
  const state = new LabState(
    scenario,
    seededRandom(seed),
    options.taskDurationMs === undefined ? {} : { taskDurationMs: options.taskDurationMs },
  );
  const tasks = new TaskRunner(state);
  const faults = new FaultController(seed ^ 0x5eed, scenario.faults ?? []);
  const pipeline: Pipeline = {
    state,
    schema: loadApiSchema(),
    access: new Access(state),
    tasks,
    faults,
    handlers: labHandlers(),
  };
  const cert = options.http ? undefined : await generateCertificate();
  if (cert) state.sslFingerprint = cert.fingerprint;
  const listener = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]): void => {
    void handleRequest(pipeline, req, res);
  };
  const server: Server = cert
    ? createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 10_000;
  const sockets = new Set<Socket>();
  server.on(cert ? "secureConnection" : "connection", (s: Socket) => {
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
  const logLines: string[] = [];
  const detachKubelets = attachKubeletStandIns(state, (line) => {
    logLines.push(line);
    if (logLines.length > 1000) logLines.shift();
    options.log?.(line);
  });
  const [admin, readonly] = [...state.tokens.values()];
  if (!admin || !readonly) throw new Error("startLab: the scenario needs two tokens (admin, read-only)");
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
        detachKubelets();
        tasks.stopAll();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
