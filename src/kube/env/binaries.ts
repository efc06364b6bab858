/**
 * Real `kube-apiserver` and `etcd` binaries, built from their Go modules.
 *
 * No container engine runs here, so kind cannot; Go and the Go module proxy can. Neither
 * `k8s.io/kubernetes` nor `go.etcd.io/etcd/server/v3` is meant to be consumed as a module:
 * their own go.mod files replace sibling modules with local paths that are not in the
 * module zips. So each gets a small consumer module of ours (`tools/kube`, `tools/etcd`,
 * committed) whose `replace` block pins those siblings to their published versions. The
 * version in the consumer go.mod is the pin; `updateConsumerModule` moves it to the newest
 * patch of the same line. Results are cached under `.cache/<kind>/<version>/`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { cacheDir, repoRoot } from "../../paths.js";
import { writeFileAtomicSync } from "../../files/index.js";

/** One binary built from a Go module through a consumer module of ours. */
export interface GoBinarySpec {
  /** File name of the binary. */
  readonly binary: string;
  /** Cache family: the binary lands in `.cache/<cacheName>/<version>/`. */
  readonly cacheName: string;
  /** The consumer module's folder, relative to the repository root. */
  readonly moduleDir: string;
  /** Module path of the consumer module (`module` line of its go.mod). */
  readonly consumerModule: string;
  /** The upstream module that holds the main package. */
  readonly module: string;
  /** Import path of the main package. */
  readonly mainPackage: string;
  /** Release line that updates stay in, e.g. `v1.33.` (newest patch of it is taken). */
  readonly line: string;
  /** Extra `-X` settings for the linker (version stamping), from the pinned version. @default none */
  readonly stamp?: (version: string) => readonly string[];
}

/**
 * What Kubernetes' own build stamps into its binaries (hack/lib/version.sh); without it
 * `/version` says v0.0.0-master. Build date and commit are left out: same input, same bytes.
 */
function kubernetesStamp(version: string): string[] {
  const [major, minor] = version.replace(/^v/, "").split(".");
  const settings = { gitVersion: version, gitMajor: major ?? "", gitMinor: minor ?? "", gitTreeState: "clean" };
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) =>
    Object.entries(settings).map(([key, value]) => `-X ${pkg}.${key}=${value}`),
  );
}

export const kubeApiserverSpec: GoBinarySpec = {
  binary: "kube-apiserver",
  cacheName: "kube",
  moduleDir: "tools/kube",
  consumerModule: "cozy-proxmox/tools/kube",
  module: "k8s.io/kubernetes",
  mainPackage: "k8s.io/kubernetes/cmd/kube-apiserver",
  line: "v1.33.",
  stamp: kubernetesStamp,
};

export const etcdSpec: GoBinarySpec = {
  binary: "etcd",
  cacheName: "etcd",
  moduleDir: "tools/etcd",
  consumerModule: "cozy-proxmox/tools/etcd",
  module: "go.etcd.io/etcd/server/v3",
  // In the 3.5 line the server module's root package is the etcd main.
  mainPackage: "go.etcd.io/etcd/server/v3",
  line: "v3.5.",
};

/** From the same module and version as kube-apiserver: the management environment runs its garbage collector and namespace controller. */
export const kubeControllerManagerSpec: GoBinarySpec = {
  ...kubeApiserverSpec,
  binary: "kube-controller-manager",
  cacheName: "kube-controller-manager",
  mainPackage: "k8s.io/kubernetes/cmd/kube-controller-manager",
};

export const kubeBinarySpecs: readonly GoBinarySpec[] = [kubeApiserverSpec, kubeControllerManagerSpec, etcdSpec];

/** Where a built binary is, and what built it. */
export interface BuiltBinary {
  readonly spec: GoBinarySpec;
  readonly version: string;
  readonly path: string;
}

/** Written beside each binary; the cache is reused only when it matches. */
interface BuildMarker {
  readonly version: string;
  readonly goVersion: string;
  readonly mainPackage: string;
  readonly ldflags: string;
}

function ldflags(spec: GoBinarySpec, version: string): string {
  return ["-s", "-w", ...(spec.stamp?.(version) ?? [])].join(" ");
}

export type Log = (line: string) => void;

