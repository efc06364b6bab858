/**
 * The vendor step: puts every pinned upstream artifact into the vendor directory. Release
 * assets come from shared/reference/vendor when it has them, else from their pinned URL;
 * charts are pulled with `helm pull` from their OCI repository. Every artifact is checked
 * against its SHA-256 before it is written; chart sums are recorded on first pull.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { capmoxPins, chartPins, ipamPins, type ChartPin, type FilePin } from "./pins.js";
import { readChartLock, sha256, VendorError, verifySha256 } from "./store.js";
import { writeFileAtomicSync } from "../../files/index.js";

export interface VendorOptions {
  /** Output directory (`.cache/vendor`). */
  readonly vendorDir: string;
  /** shared/reference/vendor, if present: preferred over downloads. */
  readonly referenceDir?: string;
  /** Lock file of chart sums. */
  readonly lockPath: string;
  /** Fetches a release asset. @default HTTPS GET with redirects */
  readonly download?: (url: string) => Promise<Buffer>;
  /** Pulls a chart archive. @default `helm pull` with the given helm binary */
  readonly pullChart?: (pin: ChartPin) => Promise<Buffer>;
  /** Path of the helm binary for the default `pullChart`. */
  readonly helm?: string;
  /** Skip the charts (release assets only). @default false */
  readonly skipCharts?: boolean;
  readonly log?: (line: string) => void;
}

export interface VendorResult {
  readonly path: string;
  readonly source: string;
  readonly sha256: string;
}

async function httpsDownload(url: string): Promise<Buffer> {
  const res = await fetch(url, { redirect: "follow" });
  if (!res.ok) throw new VendorError(`GET ${url}: HTTP ${res.status} ${res.statusText}`);
  return Buffer.from(await res.arrayBuffer());
}

function helmPull(helm: string): (pin: ChartPin) => Promise<Buffer> {
  return async (pin) => {
    const dir = mkdtempSync(join(tmpdir(), "vendor-chart-"));
    try {
      const ref = `${pin.repository}/${pin.name}`;
      await promisify(execFile)(helm, ["pull", ref, "--version", pin.version, "--destination", dir]).catch((err: unknown) => {
        throw new VendorError(`helm pull ${ref} --version ${pin.version} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`, {
          cause: err,
        });
      });
      const [file] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
      if (!file) throw new VendorError(`helm pull ${ref} --version ${pin.version} wrote no .tgz`);
      return readFileSync(join(dir, file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Every pinned release asset, whatever profile uses it. */
export function allFilePins(): FilePin[] {
  return [...Object.values(capmoxPins), ...Object.values(ipamPins)].flatMap((p) => [p.components, p.metadata]);
}

async function vendorFile(pin: FilePin, opts: VendorOptions): Promise<VendorResult> {
  const local = opts.referenceDir ? join(opts.referenceDir, pin.path) : undefined;
  let data: Buffer;
  let source: string;
  if (local && existsSync(local)) {
    data = readFileSync(local);
    source = local;
  } else {
    data = await (opts.download ?? httpsDownload)(pin.url);
    source = pin.url;
  }
  verifySha256(data, pin.sha256, source);
  writeFileAtomicSync(join(opts.vendorDir, pin.path), data);
  return { path: pin.path, source, sha256: pin.sha256 };
}

async function vendorChart(pin: ChartPin, opts: VendorOptions, lock: Record<string, string>): Promise<VendorResult> {
  const pull = opts.pullChart ?? helmPull(opts.helm ?? "helm");
  const data = await pull(pin);
  const source = `${pin.repository}/${pin.name}:${pin.version}`;
  const recorded = lock[pin.path];
  if (recorded) {
    verifySha256(data, recorded, source);
  } else {
    lock[pin.path] = sha256(data);
    opts.log?.(`recorded sha256 ${lock[pin.path]} of ${source} in ${opts.lockPath}; commit it`);
  }
  writeFileAtomicSync(join(opts.vendorDir, pin.path), data);
  return { path: pin.path, source, sha256: lock[pin.path]! };
}

/**
 * Runs the vendor step. Throws VendorError on the first artifact that cannot be fetched or
 * whose sum is wrong; artifacts already written stay (each one was verified).
 */
export async function vendorAll(opts: VendorOptions): Promise<VendorResult[]> {
  const results: VendorResult[] = [];
  for (const pin of allFilePins()) {
    const r = await vendorFile(pin, opts);
    opts.log?.(`${r.path}: sha256 ok (${r.source})`);
    results.push(r);
  }
  if (opts.skipCharts) return results;
  const lock = readChartLock(opts.lockPath);
  const before = JSON.stringify(lock);
  try {
    for (const pin of chartPins) {
      const r = await vendorChart(pin, opts, lock);
      opts.log?.(`${r.path}: sha256 ok (${r.source})`);
      results.push(r);
    }
  } finally {
    if (JSON.stringify(lock) !== before) {
      const sorted = Object.fromEntries(Object.keys(lock).sort().map((k) => [k, lock[k]]));
      writeFileAtomicSync(opts.lockPath, `${JSON.stringify({ charts: sorted }, null, 2)}\n`);
    }
  }
  return results;
}
