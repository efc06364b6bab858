/**
 * Which failed calls are repeated, and how long to wait in between.
 *
 * Reads (GET) are repeated on transient failures. Writes are not idempotent (a repeated
 * clone creates a second VM, a repeated `resize +10G` grows twice), so a write is repeated
 * only when PVE provably did nothing: the connection was never made, the proxy could not
 * reach the target node (595), or PVE refused up front because of a lock.
 */
import { setTimeout as sleepTimer } from "node:timers/promises";
import type { HttpMethod, RetryPolicy } from "./api.js";
import { ProxmoxApiError } from "./errors.js";

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  factor: 2,
  jitter: true,
});

/** Merges overrides into a policy, checking every number. */
export function resolveRetryPolicy(base: RetryPolicy, override?: Partial<RetryPolicy> | false, field = "retry"): RetryPolicy {
  if (override === false) return { ...base, maxAttempts: 1 };
  const policy = { ...base, ...override };
  const check = (key: keyof RetryPolicy, ok: boolean, rule: string): void => {
    if (!ok) throw new RangeError(`${field}.${key}: ${rule}, got ${String(policy[key])}`);
  };
  check("maxAttempts", Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 1, "must be an integer >= 1");
  check("baseDelayMs", Number.isFinite(policy.baseDelayMs) && policy.baseDelayMs >= 0, "must be a number >= 0");
  check("maxDelayMs", Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= policy.baseDelayMs, "must be >= baseDelayMs");
  check("factor", Number.isFinite(policy.factor) && policy.factor >= 1, "must be a number >= 1");
  return policy;
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential, capped, and with
 * "equal jitter" (between half and all of the step) so parallel clients spread out.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, retry - 1));
  if (!policy.jitter) return Math.round(step);
  return Math.round(step / 2 + random() * (step / 2));
}

/** Server statuses worth another try for a read. */
const transientStatuses = new Set([408, 429, 502, 503, 504, 595, 596, 597, 599]);

export interface RetryDecision {
  readonly retry: boolean;
  /** Why (for logs): `locked`, `not sent`, `proxy 595`, `network ECONNRESET`, … */
  readonly reason: string;
}

/** Whether a failed call may be repeated. */
export function retryDecision(method: HttpMethod, error: unknown): RetryDecision {
  if (!(error instanceof ProxmoxApiError)) return { retry: false, reason: "not a Proxmox API error" };
  if (error.kind === "aborted") return { retry: false, reason: "aborted" };
  if (error.kind === "tls") return { retry: false, reason: "TLS verification failed" };
  // PVE checks locks before it changes anything: safe for writes too.
  if (error.kind === "locked") return { retry: true, reason: `locked: ${error.reason ?? ""}`.trim() };
  if (error.requestSent === false) return { retry: true, reason: `not sent (${error.code ?? error.kind})` };
  if (method === "GET") {
    if (error.kind === "network" || error.kind === "timeout") return { retry: true, reason: `${error.kind} ${error.code ?? ""}`.trim() };
    if (error.status !== undefined && transientStatuses.has(error.status)) return { retry: true, reason: `status ${error.status}` };
    return { retry: false, reason: `${error.kind} is not transient` };
  }
  // 595: pveproxy could not connect to the target node, so the write never arrived there.
  if (error.status === 595) return { retry: true, reason: "status 595 (target node not reached)" };
  return { retry: false, reason: `${method} is not idempotent and may have reached the server` };
}

/** Sleeps, or rejects with the abort reason as soon as `signal` fires. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, signal ? { signal } : undefined);
}
