/**
 * A throw-away Kubernetes control plane in the spirit of controller-runtime's envtest:
 * real etcd and kube-apiserver on 127.0.0.1 with free ports, their own certificates, a
 * service-account key, RBAC, an admin kubeconfig (mode 0600) and, optionally, the
 * product's CRDs. No controllers run: status is whatever a test writes.
 *
 * `stop()` always kills both process groups and removes the temp folder. Environments are
 * tracked so that signal and exit handlers (`stopAllKubeEnvsSync`) can do the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { cachedKubeBinaries, type KubeBinaries } from "./binaries.js";
import { KubeClient, type WarningHandler } from "../client.js";
import { adminKubeconfigYaml, writeKubeconfig } from "../kubeconfig.js";
import { installProductCrds } from "./crds.js";
import { createEnvPki, type EnvPki, type PemPair } from "./pki.js";
import { freePort } from "./ports.js";
import { ServerProcess } from "./process.js";

export interface KubeEnvOptions {
  /** The binaries. @default the cached build (`npm run kube:binaries`) */
  readonly binaries?: KubeBinaries;
  /** Install the product's CRDs for this versions profile; none when omitted. */
  readonly crdsForProfile?: string;
  /** Also write the admin kubeconfig here (mode 0600); it always exists in the temp folder. */
  readonly kubeconfigPath?: string;
  /** How long etcd + kube-apiserver may take to become ready. @default 120_000 */
  readonly startTimeoutMs?: number;
  /** Progress lines. @default no output */
  readonly log?: (line: string) => void;
  /** Warnings the API server sends back (deprecated versions). @default ignored */
  readonly onWarning?: WarningHandler;
  /** Where the temp folder is created. @default os.tmpdir() */
  readonly tmpRoot?: string;
  /** Extra kube-apiserver flags (e.g. `--enable-bootstrap-token-auth`). @default none */
  readonly extraApiserverArgs?: readonly string[];
  /** `--authorization-mode` (a list flag: given twice, modes would repeat). @default ["RBAC"] */
  readonly authorizationModes?: readonly string[];
}

export interface KubeEnv {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (in the temp folder unless `kubeconfigPath` was given). */
  readonly kubeconfigPath: string;
  readonly kubeconfig: KubeConfig;
  readonly client: KubeClient;
  /** The temp folder (certificates, etcd data, logs); removed by stop(). */
  readonly dir: string;
  /** Server version as reported by /version, e.g. `v1.33.13`. */
  readonly version: string;
  /** The CA that signed the serving certificate (with its key): clients trust it; it can sign more servers. */
  readonly servingCa: PemPair;
  /** The CA the API server trusts for client certificates (with its key), e.g. for a CSR signer. */
  readonly clientCa: PemPair;
  /** Process groups of etcd and kube-apiserver (each server runs in its own group). */
  readonly processGroups: readonly number[];
  /** Settles when etcd or kube-apiserver exits on its own (or is stopped): which one, and its exit code. */
  readonly exited: Promise<{ readonly name: string; readonly code: number | null }>;
  /** Stops both servers and removes the temp folder (and the extra kubeconfig copy). Idempotent. */
  stop(): Promise<void>;
}

interface Running {
  readonly processes: ServerProcess[];
  readonly paths: string[];
}

const running = new Set<Running>();

/** Kills every environment of this process and removes their folders, synchronously. */
export function stopAllKubeEnvsSync(): void {
  for (const env of running) {
    for (const p of env.processes) p.killSync();
    for (const path of env.paths) rmSync(path, { recursive: true, force: true });
  }
  running.clear();
}

let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; signals are handled by the callers (CLI, test harness).
  process.once("exit", stopAllKubeEnvsSync);
}

