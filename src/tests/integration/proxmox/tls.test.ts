/**
 * TLS modes against the lab's self-signed certificate over real HTTPS, and plain HTTP.
 * A rejected certificate must stop the call before any request (and its Authorization
 * header) reaches the server: a counting fault rule proves that.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientOptionsFromEnv, createProxmoxClient, ProxmoxApiError, type ProxmoxClientOptions } from "../../../proxmox/index.js";
import { expectNoSecret, failure, startLabClients, type LabClients } from "./lab-client.js";

let env: LabClients;
const tmp = mkdtempSync(join(tmpdir(), "proxmox-tls-"));

beforeAll(async () => {
  env = await startLabClients();
});

afterAll(async () => {
  await env?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Requests that reached the lab's HTTP layer since `watch()` (a counting fault rule sees each). */
function watch(): () => number {
  const id = env.lab.faults.add({ match: "*", latencyMs: 0, count: 1_000_000 });
  return () => 1_000_000 - (env.lab.faults.list().find((r) => r.id === id)?.remaining ?? 1_000_000);
}

function client(tls: ProxmoxClientOptions["tls"]) {
  return env.client({ tls });
}

function expectGuidance(e: ProxmoxApiError): void {
  expect(e.kind).toBe("tls");
  expect(e.requestSent).toBe(false);
  expect(e.attempts).toBe(1);
  expect(e.message).toContain("(1) a CA file: tls.caFile / PROXMOX_CA_FILE");
  expect(e.message).toContain("(2) a fingerprint pin: tls.fingerprint / PROXMOX_FINGERPRINT");
  expect(e.message).toContain("(3) no verification, explicitly: tls.insecure / PROXMOX_INSECURE=true");
}

describe("TLS", () => {
  it("trusts the lab's certificate as a CA, given as PEM or as a file", async () => {
    expect((await client({ caPem: env.lab.caPem! }).version()).version).toBeTruthy();
    const caFile = join(tmp, "lab-ca.pem");
    writeFileSync(caFile, env.lab.caPem!);
    expect((await client({ caFile }).nodes()).length).toBe(3);
  });

  it("accepts a matching fingerprint pin, in any notation", async () => {
    const fp = env.lab.fingerprint!;
    expect((await client({ fingerprint: fp }).version()).version).toBeTruthy();
    expect((await client({ fingerprint: fp.replace(/:/g, "").toLowerCase() }).version()).version).toBeTruthy();
  });

  it("refuses a wrong fingerprint before sending anything, and says what to do", async () => {
    const count = watch();
    const wrong = "AA:".repeat(31) + "AA";
    const e = await failure<ProxmoxApiError>(() => client({ fingerprint: wrong }).version());
    expectGuidance(e);
    expect(e.code).toBe("ERR_PROXMOX_FINGERPRINT_MISMATCH");
    expect(e.message).toContain(`does not match the pinned ${wrong}`);
    expect(e.message).toContain(`the server presented ${env.lab.fingerprint}`);
    expect(count()).toBe(0);
    expectNoSecret(env.secrets, e);
  });

  it("verifies by default: the self-signed certificate fails with guidance and no request", async () => {
    const count = watch();
    const plain = createProxmoxClient({ url: env.lab.url, tokenId: env.lab.tokens.admin.id, secret: env.lab.tokens.admin.secret });
    const e = await failure<ProxmoxApiError>(() => plain.version());
    expectGuidance(e);
    expect(e.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    expect(e.message).toContain("certificate not trusted by the system's CAs");
    expect(count()).toBe(0);
    plain.close();
  });

  it("so does clientOptionsFromEnv without TLS variables", async () => {
    const options = clientOptionsFromEnv({ PROXMOX_URL: env.lab.url, PROXMOX_TOKEN: env.lab.tokens.admin.id, PROXMOX_SECRET: env.lab.tokens.admin.secret });
    const c = createProxmoxClient(options);
    expectGuidance(await failure<ProxmoxApiError>(() => c.version()));
    c.close();
    const insecure = createProxmoxClient(
      clientOptionsFromEnv({ PROXMOX_URL: env.lab.url, PROXMOX_TOKEN: env.lab.tokens.admin.id, PROXMOX_SECRET: env.lab.tokens.admin.secret, PROXMOX_INSECURE: "true" }),
    );
    expect((await insecure.version()).version).toBeTruthy();
    insecure.close();
  });

  it("a CA that did not sign the certificate is refused", async () => {
    const other = await startLabClients();
    try {
      const count = watch();
      const e = await failure<ProxmoxApiError>(() => client({ caPem: other.lab.caPem! }).version());
      expectGuidance(e);
      expect(e.message).toContain("certificate not trusted by the CA from caPem");
      expect(count()).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it("insecure mode connects without verification", async () => {
    expect((await client({ insecure: true }).version()).version).toBeTruthy();
  });

  it("plain HTTP labs work without TLS options", async () => {
    const http = await startLabClients({ http: true });
    try {
      expect(http.lab.url.startsWith("http://127.0.0.1:")).toBe(true);
      expect((await http.client().version()).version).toBeTruthy();
    } finally {
      await http.stop();
    }
  });

  it("an https URL pointing at a plain-HTTP server is a TLS error, not a hang", async () => {
    const http = await startLabClients({ http: true });
    try {
      const wrongScheme = createProxmoxClient({
        url: http.lab.url.replace("http:", "https:"),
        tokenId: http.lab.tokens.admin.id,
        secret: http.lab.tokens.admin.secret,
        tls: { insecure: true },
      });
      const e = await failure<ProxmoxApiError>(() => wrongScheme.version());
      wrongScheme.close();
      expect(e.kind).toBe("tls");
      expect(e.code).toMatch(/^ERR_SSL_/);
    } finally {
      await http.stop();
    }
  });
});
