/**
 * Client options, their validation, and `clientOptionsFromEnv` (capmox's variable names).
 * Errors name the field (or variable) and the value, never the secret's value.
 */
import type { HttpMethod, RetryPolicy } from "./api.js";
import { parseTokenId, Secret } from "./auth.js";
import { ProxmoxConfigError } from "./errors.js";
import { normalizeFingerprint, type TlsOptions } from "./tls.js";

/** What the client reports to a logger. Never carries the secret or parameter values. */
export type ProxmoxLogEvent =
  | { readonly type: "request"; readonly method: HttpMethod; readonly path: string; readonly attempt: number }
  | {
      readonly type: "response";
      readonly method: HttpMethod;
      readonly path: string;
      readonly attempt: number;
      readonly status: number;
      readonly durationMs: number;
    }
  | {
      readonly type: "retry";
      readonly method: HttpMethod;
      readonly path: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
    }
  | {
      readonly type: "failure";
      readonly method: HttpMethod;
      readonly path: string;
      readonly attempts: number;
      readonly kind: string;
      readonly message: string;
    };

export type ProxmoxLogger = (event: ProxmoxLogEvent) => void;

export interface ProxmoxClientOptions {
  /** Base URL, e.g. `https://pve.example.com:8006`, without `/api2/json`. */
  readonly url: string;
  /** API token id `user@realm!tokenname`. */
  readonly tokenId: string;
  /** API token secret (a UUID). Kept private; never logged or shown. A `Secret` also hides it in these options. */
  readonly secret: string | Secret;
  /** How the server certificate is trusted. @default verify with the system CAs */
  readonly tls?: TlsOptions;
  /** Time limit per attempt. @default 30000 */
  readonly timeoutMs?: number;
  /** Retry policy overrides. @default defaultRetryPolicy */
  readonly retry?: Partial<RetryPolicy>;
  /** Receives request/response/retry/failure events. */
  readonly logger?: ProxmoxLogger;
  /** @default "cozy-proxmox" */
  readonly userAgent?: string;
  /** Parallel keep-alive connections for reads. @default 8 */
  readonly maxSockets?: number;
  /** Random source for retry jitter (tests). @default Math.random */
  readonly random?: () => number;
}

/**
 * Checks a base URL and returns it without a trailing slash. Refuses `/api2/json`: capmox and
 * this client add it themselves, and a doubled prefix ends in confusing 501s.
 */
export function normalizeBaseUrl(value: string, field = "url"): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProxmoxConfigError(field, `'${value}' is not a URL (expected e.g. https://pve.example.com:8006)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ProxmoxConfigError(field, `'${value}' must start with https:// (or http:// for a plain-HTTP lab)`);
  }
  if (/\/api2\/json\/?$/.test(url.pathname)) {
    const base = `${url.origin}${url.pathname.replace(/\/api2\/json\/?$/, "")}`;
    throw new ProxmoxConfigError(field, `'${value}' ends with /api2/json; give the base URL '${base}' (the client adds /api2/json)`);
  }
  if (url.username || url.password) throw new ProxmoxConfigError(field, `'${url.origin}' must not carry credentials; use a token`);
  if (url.search || url.hash) throw new ProxmoxConfigError(field, `'${value}' must not have a query or fragment`);
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/** `url` as a string without trailing slash. */
export function baseUrlString(url: URL): string {
  return `${url.origin}${url.pathname === "/" ? "" : url.pathname}`;
}

/** Environment variables, as a plain map (src/cli passes process.env). */
export type EnvMap = Readonly<Record<string, string | undefined>>;

const truthy = new Set(["1", "true", "yes", "y", "on"]);
const falsy = new Set(["", "0", "false", "no", "n", "off"]);

/** Parses a boolean variable; throws naming the variable and its value otherwise. */
export function parseEnvBoolean(name: string, value: string | undefined): boolean {
  const v = (value ?? "").trim().toLowerCase();
  if (truthy.has(v)) return true;
  if (falsy.has(v)) return false;
  throw new ProxmoxConfigError(name, `'${value}' is not a boolean (use true/false, 1/0, yes/no)`);
}

/**
 * Client options from capmox's variables: `PROXMOX_URL` (no /api2/json), `PROXMOX_TOKEN`
 * (`user@realm!id`), `PROXMOX_SECRET`, and for TLS `PROXMOX_CA_FILE`, `PROXMOX_FINGERPRINT`
 * or `PROXMOX_INSECURE`. Unlike capmox (insecure unless told), TLS is verified by default.
 */
export function clientOptionsFromEnv(env: EnvMap, extra: Omit<Partial<ProxmoxClientOptions>, "url" | "tokenId" | "secret" | "tls"> = {}): ProxmoxClientOptions {
  const missing = ["PROXMOX_URL", "PROXMOX_TOKEN", "PROXMOX_SECRET"].filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    throw new ProxmoxConfigError(missing.join(", "), `not set (need PROXMOX_URL=https://<host>:8006, PROXMOX_TOKEN=user@realm!id, PROXMOX_SECRET=<token secret>)`);
  }
  const url = env.PROXMOX_URL!.trim();
  const tokenId = env.PROXMOX_TOKEN!.trim();
  normalizeBaseUrl(url, "PROXMOX_URL");
  parseTokenId(tokenId, "PROXMOX_TOKEN");
  const caFile = env.PROXMOX_CA_FILE?.trim() || undefined;
  const fingerprintRaw = env.PROXMOX_FINGERPRINT?.trim() || undefined;
  const fingerprint = fingerprintRaw === undefined ? undefined : normalizeFingerprint(fingerprintRaw, "PROXMOX_FINGERPRINT");
  const insecure = parseEnvBoolean("PROXMOX_INSECURE", env.PROXMOX_INSECURE);
  const chosen = [caFile && "PROXMOX_CA_FILE", fingerprint && "PROXMOX_FINGERPRINT", insecure && "PROXMOX_INSECURE"].filter(Boolean);
  if (chosen.length > 1) throw new ProxmoxConfigError(chosen.join(", "), "set only one way to trust the server");
  const tls: TlsOptions = insecure ? { insecure: true } : fingerprint ? { fingerprint } : caFile ? { caFile } : {};
  return { ...extra, url, tokenId, secret: new Secret(env.PROXMOX_SECRET!.trim()), tls };
}