export async function startKubeEnv(options: KubeEnvOptions = {}): Promise<KubeEnv> {
  const binaries = options.binaries ?? requireCachedBinaries();
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  installExitHook();
  const dir = mkdtempSync(join(options.tmpRoot ?? tmpdir(), "cozy-kube-env-"));
  const state: Running = { processes: [], paths: [dir, ...(options.kubeconfigPath ? [options.kubeconfigPath] : [])] };
  running.add(state);
  const stop = async (): Promise<void> => {
    // Reverse order: kube-apiserver first, then etcd.
    for (const p of [...state.processes].reverse()) await p.stop();
    for (const path of state.paths) rmSync(path, { recursive: true, force: true });
    running.delete(state);
  };
  try {
    const pki = await createEnvPki();
    const files = writePki(dir, pki);
    const etcdUrl = await startEtcd(binaries, dir, state, timeoutMs);
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const apiserver = new ServerProcess({
      name: "kube-apiserver",
      command: binaries.kubeApiserver.path,
      args: [...apiserverArgs(port, etcdUrl, files, options.authorizationModes ?? ["RBAC"]), ...(options.extraApiserverArgs ?? [])],
      logFile: join(dir, "kube-apiserver.log"),
      cleanupDir: dir,
    });
    state.processes.push(apiserver);
    await waitReady(server, pki, apiserver, timeoutMs);
    const kubeconfigText = adminKubeconfigYaml({ server, caPem: pki.servingCa.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
    const kubeconfigPath = options.kubeconfigPath ?? join(dir, "admin.kubeconfig");
    writeKubeconfig(join(dir, "admin.kubeconfig"), kubeconfigText);
    if (options.kubeconfigPath) writeKubeconfig(options.kubeconfigPath, kubeconfigText);
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromString(kubeconfigText);
    const client = new KubeClient(kubeconfig, options.onWarning);
    const version = (await client.version()).gitVersion;
    log(`kube-apiserver ${version} ready at ${server} (etcd ${binaries.etcd.version})`);
    if (options.crdsForProfile) await installProductCrds(client, { profile: options.crdsForProfile, log });
    const processGroups = state.processes.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
    const exited = Promise.race(state.processes.map((p) => p.exited.then((code) => ({ name: p.name, code }))));
    return { server, kubeconfigPath, kubeconfig, client, dir, version, servingCa: pki.servingCa, clientCa: pki.clientCa, processGroups, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function requireCachedBinaries(): KubeBinaries {
  const cached = cachedKubeBinaries();
  if ("missing" in cached) throw new Error(`${cached.missing}; run \`npm run kube:binaries\` first`);
  return cached;
}

interface PkiFiles {
  readonly servingCert: string;
  readonly servingKey: string;
  readonly clientCa: string;
  readonly saKey: string;
  readonly saPub: string;
}

function writePki(dir: string, pki: EnvPki): PkiFiles {
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    servingCert: write("serving.crt", pki.serving.certPem + pki.servingCa.certPem),
    servingKey: write("serving.key", pki.serving.keyPem),
    clientCa: write("client-ca.crt", pki.clientCa.certPem),
    saKey: write("sa.key", pki.serviceAccount.keyPem),
    saPub: write("sa.pub", pki.serviceAccount.publicKeyPem),
  };
}

async function startEtcd(binaries: KubeBinaries, dir: string, state: Running, timeoutMs: number): Promise<string> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = new ServerProcess({
    name: "etcd",
    command: binaries.etcd.path,
    args: [
      `--name=default`,
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // A test database: durability does not matter, speed on a busy disk does.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    logFile: join(dir, "etcd.log"),
    cleanupDir: dir,
  });
  state.processes.push(etcd);
  await pollUntil(
    async () => {
      const response = await fetch(`${clientUrl}/health`);
      const body = (await response.json()) as { health?: string };
      return body.health === "true";
    },
    etcd,
    timeoutMs,
    "etcd /health",
  );
  return clientUrl;
}

function apiserverArgs(port: number, etcdUrl: string, files: PkiFiles, authorizationModes: readonly string[]): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.clientCa}`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    `--service-account-issuer=https://127.0.0.1:${port}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    `--authorization-mode=${authorizationModes.join(",")}`,
    "--allow-privileged=true",
    // Nothing would serve the endpoints of the `kubernetes` Service on loopback.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    "--v=1",
  ];
}

/** Polls `/readyz` with the admin certificate until it answers 200 `ok`. */
async function waitReady(server: string, pki: EnvPki, process: ServerProcess, timeoutMs: number): Promise<void> {
  await pollUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const req = request(
          `${server}/readyz`,
          { ca: pki.servingCa.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, timeout: 5_000 },
          (response) => {
            response.resume();
            resolve(response.statusCode === 200);
          },
        );
        req.on("error", () => resolve(false));
        req.on("timeout", () => req.destroy());
        req.end();
      }),
    process,
    timeoutMs,
    "kube-apiserver /readyz",
  );
}

/**
 * Readiness probes: a server has no event to watch before it listens, so this polls (every
 * 200 ms) — failing at once, with the log tail, when the process exits.
 */
export async function pollUntil(probe: () => Promise<boolean>, process: ServerProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.running) {
      throw new Error(`${process.name} exited before ${what} was ready; last log lines (${process.logFile}):\n${process.logTail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${Math.round(timeoutMs / 1000)} s; last log lines:\n${process.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
