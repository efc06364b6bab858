import { describe, expect, test } from "vitest";
import { credentialsSecretName } from "../../../capi/index.js";
import { defaultConfig, type PlatformConfig } from "../../../config/index.js";
import { capmoxConfigSecret, ccmCredentialsSecret, csiCredentialsSecret, proxmoxCaConfigMap } from "../../../cozystack/index.js";
import { describeRef, refOf, type KubeObject } from "../../../kube/index.js";
import { credentialObjects, proxmoxBaseUrl, redactor } from "../../../kube/bootstrap/index.js";

const installed = [
  { name: "capi-providers-infraprovider-proxmox", namespace: "cozy-cluster-api" },
  { name: "proxmox-csi", namespace: "cozy-proxmox-csi" },
  { name: "proxmox-ccm", namespace: "cozy-proxmox-ccm" },
  { name: "cilium", namespace: "cozy-cilium" },
];
const decode = (o: KubeObject | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries((o?.["data"] as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

describe("credential objects", () => {
  test("one per tenant and per consuming release, named as src/capi and src/cozystack expect", () => {
    const config = defaultConfig();
    const objects = credentialObjects({ config, tokenSecret: "s3cr3t-value" }, installed);
    expect(objects.map((o) => describeRef(refOf(o)))).toEqual([
      `Secret ${config.tenants[0]!.namespace}/${credentialsSecretName(config.tenants[0]!.name)}`,
      `Secret cozy-cluster-api/${capmoxConfigSecret}`,
      `Secret cozy-proxmox-csi/${csiCredentialsSecret}`,
      `Secret cozy-proxmox-ccm/${ccmCredentialsSecret}`,
    ]);
    // A disabled release gets no Secret.
    expect(credentialObjects({ config, tokenSecret: "s3cr3t-value" }, installed.slice(0, 1))).toHaveLength(2);
  });

  test("a private CA reaches capmox (root_ca) and the CSI/CCM pods (ConfigMap proxmox-ca)", () => {
    const base = defaultConfig();
    const config: PlatformConfig = { ...base, proxmox: { ...base.proxmox, url: "https://pve.example:8006/api2/json/", tls: { insecure: false, caFile: "/ca.pem" } } };
    const caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const objects = credentialObjects({ config, tokenSecret: "s3cr3t-value", caPem }, installed);
    expect(decode(objects[0])).toEqual({ url: "https://pve.example:8006", token: base.proxmox.tokenId, secret: "s3cr3t-value", insecure: "false", root_ca: caPem });
    const caMaps = objects.filter((o) => o.kind === "ConfigMap");
    expect(caMaps.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([`cozy-proxmox-csi/${proxmoxCaConfigMap}`, `cozy-proxmox-ccm/${proxmoxCaConfigMap}`]);
    expect(caMaps[0]?.["data"]).toEqual({ "ca.crt": caPem });
  });

  test("a tenant with its own token gets it in its credentials Secret; the others keep the shared one", () => {
    const base = defaultConfig();
    const own = { ...base.tenants[0]!, proxmox: { pool: "cozy-demo", tokenId: "cozy-demo@pve!capmox", secret: { env: "DEMO_SECRET" } } };
    const shared = { ...base.tenants[0]!, name: "shared", namespace: "tenant-shared" };
    const config: PlatformConfig = { ...base, tenants: [own, shared] };
    const objects = credentialObjects({ config, tokenSecret: "s3cr3t-value", tenantTokenSecrets: { demo: "demo-s3cr3t" } }, installed.slice(0, 1));
    expect(decode(objects[0])).toEqual({ url: base.proxmox.url, token: "cozy-demo@pve!capmox", secret: "demo-s3cr3t", insecure: "false" });
    expect(decode(objects[1])).toEqual({ url: base.proxmox.url, token: base.proxmox.tokenId, secret: "s3cr3t-value", insecure: "false" });
    // capmox's own Secret keeps the platform's token
    expect(decode(objects[2])["PROXMOX_TOKEN"]).toBe(base.proxmox.tokenId);
    expect(() => credentialObjects({ config, tokenSecret: "s3cr3t-value" }, [])).toThrow("tenants.demo.proxmox.tokenId: cozy-demo@pve!capmox: its secret was not given (tenants[].proxmox.secret)");
  });

  test("proxmoxBaseUrl drops /api2/json and trailing slashes", () => {
    expect(proxmoxBaseUrl("https://pve:8006/api2/json/")).toBe("https://pve:8006");
    expect(proxmoxBaseUrl("https://pve:8006")).toBe("https://pve:8006");
  });

  test("redactor hides the secret and its base64 form", () => {
    const redact = redactor(["s3cr3t-value"]);
    const b64 = Buffer.from("s3cr3t-value").toString("base64");
    expect(redact(`token s3cr3t-value and ${b64}`)).toBe("token [redacted] and [redacted]");
  });
});
