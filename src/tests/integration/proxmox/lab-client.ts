/**
 * Test wiring: a lab on loopback and clients for it. Not a test file.
 */
import { inspect } from "node:util";
import { expect } from "vitest";
import { startLab, type LabHandle, type StartLabOptions } from "../../../lab/index.js";
import { createProxmoxClient, type HttpProxmoxApi, type ProxmoxClientOptions, type ProxmoxLogEvent } from "../../../proxmox/index.js";

/** Retries fast enough for tests, still exponential. */
export const fastRetry = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 40, factor: 2, jitter: true } as const;

export interface LabClients {
  readonly lab: LabHandle;
  /** Log events of every client made through `client()`. */
  readonly events: ProxmoxLogEvent[];
  /** Every secret in play (for redaction checks). */
  readonly secrets: string[];
  /** A client for the admin token (or `token`), trusting the lab's certificate by its PEM. */
  client(overrides?: Partial<ProxmoxClientOptions>, token?: "admin" | "readonly"): HttpProxmoxApi;
  stop(): Promise<void>;
}

export async function startLabClients(options: StartLabOptions = {}): Promise<LabClients> {
  const lab = await startLab(options);
  const events: ProxmoxLogEvent[] = [];
  const made: HttpProxmoxApi[] = [];
  return {
    lab,
    events,
    secrets: [lab.tokens.admin.secret, lab.tokens.readonly.secret],
    client(overrides = {}, token = "admin") {
      const t = lab.tokens[token];
      const c = createProxmoxClient({
        url: lab.url,
        tokenId: t.id,
        secret: t.secret,
        ...(lab.caPem ? { tls: { caPem: lab.caPem } } : {}),
        retry: fastRetry,
        timeoutMs: 10_000,
        logger: (e) => events.push(e),
        ...overrides,
      });
      made.push(c);
      return c;
    },
    async stop() {
      for (const c of made) c.close();
      await lab.stop();
    },
  };
}

/** Runs `fn`, expecting it to reject; returns the error. */
export async function failure<E = Error>(fn: () => Promise<unknown>): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return error as E;
  }
  throw new Error("expected a rejection");
}

/** Asserts that no secret shows in the inspected or serialised values. */
export function expectNoSecret(secrets: readonly string[], ...values: unknown[]): void {
  for (const value of values) {
    const shown = [inspect(value, { depth: 10, showHidden: true }), safeJson(value), String(value)].join("\n");
    for (const s of secrets) expect(shown).not.toContain(s);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}
