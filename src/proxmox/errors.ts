/**
 * Errors of the Proxmox client. Every failure of a call is a `ProxmoxApiError` whose `kind`
 * says what went wrong; HTTP failures keep PVE's status, reason line, message and
 * per-parameter `errors`; transport failures keep the system error as `cause`.
 */
import type { HttpMethod } from "./api.js";

export type ProxmoxErrorKind =
  /** 400 `Parameter verification failed.` (see `errors`) */
  | "parameter"
  /** 401: unknown token, wrong secret, disabled user */
  | "auth"
  /** 403 `Permission check failed (<path>, <priv>)` */
  | "permission"
  /** 500 `Configuration file … does not exist` and friends */
  | "not-found"
  /** 501 `Method '…' not implemented`: no such API path */
  | "not-implemented"
  /** 500 `VM is locked (…)` / `can't lock file … got timeout`: retry later */
  | "locked"
  /** any other 500: PVE refused the operation */
  | "business"
  /** 595–599: the node the call was proxied to is unreachable (offline) */
  | "proxy"
  /** 502/503/504 and other server failures */
  | "server"
  /** another HTTP status */
  | "http"
  /** the server's certificate did not pass verification */
  | "tls"
  /** connection refused, reset, DNS failure, … */
  | "network"
  /** no answer within the time limit */
  | "timeout"
  /** cancelled through an AbortSignal */
  | "aborted"
  /** the answer was not PVE's JSON envelope */
  | "protocol"
  /** a task ended with an error (see `ProxmoxTaskError`) */
  | "task";

export interface ProxmoxApiErrorProps {
  readonly kind: ProxmoxErrorKind;
  readonly method?: HttpMethod;
  /** API path relative to `/api2/json`, without query string. */
  readonly path?: string;
  readonly status?: number;
  /** PVE's reason line (the HTTP status text). */
  readonly reason?: string;
  /** PVE's full `message` from the body, trailing newline removed. */
  readonly pveMessage?: string;
  /** Per-parameter errors of a 400. */
  readonly errors?: Readonly<Record<string, string>>;
  /** System error code (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …). */
  readonly code?: string;
  /**
   * False when the request provably never reached the server (no connection was made),
   * which makes even a non-idempotent write safe to repeat.
   */
  readonly requestSent?: boolean;
  /** Attempts made, retries included. */
  readonly attempts?: number;
  /** Extra text appended to the message (guidance). */
  readonly hint?: string;
  readonly cause?: unknown;
}

const errorBrand = Symbol.for("cozy-proxmox.ProxmoxApiError");

export class ProxmoxApiError extends Error {
  override readonly name: string = "ProxmoxApiError";
  readonly kind: ProxmoxErrorKind;
  readonly method?: HttpMethod;
  readonly path?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly pveMessage?: string;
  readonly errors?: Readonly<Record<string, string>>;
  readonly code?: string;
  readonly requestSent: boolean;
  attempts: number;

  constructor(props: ProxmoxApiErrorProps) {
    super(formatMessage(props), props.cause === undefined ? undefined : { cause: props.cause });
    this.kind = props.kind;
    this.method = props.method;
    this.path = props.path;
    this.status = props.status;
    this.reason = props.reason;
    this.pveMessage = props.pveMessage;
    this.errors = props.errors;
    this.code = props.code;
    this.requestSent = props.requestSent ?? true;
    this.attempts = props.attempts ?? 1;
  }

  /** Works across duplicate copies of this module (brand check, not prototype identity). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep ordinary prototype checks, else every API error would be a task error.
    if (this !== ProxmoxApiError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[errorBrand] === true;
  }

  /** Records how many attempts the call took (the client calls this once, before throwing). */
  markAttempts(attempts: number): this {
    this.attempts = attempts;
    if (attempts > 1) this.message = `${this.message} (after ${attempts} attempts)`;
    return this;
  }
}
Object.defineProperty(ProxmoxApiError.prototype, errorBrand, { value: true });

export interface ProxmoxTaskErrorProps {
  readonly upid: string;
  readonly node: string;
  readonly taskType: string;
  readonly exitstatus: string;
  readonly logTail: readonly string[];
}

/** A task that stopped with an error status; carries the tail of its log. */
export class ProxmoxTaskError extends ProxmoxApiError {
  override readonly name: string = "ProxmoxTaskError";
  readonly upid: string;
  readonly node: string;
  readonly taskType: string;
  readonly exitstatus: string;
  readonly logTail: readonly string[];

