import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  clientOptionsFromEnv,
  createProxmoxClient,
  normalizeBaseUrl,
  normalizeFingerprint,
  ProxmoxConfigError,
  resolveTlsMode,
  Secret,
} from "../../../proxmox/index.js";

const secret = "7d3c1c0e-0000-4000-8000-00000000beef";
const fp = "80:D4:F2:DF:64:95:CD:8D:A0:82:82:AC:48:BA:C0:7A:1B:6B:87:8B:FE:B9:83:1C:95:4E:79:58:77:99:69:F5";
const tmp = mkdtempSync(join(tmpdir(), "proxmox-options-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("normalizeBaseUrl", () => {
  it("keeps the base and drops a trailing slash", () => {
    expect(normalizeBaseUrl("https://pve.example.com:8006/").href).toBe("https://pve.example.com:8006/");
    expect(normalizeBaseUrl("https://gw.example.com/pve/").pathname).toBe("/pve");
  });

  it("refuses /api2/json with the base URL to use instead", () => {
    expect(() => normalizeBaseUrl("https://pve:8006/api2/json")).toThrow(
      "url: 'https://pve:8006/api2/json' ends with /api2/json; give the base URL 'https://pve:8006' (the client adds /api2/json)",
    );
    expect(() => normalizeBaseUrl("https://pve:8006/api2/json/", "PROXMOX_URL")).toThrow(/^PROXMOX_URL: /);
  });

  it.each([
    ["pve:8006", "must start with https://"],
    ["not a url", "is not a URL"],
    ["ftp://pve", "must start with https://"],
    ["https://root:pw@pve:8006", "must not carry credentials"],
    ["https://pve:8006?x=1", "must not have a query"],
  ])("refuses %s", (value, text) => {
    expect(() => normalizeBaseUrl(value)).toThrow(ProxmoxConfigError);
    expect(() => normalizeBaseUrl(value)).toThrow(text);
  });
});

