/**
 * `npm run synth -- [--config <file>] [--out <dir>] [--bundle <file>] [--check] [--print-default-config]`
 *
 * Renders everything in memory (tenant clusters; the paas-proxmox bundle and the CozyStack
 * overlay, or for profile cozystack-v1.6 the v1.x packages; the config's JSON Schema),
 * optionally validates every tenant object strictly against its CRD, then writes all of it
 * or nothing.
 * Exit codes: 0 ok, 1 invalid config or output, 2 usage error.
 */
import { join, relative, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { renderBundle } from "../bundles/index.js";
import { renderTenants } from "../capi/index.js";
import { configJsonSchema, ConfigError, loadConfig, printConfig, type PlatformConfig } from "../config/index.js";
import { renderOverlay, upstreamChartStatus } from "../cozystack/index.js";
import { renderTenantResources } from "../cozystack/app/index.js";
import type { ValidationIssue } from "../crds/index.js";
import { packagesOutDir, PackagesError, renderPackages } from "../packages/index.js";
import { repoRoot } from "../paths.js";
import { writeOutputs, type OutputPlan } from "../files/index.js";
import { parseCommandLine, runCommand, UsageError, withUsage } from "./command.js";

export { UsageError };

export const usage = `Usage: npm run synth -- [options]

  --config <file>            platform.yaml (default: the built-in config, see --print-default-config)
  --out <dir>                output folder (default: <repo>/dist): tenants/, apps/, cozystack/ (or cozystack-v1.6/
                             with profile cozystack-v1.6), platform.schema.json
  --bundle <file>            where the bundle goes too (default: <repo>/bundles/paas-proxmox.yaml)
  --check                    also validate every tenant object strictly against its CRD, and, when
                             Proxmox answers (PROXMOX_* or the config's proxmox.*), that each
                             tenant's worst case fits (stage 2's placement preflight)
  --print-default-config     print the built-in config as commented YAML and exit
  -h, --help                 show this help

Exit codes: 0 success, 1 invalid config or output (nothing written), 2 usage error.`;

/** Everything synth produces, in memory. */
export interface SynthOutput {
  /** `<tenant>.yaml` → multi-document YAML. */
  readonly tenants: ReadonlyMap<string, string>;
  /** `<tenant>.yaml` → the `Kubernetes` custom resource (apps.cozystack.io) that gives the same cluster. */
  readonly apps: ReadonlyMap<string, string>;
  /** The paas-proxmox bundle text (CozyStack v0.37 profile). */
  readonly bundle?: string;
  /** Path relative to `<out>/cozystack` → content (CozyStack v0.37 profile). */
  readonly overlay?: ReadonlyMap<string, string | Buffer>;
  /** Path relative to `<out>/cozystack-v1.6` → content (profile cozystack-v1.6). */
  readonly packages?: ReadonlyMap<string, string | Buffer>;
  /** `<out>/platform.schema.json`. */
  readonly schema: string;
}

export interface SynthOptions {
  readonly outDir: string;
  readonly bundleFile: string;
  /** Validate every tenant object strictly; fail without writing on any issue. @default false */
  readonly check?: boolean;
}

/** Output that failed strict validation. */
export class OutputValidationError extends Error {
  override readonly name = "OutputValidationError";
  readonly issues: readonly ValidationIssue[];

  /** `formatted`: the issues as formatValidationIssues prints them. */
  constructor(issues: readonly ValidationIssue[], formatted: string) {
    super(`generated objects fail strict validation against their CRDs (${issues.length}):\n${formatted}`);
    this.issues = issues;
  }
}

/** Renders every output in memory; writes nothing. */
export async function renderAll(config: PlatformConfig): Promise<SynthOutput> {
  const tenants = renderTenants(config);
  if (config.profile === "cozystack-v1.6") {
    const schema = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
    return { tenants, apps: renderTenantResources(config), packages: renderPackages(config), schema };
  }
  const bundle = renderBundle(config);
  const overlay = await renderOverlay(config, bundle);
  const schema = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  return { tenants, apps: renderTenantResources(config), bundle, overlay, schema };
}

/**
 * Strict validation of the tenant files as written (parsed back from their YAML). The CRD
 * validator (ajv, CEL, the pinned CRDs) loads here, on first use, so a synth without --check
 * does not pay for it at start-up.
 */
export async function checkTenants(tenants: ReadonlyMap<string, string>, config: PlatformConfig): Promise<ValidationIssue[]> {
  const { validateObjects } = await import("../crds/index.js");
  const objects = [...tenants.values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as unknown));
  return validateObjects(objects, { profile: config.profile });
}