export interface BuildOptions {
  /** Progress lines (what is being built, how long it took). @default no output */
  readonly log?: Log;
  /** Show the Go tool's own output (downloads, errors) on this process's stderr. @default false */
  readonly verbose?: boolean;
  /** Rebuild even when the cache matches. @default false */
  readonly force?: boolean;
}

/** The version the committed consumer go.mod pins for the spec's module. */
export function pinnedVersion(spec: GoBinarySpec): string {
  const goMod = join(repoRoot, spec.moduleDir, "go.mod");
  if (!existsSync(goMod)) {
    throw new Error(`${spec.moduleDir}/go.mod is missing; run \`npm run kube:binaries -- --update\` to generate it`);
  }
  const text = readFileSync(goMod, "utf8");
  const escaped = spec.module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(text);
  if (!match?.[1]) throw new Error(`${spec.moduleDir}/go.mod does not require ${spec.module}`);
  return match[1];
}

/** Folder of the cached build of a version. */
export function binaryDir(spec: GoBinarySpec, version: string): string {
  return join(cacheDir, spec.cacheName, version);
}

/** The cached binary for the pinned version, or why there is none usable. */
export function cachedBinary(spec: GoBinarySpec, goVersion?: string): BuiltBinary | { readonly missing: string } {
  const version = pinnedVersion(spec);
  const dir = binaryDir(spec, version);
  const path = join(dir, spec.binary);
  const markerPath = join(dir, "build.json");
  if (!existsSync(path) || !existsSync(markerPath)) return { missing: `${spec.binary} ${version} is not built (${dir})` };
  const marker = JSON.parse(readFileSync(markerPath, "utf8")) as BuildMarker;
  if (marker.version !== version || marker.mainPackage !== spec.mainPackage || marker.ldflags !== ldflags(spec, version)) {
    return { missing: `${spec.binary} in ${dir} was built from ${marker.mainPackage}@${marker.version} with other flags` };
  }
  if (goVersion !== undefined && marker.goVersion !== goVersion) {
    return { missing: `${spec.binary} ${version} was built with ${marker.goVersion}, not ${goVersion}` };
  }
  return { spec, version, path };
}

/** `go env GOVERSION`, or undefined when there is no Go toolchain on PATH. */
export async function goVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await execa("go", ["env", "GOVERSION"]);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Environment of every Go invocation: static, lean binaries with reproducible paths. */
const goEnv = { CGO_ENABLED: "0", GOFLAGS: "-trimpath" } as const;

async function runGo(args: readonly string[], cwd: string, verbose: boolean): Promise<void> {
  try {
    await execa("go", args, { cwd, env: goEnv, stdout: verbose ? "inherit" : "pipe", stderr: verbose ? "inherit" : "pipe" });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const tail = typeof stderr === "string" ? stderr.split("\n").slice(-30).join("\n") : "";
    throw new Error(`go ${args.join(" ")} failed in ${cwd}${tail ? `:\n${tail}` : ""}`, { cause: error });
  }
}

/**
 * The binary for the pinned version: from the cache when its marker matches (version, flags
 * and, where Go is installed, the Go version), otherwise built now (`go build` downloads
 * what go.sum pins).
 */
