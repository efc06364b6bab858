import { describe, expect, it } from "vitest";
import { backoffDelay, defaultRetryPolicy, ProxmoxApiError, resolveRetryPolicy, retryDecision, type HttpMethod, type ProxmoxApiErrorProps } from "../../../proxmox/index.js";

const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: false };

describe("backoffDelay", () => {
  it("grows exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("with jitter stays between half and all of the step", () => {
    const jittered = { ...policy, jitter: true };
    expect(backoffDelay(3, jittered, () => 0)).toBe(200);
    expect(backoffDelay(3, jittered, () => 0.999999)).toBe(400);
    expect(backoffDelay(3, jittered, () => 0.5)).toBe(300);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(4, jittered);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
});

describe("resolveRetryPolicy", () => {
  it("merges overrides and false means one attempt", () => {
    expect(resolveRetryPolicy(defaultRetryPolicy, { maxAttempts: 2 }).maxAttempts).toBe(2);
    expect(resolveRetryPolicy(defaultRetryPolicy, false).maxAttempts).toBe(1);
  });

  it("names the bad field and value", () => {
    expect(() => resolveRetryPolicy(defaultRetryPolicy, { maxAttempts: 0 })).toThrow("retry.maxAttempts: must be an integer >= 1, got 0");
    expect(() => resolveRetryPolicy(defaultRetryPolicy, { baseDelayMs: 10, maxDelayMs: 5 })).toThrow("retry.maxDelayMs");
  });
});

function err(props: Partial<ProxmoxApiErrorProps> & Pick<ProxmoxApiErrorProps, "kind">): ProxmoxApiError {
  return new ProxmoxApiError({ method: "GET", path: "/x", ...props });
}

describe("retryDecision", () => {
  const cases: [string, HttpMethod, ProxmoxApiError, boolean][] = [
    ["GET reset", "GET", err({ kind: "network", code: "ECONNRESET" }), true],
    ["GET timeout", "GET", err({ kind: "timeout" }), true],
    ["GET 503", "GET", err({ kind: "server", status: 503 }), true],
    ["GET 595", "GET", err({ kind: "proxy", status: 595 }), true],
    ["GET 596", "GET", err({ kind: "proxy", status: 596 }), true],
    ["GET locked", "GET", err({ kind: "locked", status: 500 }), true],
    ["GET 500 business", "GET", err({ kind: "business", status: 500 }), false],
    ["GET 500 not found", "GET", err({ kind: "not-found", status: 500 }), false],
    ["GET 400", "GET", err({ kind: "parameter", status: 400 }), false],
    ["GET 401", "GET", err({ kind: "auth", status: 401 }), false],
    ["GET 403", "GET", err({ kind: "permission", status: 403 }), false],
    ["GET 501", "GET", err({ kind: "not-implemented", status: 501 }), false],
    ["GET tls", "GET", err({ kind: "tls", requestSent: false }), false],
    ["GET aborted", "GET", err({ kind: "aborted", requestSent: false }), false],
    ["POST refused (never connected)", "POST", err({ kind: "network", code: "ECONNREFUSED", requestSent: false }), true],
    ["POST reset after sending", "POST", err({ kind: "network", code: "ECONNRESET", requestSent: true }), false],
    ["POST timeout after sending", "POST", err({ kind: "timeout", requestSent: true }), false],
    ["POST 503", "POST", err({ kind: "server", status: 503 }), false],
    ["POST 596", "POST", err({ kind: "proxy", status: 596 }), false],
    ["POST 595 (target node not reached)", "POST", err({ kind: "proxy", status: 595 }), true],
    ["POST VM is locked", "POST", err({ kind: "locked", status: 500 }), true],
    ["PUT lock timeout", "PUT", err({ kind: "locked", status: 500 }), true],
    ["DELETE reset", "DELETE", err({ kind: "network", code: "ECONNRESET" }), false],
    ["PUT 500 business", "PUT", err({ kind: "business", status: 500 }), false],
  ];
  it.each(cases)("%s → retry %s", (_name, method, error, retry) => {
    expect(retryDecision(method, error).retry).toBe(retry);
  });

  it("does not retry errors that are not API errors", () => {
    expect(retryDecision("GET", new Error("bug")).retry).toBe(false);
  });
});
