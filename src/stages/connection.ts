/**
 * Connection settings: the platform config's `proxmox` section, each field overridable by
 * capmox's variables (`PROXMOX_URL`, `PROXMOX_TOKEN`, `PROXMOX_SECRET`, `PROXMOX_CA_FILE`,
 * `PROXMOX_FINGERPRINT`, `PROXMOX_INSECURE`). Pure: the CLI passes the environment and a
 * file reader. Errors name the variable or config field and never show a secret.
 */
import { secretTextProblem, type PlatformConfig, type TlsConfig } from "../config/index.js";
import { normalizeBaseUrl, parseEnvBoolean, type EnvMap, type TlsOptions } from "../proxmox/index.js";
import { stripApiPath } from "./stage1/url.js";

export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface Connection {
  /** The URL as configured (judged by the URL check; may carry the /api2/json trap). */
  readonly configuredUrl: string;
  /** The base URL the client uses (any /api2/json suffix removed). */
  readonly url: string;
  readonly tokenId: string;
  readonly secret: string;
  readonly tls: TlsOptions;
  /** The config with url, token id and tls replaced by the effective values. */
  readonly config: PlatformConfig;
  /** Which variables overrode the config (for the run header). */
  readonly overrides: readonly string[];
}

const set = (env: EnvMap, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function effectiveTls(config: TlsConfig, env: EnvMap, overrides: string[]): TlsOptions {
  const caFile = set(env, "PROXMOX_CA_FILE");
  const fingerprint = set(env, "PROXMOX_FINGERPRINT");
  const insecureRaw = env.PROXMOX_INSECURE?.trim() ? env.PROXMOX_INSECURE : undefined;
  const insecure = insecureRaw === undefined ? undefined : parseEnvBoolean("PROXMOX_INSECURE", insecureRaw);
  const chosen = [caFile && "PROXMOX_CA_FILE", fingerprint && "PROXMOX_FINGERPRINT", insecure && "PROXMOX_INSECURE=true"].filter(Boolean);
  if (chosen.length > 1) throw new ConnectionError(chosen.join(", "), "set only one way to trust the server");
  if (caFile) {
    overrides.push("PROXMOX_CA_FILE");
    return { caFile };
  }
  if (fingerprint) {
    overrides.push("PROXMOX_FINGERPRINT");
    return { fingerprint };
  }
  if (insecure === true) {
    overrides.push("PROXMOX_INSECURE");
    return { insecure: true };
  }
  if (insecure === false) overrides.push("PROXMOX_INSECURE");
  // PROXMOX_INSECURE=false keeps the config's CA file or fingerprint, but never its insecure flag.
  if (config.fingerprint) return { fingerprint: config.fingerprint };
  if (config.caFile) return { caFile: config.caFile };
  return insecure === false || !config.insecure ? {} : { insecure: true };
}

function tlsConfigOf(tls: TlsOptions): TlsConfig {
  return {
    insecure: tls.insecure === true,
    ...(tls.caFile ? { caFile: tls.caFile } : {}),
    ...(tls.fingerprint ? { fingerprint: tls.fingerprint } : {}),
  };
}

/**
 * The effective connection. The secret comes from `PROXMOX_SECRET`, else the variable named
 * by `proxmox.secret.env`, else the file named by `proxmox.secret.file` (trimmed).
 */
export function resolveConnection(
  config: PlatformConfig,
  env: EnvMap,
  readFile: (path: string) => string,
): Connection {
  const overrides: string[] = [];
  const url = set(env, "PROXMOX_URL");
  const tokenId = set(env, "PROXMOX_TOKEN");
  if (url) overrides.push("PROXMOX_URL");
  if (tokenId) overrides.push("PROXMOX_TOKEN");
  const configuredUrl = url ?? config.proxmox.url;
  const urlField = url ? "PROXMOX_URL" : "proxmox.url";
  // A trailing /api2/json is stage 1's to report (check api.url, with the fix); anything else wrong fails here.
  const base = stripApiPath(configuredUrl);
  try {
    normalizeBaseUrl(base, urlField);
  } catch (error) {
    throw new ConnectionError(urlField, (error as Error).message.replace(/^[^:]+: /, ""));
  }

  const secretSource = config.proxmox.secret;
  const envName = secretSource.env ?? "PROXMOX_SECRET";
  const secretVariable = [...new Set(["PROXMOX_SECRET", envName])].find((name) => set(env, name));
  if (secretVariable === "PROXMOX_SECRET") overrides.push("PROXMOX_SECRET");
  let secret = secretVariable === undefined ? undefined : set(env, secretVariable);
  if (!secret && secretSource.file) {
    try {
      secret = readFile(secretSource.file).trim() || undefined;
    } catch (error) {
      throw new ConnectionError("proxmox.secret.file", `cannot read '${secretSource.file}': ${(error as Error).message}`);
    }
    if (!secret) throw new ConnectionError("proxmox.secret.file", `'${secretSource.file}' is empty`);
  }
  if (!secret) {
    throw new ConnectionError(
      "proxmox.secret",
      `no API token secret: set PROXMOX_SECRET${envName !== "PROXMOX_SECRET" ? ` or ${envName}` : ""}${secretSource.file ? "" : ", or proxmox.secret.file in the config"}`,
    );
  }
  // refused here, naming where it came from: sent as a header, it would fail as "Invalid character in header content"
  const problem = secretTextProblem(secret);
  if (problem) throw new ConnectionError(secretVariable ?? "proxmox.secret.file", problem.replace(/^gives/, "holds"));
  const tls = effectiveTls(config.proxmox.tls, env, overrides);
  const effectiveToken = tokenId ?? config.proxmox.tokenId;
  return {
    configuredUrl,
    url: base,
    tokenId: effectiveToken,
    secret,
    tls,
    config: { ...config, proxmox: { ...config.proxmox, url: base, tokenId: effectiveToken, tls: tlsConfigOf(tls) } },
    overrides,
  };
}