export async function ensureBinary(spec: GoBinarySpec, options: BuildOptions = {}): Promise<BuiltBinary> {
  const log = options.log ?? (() => {});
  const go = await goVersion();
  // Without a Go toolchain a cached build of the pinned version is still good.
  const cached = cachedBinary(spec, go);
  if ("path" in cached && !options.force) {
    log(`${spec.binary} ${cached.version}: cached at ${cached.path}`);
    return cached;
  }
  if (!go) throw new Error(`cannot build ${spec.binary}: no \`go\` on PATH (install Go ≥ 1.26 from https://go.dev/dl/)`);
  const version = pinnedVersion(spec);
  const dir = binaryDir(spec, version);
  mkdirSync(dir, { recursive: true });
  const target = join(dir, spec.binary);
  const tmp = `${target}.${process.pid}.tmp`;
  log(`${spec.binary} ${version}: building ${spec.mainPackage} with ${go} (a cold build takes many minutes)`);
  const started = Date.now();
  try {
    await runGo(["build", `-ldflags=${ldflags(spec, version)}`, "-o", tmp, spec.mainPackage], join(repoRoot, spec.moduleDir), options.verbose ?? false);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  const marker: BuildMarker = { version, goVersion: go, mainPackage: spec.mainPackage, ldflags: ldflags(spec, version) };
  writeFileSync(join(dir, "build.json"), `${JSON.stringify(marker, null, 2)}\n`);
  log(`${spec.binary} ${version}: built in ${((Date.now() - started) / 1000).toFixed(0)} s → ${target}`);
  return { spec, version, path: target };
}

/** Both binaries the test environment needs. */
export interface KubeBinaries {
  readonly kubeApiserver: BuiltBinary;
  readonly etcd: BuiltBinary;
}

/** Builds (or reuses) every binary of `specs`, one after the other (each build uses every core). */
export async function ensureBinaries<K extends string>(specs: Readonly<Record<K, GoBinarySpec>>, options: BuildOptions = {}): Promise<Record<K, BuiltBinary>> {
  const built: Partial<Record<K, BuiltBinary>> = {};
  for (const key of Object.keys(specs) as K[]) built[key] = await ensureBinary(specs[key], options);
  return built as Record<K, BuiltBinary>;
}

/**
 * Every binary of `specs` cached (any Go version), or what is missing first (and whether a
 * build is possible at all). Synchronous checks only, for test collection.
 */
export function cachedBinaries<K extends string>(specs: Readonly<Record<K, GoBinarySpec>>): Record<K, BuiltBinary> | { readonly missing: string } {
  const built: Partial<Record<K, BuiltBinary>> = {};
  for (const key of Object.keys(specs) as K[]) {
    const cached = cachedBinary(specs[key]);
    if (!("path" in cached)) return cached;
    built[key] = cached;
  }
  return built as Record<K, BuiltBinary>;
}

const kubeSpecs = { kubeApiserver: kubeApiserverSpec, etcd: etcdSpec } as const;

/** Builds (or reuses) kube-apiserver and etcd. */
export function ensureKubeBinaries(options: BuildOptions = {}): Promise<KubeBinaries> {
  return ensureBinaries(kubeSpecs, options);
}

/** kube-apiserver and etcd cached, or what is missing. */
export function cachedKubeBinaries(): KubeBinaries | { readonly missing: string } {
  return cachedBinaries(kubeSpecs);
}

// ---------------------------------------------------------------------------------------
// Moving the pin: generating the consumer go.mod from the upstream module's own go.mod.

/** The module proxy `go` itself uses (first http(s) entry of GOPROXY). */
export async function moduleProxy(): Promise<string> {
  const { stdout } = await execa("go", ["env", "GOPROXY"]);
  const proxy = stdout
    .split(/[,|]/)
    .map((entry) => entry.trim())
    .find((entry) => /^https?:\/\//.test(entry));
  if (!proxy) throw new Error(`GOPROXY=${JSON.stringify(stdout.trim())} names no module proxy; one is needed to resolve versions`);
  return proxy.replace(/\/+$/, "");
}

/** Module paths in proxy URLs spell capitals as `!` + lower case. */
function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

async function proxyText(proxy: string, module: string, file: string): Promise<string> {
  const url = `${proxy}/${escapeModulePath(module)}/@v/${file}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}

/** Numeric parts of `v1.33.13` / `go1.26.8` / `1.24.0`. */
function versionParts(version: string): number[] {
  return version
    .replace(/^(v|go)/, "")
    .split(".")
    .map((n) => Number.parseInt(n, 10));
}

export function compareVersions(a: string, b: string): number {
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The `go` directive of a go.mod text, e.g. `1.24.0`. */
export function goDirective(goModText: string): string | undefined {
  return /^go\s+(\S+)/m.exec(goModText)?.[1];
}

/**
 * The `replace` block a consumer needs: every upstream replace that points at a local
 * folder (`./staging/...`, `../api`) becomes a pin to the published version. That version
 * is the one the upstream `require` block names, unless it names the `v0.0.0` placeholder
 * (Kubernetes does), in which case Kubernetes v1.X.Y maps to v0.X.Y.
 */
export function consumerReplaces(upstreamGoMod: string, upstreamVersion: string): Array<readonly [string, string]> {
  const requires = new Map<string, string>();
  for (const match of upstreamGoMod.matchAll(/^\s*(?:require\s+)?(\S+)\s+(v\d\S*)(?:\s+\/\/.*)?$/gm)) {
    if (match[1] && match[2]) requires.set(match[1], match[2]);
  }
  const [, minor, patch] = versionParts(upstreamVersion);
  const pins: Array<readonly [string, string]> = [];
  for (const match of upstreamGoMod.matchAll(/^\s*(?:replace\s+)?(\S+)\s+=>\s+(\.{1,2}\/\S*)\s*$/gm)) {
    const module = match[1];
    if (!module) continue;
    const required = requires.get(module);
    // Replacements of modules the upstream does not require (etcd's FORBIDDEN_DEPENDENCY guards) are not needed.
    if (!required) continue;
    pins.push([module, required === "v0.0.0" ? `v0.${minor}.${patch}` : required]);
  }
  if (pins.length === 0) throw new Error(`upstream go.mod of version ${upstreamVersion} has no local replace directives to pin`);
  return pins.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The consumer go.mod text, before `go get` adds the requirements and the tool line. */
export function consumerGoMod(spec: GoBinarySpec, version: string, upstreamGoMod: string): string {
  const go = goDirective(upstreamGoMod) ?? "1.24.0";
  const replaces = consumerReplaces(upstreamGoMod, version)
    .map(([module, pinned]) => `\t${module} => ${module} ${pinned}\n`)
    .join("");
  return (
    `// Generated by \`npm run kube:binaries -- --update\`: builds ${spec.mainPackage}.\n` +
    `// The replace block pins the modules that ${spec.module}'s own go.mod replaces with local paths.\n` +
    `module ${spec.consumerModule}\n\ngo ${go}\n\nrequire ${spec.module} ${version}\n\nreplace (\n${replaces})\n`
  );
}

/**
 * The newest version of the spec's line on the proxy whose `go` directive the local Go
 * toolchain satisfies (so GOTOOLCHAIN=local keeps working).
 */
export async function newestVersion(spec: GoBinarySpec, proxy: string, localGo: string): Promise<string> {
  const list = (await proxyText(proxy, spec.module, "list"))
    .split("\n")
    .map((v) => v.trim())
    .filter((v) => v.startsWith(spec.line) && /^v\d+\.\d+\.\d+$/.test(v))
    .sort(compareVersions)
    .reverse();
  for (const version of list) {
    const go = goDirective(await proxyText(proxy, spec.module, `${version}.mod`));
    if (!go || compareVersions(go, localGo) <= 0) return version;
  }
  throw new Error(`no ${spec.module} ${spec.line}x on ${proxy} builds with ${localGo}`);
}

/**
 * Regenerates the consumer module for `version` (default: the newest of the line): go.mod
 * from the upstream go.mod, then `go get -tool` fills requirements and go.sum.
 */
export async function updateConsumerModule(
  spec: GoBinarySpec,
  options: BuildOptions & { readonly version?: string; readonly alsoTools?: readonly string[] } = {},
): Promise<string> {
  const log = options.log ?? (() => {});
  const go = await goVersion();
  if (!go) throw new Error(`cannot update ${spec.moduleDir}: no \`go\` on PATH`);
  const proxy = await moduleProxy();
  const version = options.version ?? (await newestVersion(spec, proxy, go));
  if (!version.startsWith(spec.line)) throw new Error(`version: ${version} is not in the ${spec.line}x line of ${spec.module}`);
  const upstream = await proxyText(proxy, spec.module, `${version}.mod`);
  const dir = join(repoRoot, spec.moduleDir);
  mkdirSync(dir, { recursive: true });
  const goMod = join(dir, "go.mod");
  writeFileAtomicSync(goMod, consumerGoMod(spec, version, upstream));
  rmSync(join(dir, "go.sum"), { force: true });
  log(`${spec.moduleDir}: pinning ${spec.module} ${version} and its siblings; resolving requirements`);
  const tools = [spec.mainPackage, ...(options.alsoTools ?? [])].map((pkg) => `${pkg}@${version}`);
  await runGo(["get", "-tool", ...tools], dir, options.verbose ?? false);
  return version;
}
