/**
 * The path a CozyStack user takes to a tenant cluster, `kubectl apply` of a `Kubernetes`
 * object, in the management environment: Flux's real source-controller (v1.7.0) and
 * helm-controller (v1.4.0, see flux-binaries.ts) behind one stand-in for what cannot run
 * here, cozystack-api (cozystack-api-stand-in.ts).
 *
 * The app chart is published in a real Helm repository on 127.0.0.1 (helm-repository.ts);
 * the HelmRepository `cozy-public/cozystack-apps` points at it, and source-controller turns
 * it and each HelmChart into the artifact helm-controller installs.
 *
 * Both controllers talk to the management API server with the admin kubeconfig; every
 * address on 127.0.0.1 (source-controller's storage too, advertised as such), metrics off,
 * no leader election (one replica; a restarted environment must not wait out a dead lease),
 * a short dependency requeue.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PlatformConfig } from "../config/index.js";
import { appChartPath, appsRepository, renderAppFiles, resourceDefinition } from "../cozystack/app/index.js";
import { applicationDefinition } from "../packages/index.js";
import { getProfile } from "../versions/index.js";
import { conditionIs, describeCondition, waitFor, type KubeClient, type KubeObject } from "../kube/index.js";
import { freePort, ServerProcess } from "../kube/env/index.js";
import { httpOk } from "../stages/local-controllers.js";
import type { RunningController } from "./controllers.js";
import { applicationCrd, CozystackApiStandIn, type ResourceDefinition } from "./cozystack-api-stand-in.js";
import { helmReleaseCrds, sourceControllerCrds, type FluxBinaries } from "./flux-binaries.js";
import type { ChartFiles } from "../cozystack/charts/files.js";
import { HelmRepositoryServer } from "./helm-repository.js";

/** The app chart's files relative to its folder, as synth writes them under `packages/apps/`. */
export function appChartFiles(config: PlatformConfig): ChartFiles {
  const prefix = `${appChartPath}/`;
  const files = new Map<string, string | Buffer>();
  for (const [path, content] of renderAppFiles(config)) if (path.startsWith(prefix)) files.set(path.slice(prefix.length), content);
  if (!files.has("Chart.yaml")) throw new Error(`the app chart's files have no ${prefix}Chart.yaml`);
  return files;
}

/**
 * The definition synth writes for the app under the config's profile, as the cozystack-api
 * stand-in reads it: v0.37's CozystackResourceDefinition, or v1.6's ApplicationDefinition
 * (its kind, schema, prefix and release labels, the Flux shard label among them). v1.6
 * points its releases at an ExternalArtifact that cozystack-operator makes of our Package;
 * neither the operator nor Flux's source-watcher runs here (their modules are not served),
 * so the v1.6 HelmRelease takes the same chart files from the HelmRepository, as the v0.37
 * one does.
 */
export function appDefinition(config: PlatformConfig): ResourceDefinition {
  const v037 = resourceDefinition(config) as unknown as ResourceDefinition;
  if (getProfile(config.profile).cozystack.bundleFormat !== "v1-package") return v037;
  const v16 = applicationDefinition(config) as unknown as { spec: { application: ResourceDefinition["spec"]["application"]; release: { prefix: string; labels?: Record<string, string> } } };
  return {
    spec: {
      application: v16.spec.application,
      release: { prefix: v16.spec.release.prefix, ...(v16.spec.release.labels ? { labels: v16.spec.release.labels } : {}), chart: v037.spec.release.chart },
    },
  };
}

/** Every CRD the Flux part installs: source kinds (source-controller's), HelmRelease (helm-controller's), the app kind (stand-in). */
export function fluxCrds(config: PlatformConfig): KubeObject[] {
  return [...sourceControllerCrds(), ...helmReleaseCrds(), applicationCrd(appDefinition(config))];
}

/** One Flux controller process with its own folder, health probe on 127.0.0.1 and no metrics. */
async function startFluxController(name: string, binary: FluxBinaries["helmController"], dir: string, kubeconfigPath: string, args: (own: string) => Promise<string[]>): Promise<RunningController> {
  const own = join(dir, name);
  mkdirSync(own, { recursive: true });
  const healthPort = await freePort();
  const logFile = join(own, `${name}.log`);
  const process = new ServerProcess({
    name,
    command: binary.path,
    args: ["--metrics-addr=0", `--health-addr=127.0.0.1:${healthPort}`, "--enable-leader-election=false", "--log-encoding=console", ...(await args(own))],
    logFile,
    env: { KUBECONFIG: kubeconfigPath, TMPDIR: own, HOME: own },
  });
  const healthUrl = `http://127.0.0.1:${healthPort}/healthz`;
  return { name, version: binary.version, process, healthUrl, logFile, probe: () => httpOk(healthUrl) };
}

/** Starts helm-controller (not waiting for it: see `waitHealthy`). */
export function startHelmController(binary: FluxBinaries["helmController"], dir: string, kubeconfigPath: string): Promise<RunningController> {
  return startFluxController("helm-controller", binary, dir, kubeconfigPath, async () => [
    "--requeue-dependency=5s",
    // Within the watchdog's grace period (ServerProcess): the environment is thrown away.
    "--graceful-shutdown-timeout=1s",
  ]);
}