  constructor(props: ProxmoxTaskErrorProps) {
    const tail = props.logTail.length > 0 ? `\n--- task log (last ${props.logTail.length} lines) ---\n${props.logTail.join("\n")}` : "";
    super({
      kind: "task",
      path: `/nodes/${props.node}/tasks/${props.upid}`,
      hint: `task ${props.taskType} ${props.upid} failed: ${props.exitstatus}${tail}`,
    });
    this.upid = props.upid;
    this.node = props.node;
    this.taskType = props.taskType;
    this.exitstatus = props.exitstatus;
    this.logTail = props.logTail;
  }
}

/** Bad client options (URL, token id, TLS settings): names the field and the value. */
export class ProxmoxConfigError extends Error {
  override readonly name = "ProxmoxConfigError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

function formatMessage(p: ProxmoxApiErrorProps): string {
  const where = p.method && p.path ? `${p.method} ${p.path}` : (p.path ?? "");
  const parts: string[] = [];
  if (p.status !== undefined) parts.push(`${p.status} ${p.reason ?? ""}`.trim());
  else if (p.code) parts.push(p.code);
  if (p.pveMessage && p.pveMessage.split("\n")[0] !== p.reason) parts.push(p.pveMessage);
  if (p.errors && Object.keys(p.errors).length > 0) {
    parts.push(
      Object.entries(p.errors)
        .map(([k, v]) => `${k}: ${v.trim()}`)
        .join("; "),
    );
  }
  if (p.hint) parts.push(p.hint);
  const detail = parts.join(" - ");
  if (!where) return detail;
  return detail ? `${where}: ${detail}` : where;
}

const lockedPattern = /(?:VM|CT) is locked\b|can't lock file .* got timeout/;
const notFoundPattern = /does not exist|unable to find configuration file|no such (?:VM|CT|storage|volume|pool|node)/i;

/** The error kind PVE means with a status and reason line. */
export function kindForStatus(status: number, text: string): ProxmoxErrorKind {
  if (status === 400) return "parameter";
  if (status === 401) return "auth";
  if (status === 403) return "permission";
  if (status === 500) {
    if (lockedPattern.test(text)) return "locked";
    if (notFoundPattern.test(text)) return "not-found";
    return "business";
  }
  if (status === 501) return "not-implemented";
  if (status >= 595 && status <= 599) return "proxy";
  if (status >= 500) return "server";
  return "http";
}

/** Extra words for errors whose fix is on the caller's side. */
function hintForStatus(kind: ProxmoxErrorKind, tokenId: string): string | undefined {
  if (kind === "auth") return `authentication failed for token '${tokenId}': check PROXMOX_TOKEN (user@realm!id) and PROXMOX_SECRET`;
  if (kind === "proxy") return "the node behind this call is unreachable (offline node?)";
  return undefined;
}

export interface ResponseErrorInput {
  readonly method: HttpMethod;
  readonly path: string;
  readonly status: number;
  readonly reason: string;
  /** Parsed JSON body, if any. */
  readonly body: unknown;
  readonly tokenId: string;
  /** Removes secrets from server-provided text before it becomes part of an error. */
  readonly scrub: (text: string) => string;
}

/** Builds the error for a non-2xx PVE response. */
export function errorFromResponse(input: ResponseErrorInput): ProxmoxApiError {
  const body = isRecord(input.body) ? input.body : {};
  const rawMessage = typeof body.message === "string" ? body.message.replace(/\n+$/, "") : undefined;
  const reason = input.scrub(input.reason || rawMessage?.split("\n")[0] || "");
  const pveMessage = rawMessage === undefined ? undefined : input.scrub(rawMessage);
  let errors: Record<string, string> | undefined;
  if (isRecord(body.errors)) {
    errors = {};
    for (const [key, value] of Object.entries(body.errors)) errors[key] = input.scrub(String(value));
  }
  const kind = kindForStatus(input.status, `${reason}\n${pveMessage ?? ""}`);
  return new ProxmoxApiError({
    kind,
    method: input.method,
    path: input.path,
    status: input.status,
    reason,
    pveMessage,
    errors,
    hint: hintForStatus(kind, input.tokenId),
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for "the VM/config does not exist" (500) errors. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ProxmoxApiError && error.kind === "not-found";
}

/** True for `VM is locked (…)` / lock timeouts. */
export function isLocked(error: unknown): boolean {
  return error instanceof ProxmoxApiError && error.kind === "locked";
}
