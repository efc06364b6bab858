import { describe, expect, it } from "vitest";
import { defaultConfig, type PlatformConfig } from "../../../config/index.js";
import { ConnectionError, resolveConnection } from "../../../stages/index.js";

const base = defaultConfig();
const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};
const withProxmox = (over: Partial<PlatformConfig["proxmox"]>): PlatformConfig => ({ ...base, proxmox: { ...base.proxmox, ...over } });

describe("connection settings", () => {
  it("takes the config and the secret from PROXMOX_SECRET", () => {
    const c = resolveConnection(base, { PROXMOX_SECRET: "s3cret-value" }, noFile);
    expect(c).toMatchObject({ url: "https://127.0.0.1:8006", tokenId: "root@pam!cozy", secret: "s3cret-value", tls: {}, overrides: ["PROXMOX_SECRET"] });
  });

  it("lets every PROXMOX_* variable override its field", () => {
    const c = resolveConnection(
      base,
      { PROXMOX_URL: "https://pve.example.com:8006", PROXMOX_TOKEN: "capmox@pve!capi", PROXMOX_SECRET: "x-secret", PROXMOX_FINGERPRINT: "AB:CD" },
      noFile,
    );
    expect(c.url).toBe("https://pve.example.com:8006");
    expect(c.tokenId).toBe("capmox@pve!capi");
    expect(c.tls).toEqual({ fingerprint: "AB:CD" });
    expect(c.config.proxmox).toMatchObject({ url: "https://pve.example.com:8006", tokenId: "capmox@pve!capi", tls: { insecure: false, fingerprint: "AB:CD" } });
    expect(c.overrides).toEqual(["PROXMOX_URL", "PROXMOX_TOKEN", "PROXMOX_SECRET", "PROXMOX_FINGERPRINT"]);
  });

  it("keeps the configured URL for the URL check but gives the client the base URL", () => {
    const c = resolveConnection(base, { PROXMOX_URL: "https://pve:8006/api2/json", PROXMOX_SECRET: "x-secret" }, noFile);
    expect(c.configuredUrl).toBe("https://pve:8006/api2/json");
    expect(c.url).toBe("https://pve:8006");
  });

  it("resolves TLS: env replaces the config's mode; PROXMOX_INSECURE=false keeps a configured CA", () => {
    const withCa = withProxmox({ tls: { insecure: false, caFile: "/etc/ca.pem" } });
    expect(resolveConnection(withCa, { PROXMOX_SECRET: "x-secret" }, noFile).tls).toEqual({ caFile: "/etc/ca.pem" });
    expect(resolveConnection(withCa, { PROXMOX_SECRET: "x-secret", PROXMOX_INSECURE: "true" }, noFile).tls).toEqual({ insecure: true });
    expect(resolveConnection(withCa, { PROXMOX_SECRET: "x-secret", PROXMOX_INSECURE: "false" }, noFile).tls).toEqual({ caFile: "/etc/ca.pem" });
    const insecure = withProxmox({ tls: { insecure: true } });
    expect(resolveConnection(insecure, { PROXMOX_SECRET: "x-secret", PROXMOX_INSECURE: "0" }, noFile).tls).toEqual({});
    expect(resolveConnection(insecure, { PROXMOX_SECRET: "x-secret", PROXMOX_CA_FILE: "/ca.pem" }, noFile).tls).toEqual({ caFile: "/ca.pem" });
  });

  it("refuses two TLS modes at once and a non-boolean PROXMOX_INSECURE, naming the variables", () => {
    expect(() => resolveConnection(base, { PROXMOX_SECRET: "x", PROXMOX_CA_FILE: "/a", PROXMOX_INSECURE: "yes" }, noFile)).toThrow(
      "PROXMOX_CA_FILE, PROXMOX_INSECURE=true: set only one way to trust the server",
    );
    expect(() => resolveConnection(base, { PROXMOX_SECRET: "x", PROXMOX_INSECURE: "maybe" }, noFile)).toThrow("PROXMOX_INSECURE: 'maybe' is not a boolean");
  });

  it("reads the secret from the configured variable or file, and says where it looked when it is missing", () => {
    const custom = withProxmox({ secret: { env: "PVE_TOKEN_SECRET" } });
    expect(resolveConnection(custom, { PVE_TOKEN_SECRET: "from-custom" }, noFile).secret).toBe("from-custom");
    const file = withProxmox({ secret: { file: "/run/secrets/pve" } });
    expect(resolveConnection(file, {}, (p) => (p === "/run/secrets/pve" ? "from-file\n" : "")).secret).toBe("from-file");
    expect(() => resolveConnection(file, {}, noFile)).toThrow("proxmox.secret.file: cannot read '/run/secrets/pve'");
    expect(() => resolveConnection(base, {}, noFile)).toThrow(ConnectionError);
    expect(() => resolveConnection(base, {}, noFile)).toThrow("proxmox.secret: no API token secret: set PROXMOX_SECRET");
  });

  it("refuses a non-ASCII secret naming where it came from, never showing it (not as 'Invalid character in header content')", () => {
    const secret = "0b5f1a4e-ü-secret";
    const fromEnv = (): unknown => resolveConnection(base, { PROXMOX_SECRET: secret }, noFile);
    expect(fromEnv).toThrow(ConnectionError);
    expect(fromEnv).toThrow(/^PROXMOX_SECRET: holds a secret with a non-ASCII character/);
    const custom = withProxmox({ secret: { env: "MY_PVE_SECRET" } });
    expect(() => resolveConnection(custom, { MY_PVE_SECRET: "a\u0007b" }, noFile)).toThrow(/^MY_PVE_SECRET: holds a secret with a control character/);
    const fromFile = withProxmox({ secret: { file: "/run/secret" } });
    let message = "";
    try {
      resolveConnection(fromFile, {}, () => `${secret}\n`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^proxmox\.secret\.file: holds a secret with a non-ASCII character/);
    expect(message).not.toContain("ü");
  });

  it("refuses a URL that is not one, naming the variable", () => {
    expect(() => resolveConnection(base, { PROXMOX_URL: "pve1", PROXMOX_SECRET: "x" }, noFile)).toThrow(/^PROXMOX_URL: /);
  });
});
