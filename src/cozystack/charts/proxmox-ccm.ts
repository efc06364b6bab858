/**
 * packages/system/proxmox-ccm: the Proxmox cloud controller manager
 * (sergelogvinov/proxmox-cloud-controller-manager) with provider capmox, so node
 * providerIDs match capmox's `proxmox://<SMBIOS uuid>`, and credentials from a Secret. It
 * labels nodes with topology.kubernetes.io/region (the config's region) and zone (PVE node).
 */
import type { PlatformConfig } from "../../config/index.js";
import { ccmChartPin } from "../artifacts/pins.js";
import { credentialsComment, proxmoxAccess } from "./proxmox-access.js";
import type { ChartFiles } from "./files.js";
import { upstreamWrapperChart, type UpstreamSource } from "./upstream-wrapper.js";

export const ccmChartDir = "proxmox-ccm";
export const ccmNamespace = "cozy-proxmox-ccm";
export const ccmCredentialsSecret = "proxmox-ccm-credentials";

export function proxmoxCcmValues(config: PlatformConfig): Record<string, unknown> {
  const access = proxmoxAccess(config, ccmCredentialsSecret);
  return {
    config: access.config,
    enabledControllers: ["cloud-node", "cloud-node-lifecycle"],
    extraVolumes: access.extraVolumes,
    extraVolumeMounts: access.extraVolumeMounts,
  };
}

export function proxmoxCcmChart(config: PlatformConfig, upstream: UpstreamSource): ChartFiles {
  return upstreamWrapperChart({
    dir: ccmChartDir,
    namespace: ccmNamespace,
    description: "Proxmox cloud controller manager (provider capmox): node providerID and topology labels",
    pin: ccmChartPin,
    upstream,
    values: proxmoxCcmValues(config),
    valuesComment: [
      ...credentialsComment(ccmNamespace, ccmCredentialsSecret, config),
      "The CCM only manages nodes whose kubelet runs with --cloud-provider=external.",
    ],
    notes: `Proxmox CCM (provider capmox, region ${config.proxmox.region}).
Needs Secret ${ccmCredentialsSecret} (keys token_id, token_secret) in {{ .Release.Namespace }}.
It manages only nodes whose kubelet runs with --cloud-provider=external.
`,
  });
}
