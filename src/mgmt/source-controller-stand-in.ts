/**
 * Flux source-controller stand-in. The source-controller module is not served by the Go
 * module proxy, so the real one cannot be built here. This stand-in plays only its part
 * towards helm-controller for the charts it is given (CozyStack's `cozystack-apps`
 * repository, in `cozy-public`):
 *
 * - it packages each chart with the real `helm package` and serves the `.tgz` over plain
 *   HTTP on 127.0.0.1 (where source-controller serves its storage);
 * - it applies the HelmRepository and marks it Ready;
 * - for every HelmChart whose source is that HelmRepository and whose chart it holds, it
 *   publishes the artifact helm-controller fetches (url, `sha256:` digest of the exact bytes,
 *   revision = chart version, size, path, lastUpdateTime) with Ready=True for the HelmChart's
 *   generation; a chart it does not hold or a version it cannot give is Ready=False, saying why.
 * It renders nothing, installs nothing and never touches a HelmRelease: helm-controller does.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import { type KubeClient, type KubeObject, objectKey, Reconciler } from "../kube/index.js";
import { helmPath } from "../tools/helm.js";

export const sourceControllerStandInName = "source-controller-stand-in";
const sourceApiVersion = "source.toolkit.fluxcd.io/v1";

/** A chart's files, keyed by path relative to the chart folder (Chart.yaml, templates/…). */
export type ChartFiles = ReadonlyMap<string, string | Buffer>;

/** One HelmRepository the stand-in serves, with its charts. */
export interface ServedRepository {
  readonly namespace: string;
  readonly name: string;
  readonly charts: readonly ChartFiles[];
}

export interface SourceControllerStandInOptions {
  readonly client: KubeClient;
  readonly repositories: readonly ServedRepository[];
  /** Where the packaged charts go. @default os.tmpdir() */
  readonly tmpRoot?: string;
  readonly log: (line: string) => void;
}

/** A packaged chart as the stand-in serves it. */
export interface PackagedChart {
  readonly name: string;
  readonly version: string;
  /** Path under the server's root, e.g. `helmchart/cozy-public/kubernetes-proxmox-0.1.0.tgz`. */
  readonly path: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

/** `helm package` of a chart's files; returns the package's bytes and identity. */
export async function packageChart(files: ChartFiles, namespace: string, workDir: string): Promise<PackagedChart> {
  const meta = parse(String(files.get("Chart.yaml") ?? "")) as { name?: string; version?: string } | null;
  if (!meta?.name || !meta.version) throw new Error("chart files: Chart.yaml must give name and version");
  const chartDir = join(workDir, "src", meta.name);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(chartDir, path)), { recursive: true });
    writeFileSync(join(chartDir, path), content);
  }
  const out = join(workDir, "packages");
  mkdirSync(out, { recursive: true });
  try {
    await execa(helmPath(), ["package", chartDir, "--destination", out]);
  } catch (error) {
    throw new Error(`helm package ${meta.name}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`, { cause: error });
  }
  const file = `${meta.name}-${meta.version}.tgz`;
  const bytes = readFileSync(join(out, file));
  return {
    name: meta.name,
    version: meta.version,
    path: `helmchart/${namespace}/${file}`,
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size: bytes.length,
    bytes,
  };
}

/** The versions CozyStack's HelmReleases ask for (`>= 0.0.0-0`), any, or exactly the chart's. */
export function versionMatches(wanted: string | undefined, version: string): boolean {
  const w = (wanted ?? "").trim();
  return w === "" || w === "*" || w === ">= 0.0.0-0" || w === ">=0.0.0-0" || w === version;
}


interface HelmChartSpec {
  readonly chart?: string;
  readonly version?: string;
  readonly sourceRef?: { readonly kind?: string; readonly name?: string };
}

export class SourceControllerStandIn {
  private reconciler: Reconciler | undefined;
  private readonly charts = new Map<string, PackagedChart>();
  /** Every package ever served, by URL path: a HelmChart may still point at an older one. */
  private readonly byPath = new Map<string, PackagedChart>();
  private packages = 0;
  private server: Server | undefined;
  private workDir: string | undefined;
  private baseUrl = "";

  constructor(private readonly options: SourceControllerStandInOptions) {}

  /** Where the artifacts are served, e.g. `http://127.0.0.1:<port>`. */
  get url(): string {
    return this.baseUrl;
  }

  /** The packaged charts, by `<namespace>/<repository>/<chart>`. */
  get packaged(): ReadonlyMap<string, PackagedChart> {
    return this.charts;
  }

  async start(): Promise<void> {
    this.workDir = mkdtempSync(join(this.options.tmpRoot ?? tmpdir(), "source-controller-stand-in-"));
    for (const repo of this.options.repositories) await this.package(repo, repo.charts);
    await this.listen();
    for (const repo of this.options.repositories) await this.applyRepository(repo);
    this.reconciler = new Reconciler({
      client: this.options.client,
      apiVersion: sourceApiVersion,
      kind: "HelmChart",
      log: (line) => this.log(line),
      reconcile: async (_key, chart) => chart && this.publish(chart),
    });
    this.reconciler.start();
  }