describe("TLS options", () => {
  it("defaults to verification with the system CAs", () => {
    expect(resolveTlsMode()).toEqual({ mode: "verify" });
    expect(resolveTlsMode({ insecure: false })).toEqual({ mode: "verify" });
  });

  it("normalises fingerprints with or without colons", () => {
    expect(normalizeFingerprint(fp.replace(/:/g, "").toLowerCase())).toBe(fp);
    expect(resolveTlsMode({ fingerprint: fp.toLowerCase() })).toEqual({ mode: "pin", fingerprint: fp });
    expect(() => normalizeFingerprint("AA:BB")).toThrow("tls.fingerprint: 'AA:BB' is not a SHA-256 certificate fingerprint");
  });

  it("reads a CA file and refuses unreadable or non-PEM files", () => {
    const good = join(tmp, "ca.pem");
    writeFileSync(good, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    expect(resolveTlsMode({ caFile: good })).toMatchObject({ mode: "verify", caSource: good });
    expect(() => resolveTlsMode({ caFile: join(tmp, "missing.pem") })).toThrow(`tls.caFile: cannot read CA file '${join(tmp, "missing.pem")}'`);
    const bad = join(tmp, "bad.pem");
    writeFileSync(bad, "hello");
    expect(() => resolveTlsMode({ caFile: bad })).toThrow("tls.caFile: '" + bad + "' holds no PEM certificate");
  });

  it("refuses more than one way to trust the server", () => {
    expect(() => resolveTlsMode({ fingerprint: fp, insecure: true })).toThrow("tls: choose one way to trust the server, not tls.fingerprint and tls.insecure");
  });
});

describe("clientOptionsFromEnv", () => {
  const base = { PROXMOX_URL: "https://pve.example.com:8006", PROXMOX_TOKEN: "capmox@pve!capi", PROXMOX_SECRET: secret };

  it("maps capmox's variables and verifies TLS by default", () => {
    const o = clientOptionsFromEnv(base);
    expect(o.url).toBe("https://pve.example.com:8006");
    expect(o.tokenId).toBe("capmox@pve!capi");
    expect(o.tls).toEqual({});
    expect(o.secret).toBeInstanceOf(Secret);
    expect((o.secret as Secret).reveal()).toBe(secret);
    expect(inspect(o)).not.toContain(secret);
    expect(JSON.stringify(o)).not.toContain(secret);
  });

  it("names every missing variable at once", () => {
    expect(() => clientOptionsFromEnv({ PROXMOX_TOKEN: "ci@pve!t1" })).toThrow(/^PROXMOX_URL, PROXMOX_SECRET: not set/);
  });

  it("names the variable of a bad value", () => {
    expect(() => clientOptionsFromEnv({ ...base, PROXMOX_URL: "https://pve:8006/api2/json" })).toThrow(/^PROXMOX_URL: .* ends with \/api2\/json/);
    expect(() => clientOptionsFromEnv({ ...base, PROXMOX_TOKEN: "capmox" })).toThrow(/^PROXMOX_TOKEN: 'capmox'/);
    expect(() => clientOptionsFromEnv({ ...base, PROXMOX_INSECURE: "maybe" })).toThrow("PROXMOX_INSECURE: 'maybe' is not a boolean");
    expect(() => clientOptionsFromEnv({ ...base, PROXMOX_FINGERPRINT: "zz" })).toThrow(/^PROXMOX_FINGERPRINT: 'zz'/);
  });

  it("selects exactly one TLS mode", () => {
    expect(clientOptionsFromEnv({ ...base, PROXMOX_INSECURE: "true" }).tls).toEqual({ insecure: true });
    expect(clientOptionsFromEnv({ ...base, PROXMOX_INSECURE: "0" }).tls).toEqual({});
    expect(clientOptionsFromEnv({ ...base, PROXMOX_FINGERPRINT: fp.replace(/:/g, "") }).tls).toEqual({ fingerprint: fp });
    expect(clientOptionsFromEnv({ ...base, PROXMOX_CA_FILE: "/etc/pve/pve-root-ca.pem" }).tls).toEqual({ caFile: "/etc/pve/pve-root-ca.pem" });
    expect(() => clientOptionsFromEnv({ ...base, PROXMOX_CA_FILE: "/x.pem", PROXMOX_INSECURE: "yes" })).toThrow(
      "PROXMOX_CA_FILE, PROXMOX_INSECURE: set only one way to trust the server",
    );
  });
});

describe("createProxmoxClient", () => {
  it("validates at construction and hides the secret", () => {
    const client = createProxmoxClient({ url: "https://pve.example.com:8006/", tokenId: "capmox@pve!capi", secret });
    expect(client.url).toBe("https://pve.example.com:8006");
    for (const shown of [inspect(client, { showHidden: true, depth: 10 }), JSON.stringify(client), String(client)]) {
      expect(shown).not.toContain(secret);
    }
    client.close();
  });

  it("refuses TLS options on a plain-HTTP URL and bad timeouts", () => {
    expect(() => createProxmoxClient({ url: "http://127.0.0.1:8006", tokenId: "ci@pve!t1", secret, tls: { insecure: true } })).toThrow(
      "tls: 'http://127.0.0.1:8006' is plain HTTP",
    );
    expect(() => createProxmoxClient({ url: "https://pve", tokenId: "ci@pve!t1", secret, timeoutMs: 0 })).toThrow("timeoutMs: must be a positive number, got 0");
    expect(() => createProxmoxClient({ url: "https://pve/api2/json", tokenId: "ci@pve!t1", secret })).toThrow("url: ");
  });

  it("refuses bad arguments before sending anything", async () => {
    const client = createProxmoxClient({ url: "https://pve.invalid:8006", tokenId: "ci@pve!t1", secret });
    await expect(async () => client.vmConfig("pve1", 12)).rejects.toThrow("vmid: expected a VM id (integer 100..999999999), got 12");
    await expect(async () => client.vmConfig("pve/1", 101)).rejects.toThrow('node: expected a node name, got "pve/1"');
    await expect(async () => client.resizeVmDisk("pve1", 101, "scsi0", "10 GB")).rejects.toThrow("size: expected e.g. '+10G' or '60G'");
    await expect(client.get("/api2/json/version")).rejects.toThrow("path: expected a path relative to /api2/json");
    await expect(async () => client.taskStatus("nope")).rejects.toThrow("upid: 'nope'");
    client.close();
  });
});
