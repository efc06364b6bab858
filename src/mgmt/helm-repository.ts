/**
 * A Helm chart repository on 127.0.0.1: a folder of charts packaged by the real
 * `helm package` and an `index.yaml` written by the real `helm repo index`, served by a plain
 * file server. Flux's source-controller reads it as any HTTP Helm repository (HelmRepository
 * → index, HelmChart → chart), so nothing here knows about Flux.
 *
 * Publishing a new chart version keeps the older packages, as a real repository does, and
 * rewrites the index.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import type { ChartFiles } from "../cozystack/charts/files.js";
import { helmPath } from "../tools/helm.js";

/** A packaged chart as the repository serves it. */
export interface PackagedChart {
  readonly name: string;
  readonly version: string;
  /** File name in the repository, e.g. `kubernetes-proxmox-0.1.0.tgz`. */
  readonly file: string;
  /** `sha256:<hex>` of the package's bytes. */
  readonly digest: string;
  readonly size: number;
}

export interface HelmRepositoryServerOptions {
  /** Where the repository folder and the chart sources go. @default os.tmpdir() */
  readonly tmpRoot?: string;
  readonly log: (line: string) => void;
}

/** A file name the server hands out: one path segment, no traversal. */
const servedName = /^\/([A-Za-z0-9][A-Za-z0-9._-]*)$/;

async function helm(args: readonly string[], what: string): Promise<void> {
  try {
    await execa(helmPath(), args);
  } catch (error) {
    throw new Error(`${what}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`, { cause: error });
  }
}

export class HelmRepositoryServer {
  private server: Server | undefined;
  private workDir: string | undefined;
  private baseUrl = "";
  private sources = 0;
  private readonly latest = new Map<string, PackagedChart>();

  constructor(private readonly options: HelmRepositoryServerOptions) {}

  /** The repository's URL, e.g. `http://127.0.0.1:<port>/` (what a HelmRepository's `url` names). */
  get url(): string {
    return `${this.baseUrl}/`;
  }

  /** The newest package of each chart, by chart name. */
  get packaged(): ReadonlyMap<string, PackagedChart> {
    return this.latest;
  }

  private get repoDir(): string {
    if (!this.workDir) throw new Error("the Helm repository server is not started");
    return join(this.workDir, "repo");
  }

  async start(): Promise<void> {
    this.workDir = mkdtempSync(join(this.options.tmpRoot ?? tmpdir(), "helm-repository-"));
    mkdirSync(this.repoDir, { recursive: true });
    const server = createServer((request, response) => {
      const name = servedName.exec(new URL(request.url ?? "/", "http://x").pathname)?.[1];
      const path = name ? join(this.repoDir, name) : undefined;
      if (request.method !== "GET" || !path || !existsSync(path)) {
        response.writeHead(404).end();
        return;
      }
      const bytes = readFileSync(path);
      const type = name?.endsWith(".tgz") ? "application/gzip" : "application/x-yaml";
      response.writeHead(200, { "content-type": type, "content-length": bytes.length }).end(bytes);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("the Helm repository server has no port");
    this.baseUrl = `http://127.0.0.1:${address.port}`;
  }

  /** Packages each chart with `helm package` into the repository, then re-indexes it with `helm repo index`. */
  async publish(charts: readonly ChartFiles[]): Promise<PackagedChart[]> {
    const published: PackagedChart[] = [];
    for (const files of charts) published.push(await this.package(files));
    await helm(["repo", "index", this.repoDir, "--url", this.baseUrl], "helm repo index");
    for (const chart of published) this.latest.set(chart.name, chart);
    this.options.log(`Helm repository at ${this.url}: published ${published.map((c) => `${c.name} ${c.version}`).join(", ")}`);
    return published;
  }

  private async package(files: ChartFiles): Promise<PackagedChart> {
    const meta = parse(String(files.get("Chart.yaml") ?? "")) as { name?: string; version?: string } | null;
    if (!meta?.name || !meta.version) throw new Error("chart files: Chart.yaml must give name and version");
    if (!this.workDir) throw new Error("the Helm repository server is not started");
    const chartDir = join(this.workDir, "src", String(this.sources++), meta.name);
    for (const [path, content] of files) {
      mkdirSync(dirname(join(chartDir, path)), { recursive: true });
      writeFileSync(join(chartDir, path), content);
    }
    await helm(["package", chartDir, "--destination", this.repoDir], `helm package ${meta.name}`);
    const file = `${meta.name}-${meta.version}.tgz`;
    const bytes = readFileSync(join(this.repoDir, file));
    return { name: meta.name, version: meta.version, file, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
