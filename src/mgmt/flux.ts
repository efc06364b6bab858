/**
 * The path a CozyStack user takes to a tenant cluster, `kubectl apply` of a `Kubernetes`
 * object, in the management environment: the real helm-controller (v1.4.0, see
 * flux-binaries.ts) between two stand-ins for what cannot run here, cozystack-api
 * (cozystack-api-stand-in.ts) and the source-controller (source-controller-stand-in.ts).
 *
 * helm-controller talks to the management API server with the admin kubeconfig and installs
 * the app chart there; health probe on 127.0.0.1, metrics off, no leader election (one
 * replica; a restarted environment must not wait out a dead lease), a short
 * dependency requeue (a HelmChart is Ready within a second here, not after a download).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PlatformConfig } from "../config/index.js";
import { appChartPath, appsRepository, renderAppFiles, resourceDefinition } from "../cozystack/app/index.js";
import { applicationDefinition } from "../packages/index.js";
import { getProfile } from "../versions/index.js";
import type { KubeClient, KubeObject } from "../kube/index.js";
import { freePort, ServerProcess } from "../kube/env/index.js";
import { httpOk } from "../stages/local-controllers.js";
import type { RunningController } from "./controllers.js";
import { applicationCrd, CozystackApiStandIn, type ResourceDefinition } from "./cozystack-api-stand-in.js";
import { ensureSourceCrds, helmReleaseCrds, type FluxBinaries } from "./flux-binaries.js";
import { SourceControllerStandIn, type ChartFiles } from "./source-controller-stand-in.js";

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
 * so the v1.6 HelmRelease takes the same chart files from the source-controller stand-in's
 * HelmRepository, as the v0.37 one does.
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

/** Every CRD the Flux part installs: source kinds (generated), HelmRelease (helm-controller's), the app kind (stand-in). */
export async function fluxCrds(binaries: FluxBinaries, config: PlatformConfig, log: (line: string) => void): Promise<KubeObject[]> {
  const source = await ensureSourceCrds(binaries.controllerGen, { log });
  return [...source, ...helmReleaseCrds(), applicationCrd(appDefinition(config))];
}

/** Starts helm-controller (not waiting for it: see `waitHealthy`). */
export async function startHelmController(binary: FluxBinaries["helmController"], dir: string, kubeconfigPath: string): Promise<RunningController> {
  const name = "helm-controller";
  const own = join(dir, name);
  mkdirSync(own, { recursive: true });
  const healthPort = await freePort();
  const logFile = join(own, `${name}.log`);
  const process = new ServerProcess({
    name,
    command: binary.path,
    args: [
      "--metrics-addr=0",
      `--health-addr=127.0.0.1:${healthPort}`,
      "--enable-leader-election=false",
      "--requeue-dependency=5s",
      // Within the watchdog's grace period (ServerProcess): the environment is thrown away.
      "--graceful-shutdown-timeout=1s",
      "--log-encoding=console",
    ],
    logFile,
    env: { KUBECONFIG: kubeconfigPath, TMPDIR: own, HOME: own },
  });
  const healthUrl = `http://127.0.0.1:${healthPort}/healthz`;
  return { name, version: binary.version, process, healthUrl, logFile, probe: () => httpOk(healthUrl) };
}

/** The two stand-ins, started once helm-controller runs. */
export interface FluxStandIns {
  readonly source: SourceControllerStandIn;
  readonly cozystackApi: CozystackApiStandIn;
  /**
   * What a platform upgrade changes on the CozyStack side: the app chart as the new
   * platform publishes it (`chartVersion`: the version of that release) and the definition
   * of its profile. The real helm-controller then upgrades every tenant's release.
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

export async function startFluxStandIns(client: KubeClient, config: PlatformConfig, log: (line: string) => void, tmpRoot?: string): Promise<FluxStandIns> {
  const source = new SourceControllerStandIn({
    client,
    repositories: [{ namespace: appsRepository.namespace, name: appsRepository.name, charts: [appChartFiles(config)] }],
    log,
    ...(tmpRoot ? { tmpRoot } : {}),
  });
  await source.start();
  const cozystackApi = new CozystackApiStandIn({ client, definition: appDefinition(config), log });
  cozystackApi.start();
  return {
    source,
    cozystackApi,
    upgradePlatform: async (next, chartVersion) => {
      await source.replaceCharts(appsRepository.namespace, appsRepository.name, [withChartVersion(appChartFiles(next), chartVersion)]);
      await cozystackApi.useDefinition(appDefinition(next));
      log(`platform upgraded: profile ${next.profile}, app chart ${chartVersion}`);
    },
    stop: async () => void (await Promise.all([cozystackApi.stop(), source.stop()])),
  };
}
