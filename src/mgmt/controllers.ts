/**
 * The four real controllers as local processes of the management environment: CAPI core,
 * the kubeadm bootstrap provider, capmox and the in-cluster IPAM provider. Each gets its own
 * free ports, its own folder (logs, webhook certificates, capmox's TMPDIR for the
 * cloud-init ISOs it never deletes) and the admin kubeconfig; each runs under the same
 * watchdog as etcd and kube-apiserver, so none outlives the environment.
 *
 * Where CozyStack's components file gives the manager's args (CAPI core and kubeadm), they
 * are taken from it (feature gates, token TTL), less what only makes sense in a Pod:
 * leader election (one replica; a restarted environment must not wait out a dead lease)
 * and the diagnostics endpoint on every interface.
 *
 * Listening: health probes on 127.0.0.1; metrics and diagnostics off; capmox's and IPAM's
 * webhooks off (capmox's only validate, and its port is fixed at 9443; IPAM's only default
 * and validate pools). CAPI's two webhook servers are required (defaulting) and v1.10 has no
 * flag for their listen address: controller-runtime binds them to the wildcard address on
 * the free port we give. Nothing else in the environment does.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type PemPair, pollUntil, ServerProcess } from "../kube/env/index.js";
import type { ControllerBinaries } from "./binaries.js";
import { releaseManagerArgs } from "./components.js";
import { httpOk } from "../stages/local-controllers.js";

/** A controller process and where to look at it. */
export interface RunningController {
  /** `capi-core`, `capi-kubeadm`, `capmox`, `ipam`. */
  readonly name: string;
  /** The upstream version that runs, e.g. `v1.10.1`. */
  readonly version: string;
  readonly process: ServerProcess;
  /** Where its health endpoint is, e.g. `http://127.0.0.1:<port>/healthz`. */
  readonly healthUrl: string;
  /** Whether the health endpoint answers 200 now. */
  probe(): Promise<boolean>;
  readonly logFile: string;
}

/** Ports the API server calls back (the CRDs and webhook configurations name them). */
export interface ControllerPorts {
  readonly coreWebhook: number;
  readonly kubeadmWebhook: number;
}

export async function controllerPorts(): Promise<ControllerPorts> {
  return { coreWebhook: await freePort(), kubeadmWebhook: await freePort() };
}

export interface StartControllersInput {
  readonly binaries: ControllerBinaries;
  /** The environment's folder; each controller gets `<dir>/<name>/`. */
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly ports: ControllerPorts;
  /** Serving certificate of the webhook servers (signed by the CA in the webhook configurations). */
  readonly webhookCert: PemPair;
  /** klog verbosity. @default 2 */
  readonly verbosity?: number;
}

/** Flags whose values only make sense in a Pod (see the file comment). */
const podOnlyFlags = /^--(leader-elect|diagnostics-address|insecure-diagnostics)(=|$)/;

function controllerDir(input: StartControllersInput, name: string): string {
  const dir = join(input.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeWebhookCert(dir: string, cert: PemPair): string {
  const certDir = join(dir, "webhook-certs");
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, "tls.crt"), cert.certPem, { mode: 0o600 });
  writeFileSync(join(certDir, "tls.key"), cert.keyPem, { mode: 0o600 });
  return certDir;
}

interface ControllerLaunch {
  readonly name: string;
  readonly version: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly healthPort: number;
  readonly dir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether the binary takes klog's `-v` (IPAM's flag set has no klog flags). @default true */
  readonly klog?: boolean;
}

/**
 * capmox must build its Proxmox client from each cluster's credentials Secret, never from a
 * global client: these variables would make one (and a user who pasted the lab's export
 * lines has them set).
 */
const noGlobalProxmoxClient = { PROXMOX_URL: undefined, PROXMOX_TOKEN: undefined, PROXMOX_SECRET: undefined, PROXMOX_INSECURE: undefined };

function launch(input: StartControllersInput, spec: ControllerLaunch): RunningController {
  const logFile = join(spec.dir, `${spec.name}.log`);
  const process = new ServerProcess({
    name: spec.name,
    command: spec.command,
    args: [...spec.args, `--kubeconfig=${input.kubeconfigPath}`, ...(spec.klog === false ? [] : [`-v=${input.verbosity ?? 2}`])],
    logFile,
    env: { KUBECONFIG: input.kubeconfigPath, TMPDIR: spec.dir, ...spec.env },
  });
  const healthUrl = `http://127.0.0.1:${spec.healthPort}/healthz`;
  return { name: spec.name, version: spec.version, process, healthUrl, logFile, probe: () => httpOk(healthUrl) };
}

async function capiManager(input: StartControllersInput, which: "core" | "bootstrap"): Promise<RunningController> {
  const name = which === "core" ? "capi-core" : "capi-kubeadm";
  const binary = which === "core" ? input.binaries.capiCore : input.binaries.capiKubeadm;
  const dir = controllerDir(input, name);
  const healthPort = await freePort();
  return launch(input, {
    name,
    version: binary.version,
    command: binary.path,
    dir,
    healthPort,
    args: [
      ...releaseManagerArgs(which).filter((arg) => !podOnlyFlags.test(arg)),
      "--diagnostics-address=0",
      `--health-addr=127.0.0.1:${healthPort}`,
      `--webhook-port=${which === "core" ? input.ports.coreWebhook : input.ports.kubeadmWebhook}`,
      `--webhook-cert-dir=${writeWebhookCert(dir, input.webhookCert)}`,
    ],
  });
}

/** A manager with controller-runtime's usual flags: probes on 127.0.0.1, metrics off. */
async function probedManager(input: StartControllersInput, name: string, binary: ControllerBinaries[keyof ControllerBinaries], extra: Partial<ControllerLaunch> & { readonly args: readonly string[] }): Promise<RunningController> {
  const healthPort = await freePort();
  return launch(input, {
    name,
    version: binary.version,
    command: binary.path,
    dir: controllerDir(input, name),
    healthPort,
    ...extra,
    args: ["--metrics-bind-address=0", `--health-probe-bind-address=127.0.0.1:${healthPort}`, ...extra.args],
  });
}

const capmox = (input: StartControllersInput): Promise<RunningController> =>
  probedManager(input, "capmox", input.binaries.capmox, { env: noGlobalProxmoxClient, args: ["--enable-webhooks=false"] });

// IPAM's flag set has no klog flags.
const ipam = (input: StartControllersInput): Promise<RunningController> =>
  probedManager(input, "ipam", input.binaries.ipam, { klog: false, args: ["--webhook-port=0"] });

/** Starts the four controllers (not waiting for them: see `waitHealthy`). */
export async function startControllers(input: StartControllersInput): Promise<RunningController[]> {
  return [await capiManager(input, "core"), await capiManager(input, "bootstrap"), await capmox(input), await ipam(input)];
}

/** Waits until every controller's health endpoint answers 200 (failing at once, with the log tail, when one exits). */
export async function waitHealthy(controllers: readonly RunningController[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const c of controllers) await pollUntil(() => c.probe(), c.process, Math.max(0, deadline - Date.now()), `${c.name}'s health endpoint ${c.healthUrl}`);
}