  /**
   * Serves other chart files in a repository, as a new release of a chart is published
   * (its Chart.yaml carries a new version), and gives every HelmChart of that repository the
   * new artifact, as source-controller does on its next interval.
   */
  async replaceCharts(namespace: string, name: string, charts: readonly ChartFiles[]): Promise<void> {
    const repo = this.options.repositories.find((r) => r.namespace === namespace && r.name === name);
    if (!repo) throw new Error(`no HelmRepository ${namespace}/${name} is served`);
    await this.package(repo, charts);
    this.log(`serving ${charts.length} new chart(s) in ${namespace}/${name}: ${[...this.charts.values()].map((c) => `${c.name} ${c.version}`).join(", ")}`);
    const helmCharts = await this.options.client.list(sourceApiVersion, "HelmChart", { namespace });
    for (const object of helmCharts.items) await this.publish(object, { force: true });
  }

  private async package(repo: ServedRepository, charts: readonly ChartFiles[]): Promise<void> {
    if (!this.workDir) throw new Error("the source-controller stand-in is not started");
    for (const files of charts) {
      const chart = await packageChart(files, repo.namespace, join(this.workDir, `${repo.namespace}-${repo.name}-${this.packages++}`));
      this.charts.set(`${repo.namespace}/${repo.name}/${chart.name}`, chart);
      this.byPath.set(`/${chart.path}`, chart);
    }
  }

  async stop(): Promise<void> {
    await this.reconciler?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }

  private log(line: string): void {
    this.options.log(`${sourceControllerStandInName}: ${line}`);
  }

  private async listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chart = request.method === "GET" ? this.byPath.get(new URL(request.url ?? "/", "http://x").pathname) : undefined;
      if (!chart) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/gzip", "content-length": chart.size }).end(chart.bytes);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("the artifact server has no port");
    this.baseUrl = `http://127.0.0.1:${address.port}`;
    this.log(`serving ${[...this.charts.values()].map((c) => `${c.name} ${c.version}`).join(", ")} at ${this.baseUrl}`);
  }

  private async applyRepository(repo: ServedRepository): Promise<void> {
    const ref = { apiVersion: sourceApiVersion, kind: "HelmRepository", metadata: { name: repo.name, namespace: repo.namespace } };
    await this.options.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: repo.namespace } }, { fieldManager: sourceControllerStandInName });
    const applied = await this.options.client.apply({ ...ref, spec: { url: `${this.baseUrl}/helmrepository/${repo.namespace}/${repo.name}/`, interval: "5m" } }, { fieldManager: sourceControllerStandInName });
    await this.setStatus(ref, {
      observedGeneration: applied.metadata["generation"],
      url: `${this.baseUrl}/helmrepository/${repo.namespace}/${repo.name}/`,
      conditions: [this.condition("Ready", "True", "Succeeded", `serving ${repo.charts.length} chart(s) (${sourceControllerStandInName})`, applied)],
    });
  }

  private condition(type: string, status: string, reason: string, message: string, object: KubeObject): Record<string, unknown> {
    return { type, status, reason, message, observedGeneration: object.metadata["generation"], lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
  }

  private async setStatus(ref: KubeObject, status: Record<string, unknown>): Promise<void> {
    await this.options.client.apply({ ...ref, status }, { fieldManager: sourceControllerStandInName, subresource: "status" });
  }

  /** Ready with the artifact, for this generation; Ready=False when the chart is not served. */
  private async publish(object: KubeObject, options: { readonly force?: boolean } = {}): Promise<void> {
    if (object.metadata["deletionTimestamp"]) return;
    const spec = (object["spec"] ?? {}) as HelmChartSpec;
    if (spec.sourceRef?.kind !== "HelmRepository") return;
    const repoKey = `${object.metadata.namespace}/${spec.sourceRef.name}`;
    if (!this.options.repositories.some((r) => `${r.namespace}/${r.name}` === repoKey)) return;
    const generation = object.metadata["generation"];
    const status = object["status"] as { observedGeneration?: number } | undefined;
    if (status?.observedGeneration === generation && !options.force) return;
    const ref = { apiVersion: sourceApiVersion, kind: "HelmChart", metadata: { name: object.metadata.name, namespace: object.metadata.namespace } };
    const chart = this.charts.get(`${repoKey}/${spec.chart}`);
    if (!chart || !versionMatches(spec.version, chart.version)) {
      const why = chart ? `no version of '${spec.chart}' matches '${spec.version}' (have ${chart.version})` : `no chart '${spec.chart}' in HelmRepository ${repoKey}`;
      await this.setStatus(ref, { observedGeneration: generation, conditions: [this.condition("Ready", "False", "ChartPullError", why, object)] });
      this.log(`HelmChart ${objectKey(object)}: ${why}`);
      return;
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await this.setStatus(ref, {
      observedGeneration: generation,
      observedChartName: chart.name,
      url: `${this.baseUrl}/${chart.path}`,
      artifact: { path: chart.path, url: `${this.baseUrl}/${chart.path}`, revision: chart.version, digest: chart.digest, size: chart.size, lastUpdateTime: now },
      conditions: [
        this.condition("Ready", "True", "ChartPullSucceeded", `pulled '${chart.name}' chart with version '${chart.version}'`, object),
        this.condition("ArtifactInStorage", "True", "ChartPullSucceeded", `pulled '${chart.name}' chart with version '${chart.version}'`, object),
      ],
    });
    this.log(`HelmChart ${objectKey(object)}: artifact ${chart.name} ${chart.version} (${chart.digest})`);
  }
}
