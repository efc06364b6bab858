/**
 * A platform config with two tenants isolated on the Proxmox side, pointed at a lab: alpha
 * reads its token secret from a file, beta from an environment variable.
 */
import { defaultConfig, defaultNodeGroup, defaultTenant, type PlatformConfig } from "../../../config/index.js";
import type { LabHandle } from "../../../lab/index.js";

export function isolatedConfig(lab: LabHandle, alphaSecretFile: string): PlatformConfig {
  const base = defaultConfig();
  return {
    ...base,
    proxmox: { ...base.proxmox, url: lab.url, tls: { insecure: false, fingerprint: lab.fingerprint! }, managementVmIdRange: { start: 100, end: 999 } },
    tenants: [
      {
        ...defaultTenant("alpha", "v1.32.6"),
        addressRanges: [{ start: "10.0.0.100", end: "10.0.0.149" }],
        proxmox: { pool: "cozy-alpha", vmIdRange: { start: 1000, end: 1009 }, tokenId: "cozy-alpha@pve!capmox", secret: { file: alphaSecretFile } },
      },
      {
        ...defaultTenant("beta", "v1.32.6"),
        nodeGroups: [{ ...defaultNodeGroup("workers"), replicas: 1, minReplicas: 1, maxReplicas: 2 }],
        addressRanges: [{ start: "10.0.0.150", end: "10.0.0.199" }],
        proxmox: { pool: "cozy-beta", vmIdRange: { start: 1010, end: 1019 }, tokenId: "cozy-beta@pve!capmox", secret: { env: "BETA_PROXMOX_SECRET" } },
      },
    ],
  };
}
