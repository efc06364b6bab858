import { describe, expect, it } from "vitest";
import { checkUrl, stripApiPath } from "../../../stages/index.js";
import { judgeTls, type TlsProbe } from "../../../stages/stage1/tls.js";

describe("URL check", () => {
  it("passes the bare https://host:port", () => {
    expect(checkUrl("https://pve1.example.com:8006")).toMatchObject({ verdict: "passed", detail: "https://pve1.example.com:8006" });
    expect(checkUrl("https://pve1.example.com:8006/")).toMatchObject({ verdict: "passed" });
  });

  it("fails the /api2/json trap and says what capmox would call", () => {
    const outcome = checkUrl("https://pve1:8006/api2/json");
    expect(outcome.verdict).toBe("failed");
    if (outcome.verdict !== "failed") return;
    expect(outcome.reason).toContain("https://pve1:8006/api2/json/api2/json/");
    expect(outcome.reason).toContain("501");
    expect(outcome.fix).toContain("https://pve1:8006");
    expect(outcome.fix).toContain("PROXMOX_URL");
  });

  it("fails plain HTTP, credentials, other paths, queries and non-URLs", () => {
    expect(checkUrl("http://pve1:8006")).toMatchObject({ verdict: "failed" });
    expect(checkUrl("https://root:pw@pve1:8006")).toMatchObject({ verdict: "failed" });
    expect(checkUrl("https://pve1:8006/pve")).toMatchObject({ verdict: "failed" });
    expect(checkUrl("https://pve1:8006/?a=1")).toMatchObject({ verdict: "failed" });
    expect(checkUrl("pve1:8006")).toMatchObject({ verdict: "failed" });
  });

  it("notes a missing port", () => {
    expect(checkUrl("https://pve.example.com")).toMatchObject({ verdict: "passed", detail: expect.stringContaining("8006") });
  });

  it("strips /api2/json and trailing slashes for the base URL the client gets", () => {
    expect(stripApiPath("https://pve:8006/api2/json/")).toBe("https://pve:8006");
    expect(stripApiPath(" https://pve:8006/ ")).toBe("https://pve:8006");
  });
});

const fp = "AB:".repeat(31) + "AB";
const probe = (over: Partial<TlsProbe> = {}): TlsProbe => ({
  authorized: false,
  authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT",
  fingerprint256: fp,
  subject: "CN=pve1",
  issuer: "CN=Proxmox Virtual Environment",
  validTo: "Jan 1 00:00:00 2030 GMT",
  altNames: "DNS:pve1, IP Address:127.0.0.1",
  certPem: "",
  ...over,
});

describe("TLS judgement", () => {
  it("warns on an explicit insecure mode (never a plain pass) and shows the fingerprint to pin", () => {
    const outcome = judgeTls({ insecure: true }, "https://pve1:8006", probe());
    expect(outcome).toMatchObject({ verdict: "warning", figures: { mode: "insecure" } });
    expect(outcome.verdict === "warning" && outcome.fix).toContain(`PROXMOX_FINGERPRINT=${fp}`);
    expect(outcome.verdict === "warning" && outcome.detail).toContain(fp);
  });

  it("passes a matching pin in any spelling and fails a different one", () => {
    expect(judgeTls({ fingerprint: fp.toLowerCase() }, "https://pve1:8006", probe())).toMatchObject({ verdict: "passed" });
    const other = "CD:".repeat(31) + "CD";
    const outcome = judgeTls({ fingerprint: other }, "https://pve1:8006", probe());
    expect(outcome.verdict).toBe("failed");
    expect(outcome.verdict === "failed" && outcome.reason).toContain(fp);
  });

  it("fails an untrusted self-signed certificate with the three ways out", () => {
    const outcome = judgeTls({}, "https://pve1:8006", probe());
    expect(outcome.verdict).toBe("failed");
    if (outcome.verdict !== "failed") return;
    expect(outcome.reason).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(outcome.fix).toContain("/etc/pve/pve-root-ca.pem");
    expect(outcome.fix).toContain(`PROXMOX_FINGERPRINT=${fp}`);
    expect(outcome.fix).toContain("PROXMOX_INSECURE=true");
  });

  it("names the host a certificate does not cover", () => {
    const outcome = judgeTls({}, "https://pve.example.com:8006", probe({ authorizationError: "ERR_TLS_CERT_ALTNAME_INVALID" }));
    expect(outcome.verdict === "failed" && outcome.reason).toContain("does not name 'pve.example.com'");
  });

  it("passes a certificate the system trusts", () => {
    expect(judgeTls({}, "https://pve1:8006", probe({ authorized: true }))).toMatchObject({ verdict: "passed", figures: { mode: "system" } });
  });
});