/**
 * Starts source-controller (not waiting for it): artifacts stored in its folder and served
 * on 127.0.0.1, where helm-controller fetches them (`--storage-adv-addr`).
 */
export function startSourceController(binary: FluxBinaries["sourceController"], dir: string, kubeconfigPath: string): Promise<RunningController> {
  return startFluxController("source-controller", binary, dir, kubeconfigPath, async (own) => {
    const storage = `127.0.0.1:${await freePort()}`;
    mkdirSync(join(own, "storage"), { recursive: true });
    return [`--storage-path=${join(own, "storage")}`, `--storage-addr=${storage}`, `--storage-adv-addr=${storage}`, "--requeue-dependency=5s"];
  });
}

/** The Helm repository of the app chart and the cozystack-api stand-in, started once the Flux controllers run. */
export interface FluxSources {
  /** The real Helm repository the HelmRepository `cozy-public/cozystack-apps` points at. */
  readonly repository: HelmRepositoryServer;
  readonly cozystackApi: CozystackApiStandIn;
  /**
   * What a platform upgrade changes on the CozyStack side: the app chart as the new
   * platform publishes it (`chartVersion`: the version of that release) and the definition
   * of its profile, and a request to reconcile the HelmRepository. The real source-controller
   * then makes each HelmChart's new artifact and the real helm-controller upgrades every
   * tenant's release.
   */
  upgradePlatform(config: PlatformConfig, chartVersion: string): Promise<void>;
  stop(): Promise<void>;
}

/** The app chart's files with another Chart.yaml version (a new release of the chart). */
export function withChartVersion(files: ChartFiles, version: string): ChartFiles {
  const chartYaml = String(files.get("Chart.yaml") ?? "");
  if (!/^version: .*$/m.test(chartYaml)) throw new Error("the app chart's Chart.yaml has no version line");
  return new Map([...files, ["Chart.yaml", chartYaml.replace(/^version: .*$/m, `version: ${version}`)]]);
}

const fieldManager = "cozy-proxmox-mgmt";
const helmRepositoryRef = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata: { namespace: appsRepository.namespace, name: appsRepository.name } } as const;

/**
 * The HelmRepository CozyStack's app releases name, at the loopback repository. A new
 * `requestedAt` asks source-controller to fetch the index now (Flux's own `flux reconcile
 * source helm`), not at the next interval.
 */
function helmRepository(url: string, requestedAt?: string): KubeObject {
  const annotations = requestedAt ? { annotations: { "reconcile.fluxcd.io/requestedAt": requestedAt } } : {};
  return { ...helmRepositoryRef, metadata: { ...helmRepositoryRef.metadata, ...annotations }, spec: { url, interval: "5m" } };
}

/**
 * Asks source-controller to fetch the repository's index now and waits until it says it
 * has (`status.lastHandledReconcileAt` is the request, Ready), as `flux reconcile source
 * helm` does: HelmCharts made after this resolve against the new index.
 */
async function reconcileRepository(client: KubeClient, url: string): Promise<void> {
  const requestedAt = new Date().toISOString();
  await client.apply(helmRepository(url, requestedAt), { fieldManager });
  const { namespace, name } = helmRepositoryRef.metadata;
  const handled = (o: KubeObject | undefined): boolean => (o?.["status"] as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt === requestedAt && conditionIs("Ready")(o);
  await waitFor(client, [{ apiVersion: helmRepositoryRef.apiVersion, kind: helmRepositoryRef.kind, namespace, name }], handled, {
    timeoutMs: 60_000,
    describe: (o) => describeCondition(o, "Ready"),
  });
}

export async function startFluxSources(client: KubeClient, config: PlatformConfig, log: (line: string) => void, tmpRoot?: string): Promise<FluxSources> {
  const repository = new HelmRepositoryServer({ log, ...(tmpRoot ? { tmpRoot } : {}) });
  const cozystackApi = new CozystackApiStandIn({ client, definition: appDefinition(config), log });
  try {
    await repository.start();
    await repository.publish([appChartFiles(config)]);
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: appsRepository.namespace } }, { fieldManager });
    await client.apply(helmRepository(repository.url), { fieldManager });
    cozystackApi.start();
  } catch (error) {
    await Promise.all([cozystackApi.stop(), repository.stop()]);
    throw error;
  }
  return {
    repository,
    cozystackApi,
    upgradePlatform: async (next, chartVersion) => {
      await repository.publish([withChartVersion(appChartFiles(next), chartVersion)]);
      await reconcileRepository(client, repository.url);
      await cozystackApi.useDefinition(appDefinition(next));
      log(`platform upgraded: profile ${next.profile}, app chart ${chartVersion} in HelmRepository ${appsRepository.namespace}/${appsRepository.name}`);
    },
    stop: async () => void (await Promise.all([cozystackApi.stop(), repository.stop()])),
  };
}
