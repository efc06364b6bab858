/**
 * The management environment: what `npm run mgmt:up` starts and what the stage 3 tests
 * start, on loopback only.
 *
 * 1. etcd + kube-apiserver (src/kube/env) and, from the same Kubernetes release, the real
 *    kube-controller-manager with only the garbage collector and the namespace controller
 *    (owner references and namespace deletion work as in a real cluster);
 * 2. the CRDs and webhook configurations of the controllers that run (components.ts);
 * 3. the real CAPI core, kubeadm bootstrap, capmox and IPAM controllers (controllers.ts);
 * 4. the Kamaji stand-in (kamaji-stand-in.ts);
 * 4b. with `fluxBinaries`: Flux's real source-controller and helm-controller, the app chart in
 *    a real Helm repository on 127.0.0.1 and the cozystack-api stand-in, so a `Kubernetes`
 *    object becomes a tenant cluster (flux.ts);
 * 5. the lab as Proxmox, reached by capmox through each tenant's credentials Secret as
 *    `npm run bootstrap` writes it (TLS verified against the lab's certificate).
 * `stop()` stops the controllers and stand-ins at once, then the API server and the lab, and
 * removes every folder; processes also die with this one (the watchdog in
 * src/kube/env/process.ts), each after a short grace period.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { freePort, issueServingCertificate, type KubeBinaries, type KubeEnv, ServerProcess, startKubeEnv } from "../kube/env/index.js";
import { tenantCredentialSecrets } from "../kube/bootstrap/index.js";
import { conditionIs, describeCondition, type KubeObject, waitFor, writeKubeconfig } from "../kube/index.js";
import { defaultScenario, startLab, timingPresets, type LabHandle, type Scenario } from "../lab/index.js";
import { defaultConfig, type PlatformConfig } from "../config/index.js";
import type { ControllerBinaries } from "./binaries.js";
import { managementComponents } from "./components.js";
import { controllerPorts, startControllers, waitHealthy, type RunningController } from "./controllers.js";
import { KamajiStandIn } from "./kamaji-stand-in.js";
import { attachKubeletStandIns } from "./kubelet/index.js";
import { localControllersObjects } from "../stages/local-controllers.js";
import type { FluxBinaries } from "./flux-binaries.js";
import { fluxCrds, startFluxSources, startHelmController, startSourceController, type FluxSources } from "./flux.js";
import { cozystackApiStandInName } from "./cozystack-api-stand-in.js";
import { isolateTenants } from "./tenant-access.js";
import type { LabCredentials } from "./lab-credentials.js";

export const mgmtFieldManager = "cozy-proxmox-mgmt";

/** Stages 3, 4 and 8 find the local processes in the registry they define (src/stages/local-controllers.ts). */
function registryObjects(controllers: readonly RunningController[], standIns: readonly string[]): KubeObject[] {
  return localControllersObjects([
    ...controllers.map((c) => ({ name: c.name, version: c.version, ...(c.process.pid ? { pid: c.process.pid } : {}), healthUrl: c.healthUrl })),
    ...standIns.map((name) => ({ name, version: "stand-in", pid: process.pid, standIn: true })),
  ]);
}

export interface MgmtEnvOptions {
  readonly kubeBinaries: KubeBinaries & { readonly kubeControllerManager: { readonly path: string; readonly version: string } };
  readonly controllerBinaries: ControllerBinaries;
  /** Run Flux's source-controller and helm-controller, the app chart's Helm repository and the cozystack-api stand-in. @default not run */
  readonly fluxBinaries?: FluxBinaries;
  /** The platform whose app chart and `Kubernetes` kind the Flux part serves. @default defaultConfig() */
  readonly platform?: PlatformConfig;
  /** Also write the admin kubeconfig here (mode 0600), once everything is ready. */
  readonly kubeconfigPath?: string;
  /** Prepare these tenants (namespaces, credentials Secrets) before the environment counts as ready. @default none */
  readonly tenantsOf?: PlatformConfig;
  /** The lab's scenario. @default the default scenario with the `capmox` timing preset */
  readonly scenario?: Scenario;
  /** The lab's port. @default a free port */
  readonly labPort?: number;
  /** How long the controllers may take to become healthy. @default 120_000 */
  readonly startTimeoutMs?: number;
  /** Where the temp folders go. @default os.tmpdir() */
  readonly tmpRoot?: string;
  readonly log?: (line: string) => void;
}

