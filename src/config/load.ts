/**
 * Loading platform.yaml: YAML → shape check → defaults → cross-field checks. Every problem
 * is collected before anything is thrown, so the user sees them all at once. The environment
 * is a parameter: only the CLI reads process.env.
 */
import { open } from "node:fs/promises";
import { defaultConfig } from "./defaults.js";
import { ConfigError, issue } from "./errors.js";
import { limits } from "./limits.js";
import { normalize } from "./normalize.js";
import { checkCredentials, type Env } from "./secret.js";
import { checkShape } from "./shape.js";
import type { ConfigIssue, PlatformConfig } from "./types.js";
import { validateConfig } from "./validate.js";
import { readYaml, sizeIssue } from "./yaml.js";

export interface LoadConfigOptions {
  /** platform.yaml to read. @default the built-in default config */
  readonly file?: string;
  /** Environment the token secret is read from (only used with `requireCredentials`). @default {} */
  readonly env?: Env;
  /**
   * Also check that the token secret and the CA file can be read: for commands that talk to
   * Proxmox, not for `synth`, which never needs the secret. @default false
   */
  readonly requireCredentials?: boolean;
}

function parseYaml(text: string): { raw: unknown; issues: ConfigIssue[] } {
  const { raw, issues } = readYaml(text);
  if (issues.length > 0) return { raw: undefined, issues };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { raw, issues: [issue([], raw, "must be a YAML mapping with proxmox, network, cozystack and tenants")] };
  }
  return { raw, issues: [] };
}

/** The file's text, refusing one over the size limit before reading it all. */
async function readLimited(file: string): Promise<string> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const tooBig = sizeIssue(size);
    if (tooBig) throw new ConfigError(file, [tooBig]);
    // read one byte past the limit: a file that grew (or a pipe) is caught too
    const buffer = Buffer.alloc(limits.maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw new ConfigError(file, [sizeIssue(length)!]);
    }
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** A defaulted config and every problem found, without throwing. */
export function checkConfigText(text: string): { config?: PlatformConfig; issues: ConfigIssue[] } {
  const parsed = parseYaml(text);
  if (parsed.issues.length > 0) return { issues: parsed.issues };
  const shape = checkShape(parsed.raw);
  const { config, issues: choices } = normalize(parsed.raw);
  // a conflict reported with its reason replaces the bare shape error at the same path
  const explained = new Set(choices.map((i) => i.path));
  const kept = shape.filter((i) => !explained.has(i.path));
  return { config, issues: [...kept, ...choices, ...validateConfig(config)] };
}

/** Parses and checks platform.yaml text; throws ConfigError listing every problem. */
export function parseConfig(text: string, source = "platform.yaml"): PlatformConfig {
  const { config, issues } = checkConfigText(text);
  if (issues.length > 0 || !config) throw new ConfigError(source, issues);
  return config;
}

/** Loads the config file (or the built-in default) and checks it; throws ConfigError. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<PlatformConfig> {
  const source = options.file ?? "built-in default config";
  let config: PlatformConfig;
  if (options.file === undefined) {
    config = defaultConfig();
  } else {
    let text: string;
    try {
      text = await readLimited(options.file);
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      throw new ConfigError(source, [issue([], options.file, `cannot read the config file: ${(cause as Error).message}`)], { cause });
    }
    config = parseConfig(text, source);
  }
  if (options.requireCredentials) {
    const issues = await checkCredentials(config.proxmox, options.env ?? {});
    if (issues.length > 0) throw new ConfigError(source, issues);
  }
  return config;
}