/** Render, optionally check, and write everything or nothing. Returns the paths written. */
export async function synth(config: PlatformConfig, options: SynthOptions): Promise<string[]> {
  const output = await renderAll(config);
  if (options.check) {
    const issues = await checkTenants(output.tenants, config);
    if (issues.length > 0) {
      const { formatValidationIssues } = await import("../crds/index.js");
      throw new OutputValidationError(issues, formatValidationIssues(issues));
    }
  }
  const plan: OutputPlan = {
    outDir: options.outDir,
    folders: new Map([
      ["tenants", output.tenants],
      ["apps", output.apps],
      ...(output.overlay ? [["cozystack", output.overlay] as const] : []),
      ...(output.packages ? [[packagesOutDir, output.packages] as const] : []),
    ]),
    files: new Map([["platform.schema.json", output.schema]]),
    external: new Map(output.bundle === undefined ? [] : [[options.bundleFile, output.bundle]]),
  };
  return writeOutputs(plan);
}

/** What the command line asked for. */
export type SynthCommand =
  | { readonly kind: "help" }
  | { readonly kind: "print-default-config" }
  | { readonly kind: "synth"; readonly configFile?: string; readonly outDir: string; readonly bundleFile: string; readonly check: boolean };

/** The command line as a command; throws UsageError. */
export function parseSynthArgs(args: readonly string[], cwd: string): SynthCommand {
  const { values } = parseCommandLine({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      bundle: { type: "string" },
      check: { type: "boolean", default: false },
      "print-default-config": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { kind: "help" };
  if (values["print-default-config"]) {
    // It prints the built-in config only: a --config or --check next to it would be silently ignored.
    const other = (["config", "out", "bundle", "check"] as const).filter((key) => values[key] !== undefined && values[key] !== false);
    if (other.length > 0) throw new UsageError(`--print-default-config takes no other option (got ${other.map((k) => `--${k}`).join(", ")})`);
    return { kind: "print-default-config" };
  }
  for (const key of ["config", "out", "bundle"] as const) {
    if (values[key] === "") throw new UsageError(`--${key} needs a non-empty value`);
  }
  return {
    kind: "synth",
    ...(values.config !== undefined ? { configFile: resolve(cwd, values.config) } : {}),
    outDir: values.out !== undefined ? resolve(cwd, values.out) : join(repoRoot, "dist"),
    bundleFile: values.bundle !== undefined ? resolve(cwd, values.bundle) : join(repoRoot, "bundles", "paas-proxmox.yaml"),
    check: values.check ?? false,
  };
}

/** A tenant whose worst case does not fit the Proxmox cluster (`--check` with Proxmox reachable). */
export class PlacementError extends Error {
  override readonly name = "PlacementError";
  constructor(text: string) {
    super(`a tenant does not fit on the Proxmox cluster: ${text}`);
  }
}

export interface CliIo {
  readonly cwd: string;
  /** The environment (PROXMOX_* for `--check`'s placement preflight). @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function summary(written: readonly string[], cwd: string, checked: boolean): string {
  const lines = written.map((p) => `  ${relative(cwd, p) || "."}`);
  return `synth: wrote\n${lines.join("\n")}\n${checked ? "synth: every tenant object validates strictly against its CRD\n" : ""}`;
}

/** A message for the user: domain errors by their message, programming errors with their stack. */
function describeError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof OutputValidationError || error instanceof PackagesError || error instanceof PlacementError) return error.message;
  if (error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError) return String(error.stack);
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The whole command; returns the exit code: usage mistakes 2 (src/cli/command.ts), anything
 * else that stops it 1 with nothing written. The config never holds secrets, so messages are
 * safe to print.
 */
export function runSynth(args: readonly string[], io: CliIo): Promise<number> {
  // synth has always set its usage one blank line below the message.
  return runCommand("synth", `\n${usage}`, { write: io.stderr }, async () => {
    const command = withUsage(() => parseSynthArgs(args, io.cwd));
    if (command.kind === "help") {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (command.kind === "print-default-config") {
      io.stdout(printConfig());
      return 0;
    }
    return synthCommand(command, io);
  });
}

/** Loads the config, checks placement with --check, writes everything or nothing. */
async function synthCommand(command: Extract<SynthCommand, { kind: "synth" }>, io: CliIo): Promise<number> {
  try {
    const config = await loadConfig(command.configFile === undefined ? {} : { file: command.configFile });
    if (command.check) {
      // loaded on use: a synth without --check does not pay for the Proxmox client
      const { placementPreflight } = await import("./synth-placement.js");
      const placement = await placementPreflight(config, io.env ?? {});
      if (placement.ran && !placement.ok) throw new PlacementError(placement.text);
      io.stdout(placement.ran ? `synth: placement: ${placement.text}\n` : `synth: placement not checked (${placement.why})\n`);
    }
    const written = await synth(config, command);
    io.stdout(summary(written, io.cwd, command.check));
    const missing = upstreamChartStatus().filter((c) => !c.vendored);
    if (missing.length > 0) {
      // The overlay still names them as dependencies; CozyStack's build needs them present.
      io.stderr(`synth: not vendored yet (run \`npm run vendor\` on a machine with internet): ${missing.map((c) => c.chart).join(", ")}\n`);
    }
    return 0;
  } catch (error) {
    io.stderr(`synth: nothing written: ${describeError(error)}\n`);
    return 1;
  }
}