export interface MgmtEnv {
  readonly kube: KubeEnv;
  readonly lab: LabHandle;
  readonly labCredentials: LabCredentials;
  /** What the kubelet stand-ins did (the last 1,000 lines): Nodes registered, and why a VM never joined. */
  readonly kubeletLog: readonly string[];
  /** The four controllers and kube-controller-manager, with their logs and health endpoints. */
  readonly controllers: readonly RunningController[];
  readonly kamaji: KamajiStandIn;
  /** The app chart's Helm repository and the cozystack-api stand-in (when `fluxBinaries` was given). */
  readonly flux?: FluxSources;
  /**
   * Namespaces and credentials Secrets of the config's tenants, pointed at the lab; a tenant
   * with its own token first gets its pool, user, token and ACLs in the lab (as `npm run
   * tenant-access -- --apply` makes them). Returns those tenants' token secrets by name.
   */
  prepareTenants(config: PlatformConfig): Promise<Record<string, string>>;
  /** Settles when a process of the environment exits on its own. */
  readonly exited: Promise<{ readonly name: string; readonly code: number | null }>;
  stop(): Promise<void>;
}

async function startKubeControllerManager(kube: KubeEnv, binary: { path: string; version: string }): Promise<RunningController> {
  const dir = join(kube.dir, "kube-controller-manager");
  mkdirSync(dir, { recursive: true });
  const healthPort = await freePort();
  const logFile = join(dir, "kube-controller-manager.log");
  const process = new ServerProcess({
    name: "kube-controller-manager",
    command: binary.path,
    args: [
      `--kubeconfig=${kube.kubeconfigPath}`,
      `--authentication-kubeconfig=${kube.kubeconfigPath}`,
      `--authorization-kubeconfig=${kube.kubeconfigPath}`,
      // Only what a cluster needs for objects to go away: owner references and namespaces.
      "--controllers=garbagecollector,namespace",
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${healthPort}`,
      `--cert-dir=${dir}`,
      "--authorization-always-allow-paths=/healthz,/readyz,/livez",
      "--v=1",
    ],
    logFile,
  });
  const healthUrl = `https://127.0.0.1:${healthPort}/healthz`;
  // Its serving certificate is self-signed, written into the cert dir at start: trust exactly that one.
  const probe = (): Promise<boolean> =>
    new Promise((resolve) => {
      let ca: string;
      try {
        ca = readFileSync(join(dir, "kube-controller-manager.crt"), "utf8");
      } catch {
        return resolve(false);
      }
      const req = request(healthUrl, { ca, timeout: 2_000 }, (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
      req.end();
    });
  return { name: "kube-controller-manager", version: binary.version, process, healthUrl, logFile, probe };
}

/**
 * Creates every object (the API server is new: nothing to update) and waits for the CRDs to
 * be Established. A plain create, as `kubectl create` or clusterctl would: capmox v0.7.0's
 * CRDs repeat a validation rule, which server-side apply refuses as a duplicate list key.
 */
async function installComponents(kube: KubeEnv, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) await kube.client.create(object);
  const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
  await waitFor(
    kube.client,
    crds.map((crd) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata.name })),
    conditionIs("Established"),
    { timeoutMs: 60_000, describe: (o) => describeCondition(o, "Established") },
  );
}

function labCredentialsOf(lab: LabHandle): LabCredentials {
  if (!lab.caPem || !lab.fingerprint) throw new Error("the management environment's lab must serve HTTPS");
  return { url: lab.url, tokenId: lab.tokens.admin.id, secret: lab.tokens.admin.secret, caPem: lab.caPem, fingerprint: lab.fingerprint };
}

/** The config's tenants' namespaces and credentials Secrets, the Secret exactly as bootstrap writes it. */
export function tenantObjects(config: PlatformConfig, lab: LabCredentials, tenantTokenSecrets: Readonly<Record<string, string>> = {}): KubeObject[] {
  const pointed: PlatformConfig = { ...config, proxmox: { ...config.proxmox, url: lab.url, tokenId: lab.tokenId, tls: { insecure: false } } };
  const namespaces = [...new Set(config.tenants.map((t) => t.namespace))].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  return [...namespaces, ...tenantCredentialSecrets({ config: pointed, tokenSecret: lab.secret, tenantTokenSecrets, caPem: lab.caPem })];
}

type Step = () => Promise<void>;

/** Steps stopped at once, each to its end even when another fails. */
function together(): { readonly add: (step: Step) => void; readonly stop: Step } {
  const steps: Step[] = [];
  return { add: (step) => void steps.push(step), stop: async () => void (await Promise.all(steps.splice(0).map((step) => step().catch(() => {})))) };
}

export async function startMgmtEnv(options: MgmtEnvOptions): Promise<MgmtEnv> {
  const log = options.log ?? (() => {});
  // Two waves, each at once, so Ctrl-C takes about one grace period per wave: first
  // everything that talks to the API server (the kubeconfig file, controllers, stand-ins),
  // then the API server and the lab.
  const servers = together();
  const clients = together();
  const stop = async (): Promise<void> => {
    await clients.stop();
    await servers.stop();
  };
  try {
    const lab = await startLab({ scenario: options.scenario ?? { ...defaultScenario(), timing: timingPresets["capmox"] }, port: options.labPort ?? 0, log: (line) => log(`lab: ${line}`) });
    servers.add(() => lab.stop());
    log(`lab (Proxmox VE emulator) at ${lab.url}`);
    const kubeletLog: string[] = [];
    const detachKubelets = attachKubeletStandIns(lab.state, (line) => {
      kubeletLog.push(line);
      if (kubeletLog.length > 1000) kubeletLog.shift();
      log(line);
    });
    clients.add(async () => detachKubelets());
    const kube = await startKubeEnv({ binaries: options.kubeBinaries, log, ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}) });
    servers.add(() => kube.stop());
    const ports = await controllerPorts();
    const webhookCert = await issueServingCertificate(kube.servingCa, "cozy-proxmox-webhooks");
    const platform = options.platform ?? defaultConfig();
    const fluxObjects = options.fluxBinaries ? fluxCrds(platform) : [];
    await installComponents(kube, [...managementComponents({ corePort: ports.coreWebhook, kubeadmPort: ports.kubeadmWebhook, caPem: kube.servingCa.certPem }), ...fluxObjects]);
    log("installed the CRDs and webhooks of CAPI v1.10.1 (core, kubeadm), the Kamaji provider, capmox and IPAM");
    const kcm = await startKubeControllerManager(kube, options.kubeBinaries.kubeControllerManager);
    clients.add(() => kcm.process.stop());
    const controllers = await startControllers({ binaries: options.controllerBinaries, dir: kube.dir, kubeconfigPath: kube.kubeconfigPath, ports, webhookCert });
    for (const c of controllers) clients.add(() => c.process.stop());
    const fluxBinaries = options.fluxBinaries;
    const fluxControllers = fluxBinaries
      ? [await startSourceController(fluxBinaries.sourceController, kube.dir, kube.kubeconfigPath), await startHelmController(fluxBinaries.helmController, kube.dir, kube.kubeconfigPath)]
      : [];
    for (const c of fluxControllers) clients.add(() => c.process.stop());
    const all = [kcm, ...controllers, ...fluxControllers];
    await waitHealthy(all, options.startTimeoutMs ?? 120_000);
    log(`controllers healthy: ${all.map((c) => `${c.name} ${c.version}`).join(", ")}`);
    const kamaji = new KamajiStandIn({ client: kube.client, binaries: options.kubeBinaries, log, ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}) });
    kamaji.start();
    clients.add(() => kamaji.stop());
    let flux: FluxSources | undefined;
    if (fluxBinaries) {
      flux = await startFluxSources(kube.client, platform, log, options.tmpRoot);
      clients.add(() => flux?.stop() ?? Promise.resolve());
      log(`Flux: source-controller ${fluxBinaries.sourceController.version}, helm-controller ${fluxBinaries.helmController.version}, Helm repository at ${flux.repository.url}, ${cozystackApiStandInName}`);
    }
    const standIns = ["kamaji-stand-in", ...(flux ? [cozystackApiStandInName] : [])];
    for (const object of registryObjects(all, standIns)) await kube.client.apply(object, { fieldManager: mgmtFieldManager });
    const labCredentials = labCredentialsOf(lab);
    const secretsDir = join(kube.dir, "tenant-secrets");
    const prepareTenants = async (config: PlatformConfig): Promise<Record<string, string>> => {
      const secrets = await isolateTenants(config, labCredentials, secretsDir);
      for (const object of tenantObjects(config, labCredentials, secrets)) await kube.client.apply(object, { fieldManager: mgmtFieldManager });
      return secrets;
    };
    if (options.tenantsOf) await prepareTenants(options.tenantsOf);
    // Last: scripts wait for this file, so it appears only when everything is ready.
    const kubeconfigPath = options.kubeconfigPath;
    if (kubeconfigPath) {
      writeKubeconfig(kubeconfigPath, readFileSync(kube.kubeconfigPath, "utf8"));
      clients.add(async () => rmSync(kubeconfigPath, { force: true }));
    }
    const exited = Promise.race([kube.exited, ...all.map((c) => c.process.exited.then((code) => ({ name: c.name, code })))]);
    return {
      kube,
      lab,
      labCredentials,
      kubeletLog,
      controllers: all,
      kamaji,
      ...(flux ? { flux } : {}),
      exited,
      prepareTenants,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
