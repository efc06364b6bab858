/**
 * packages/system/proxmox-csi: the Proxmox CSI plugin (sergelogvinov/proxmox-csi-plugin)
 * with provider capmox, a StorageClass on the configured Proxmox storage limited to the
 * Proxmox region, and credentials from a Secret.
 */
import type { PlatformConfig } from "../../config/index.js";
import { csiChartPin } from "../artifacts/pins.js";
import { credentialsComment, proxmoxAccess } from "./proxmox-access.js";
import type { ChartFiles } from "./files.js";
import { upstreamWrapperChart, type UpstreamSource } from "./upstream-wrapper.js";

export const csiChartDir = "proxmox-csi";
export const csiNamespace = "cozy-proxmox-csi";
export const csiCredentialsSecret = "proxmox-csi-credentials";
/** Name of the StorageClass the chart creates. */
export const csiStorageClass = "proxmox-csi";

export function proxmoxCsiValues(config: PlatformConfig): Record<string, unknown> {
  const access = proxmoxAccess(config, csiCredentialsSecret);
  return {
    config: access.config,
    storageClass: [
      {
        name: csiStorageClass,
        storage: config.proxmox.diskStorage,
        fstype: "ext4",
        reclaimPolicy: "Delete",
        // Volumes are created on a node of this Proxmox region; the zone (PVE node) follows the pod.
        allowedTopologies: [{ matchLabelExpressions: [{ key: "topology.kubernetes.io/region", values: [config.proxmox.region] }] }],
      },
    ],
    extraVolumes: access.extraVolumes,
    extraVolumeMounts: access.extraVolumeMounts,
  };
}

export function proxmoxCsiChart(config: PlatformConfig, upstream: UpstreamSource): ChartFiles {
  return upstreamWrapperChart({
    dir: csiChartDir,
    namespace: csiNamespace,
    description: "Proxmox CSI plugin (provider capmox): volumes on Proxmox storages, placed by topology region/zone",
    pin: csiChartPin,
    upstream,
    values: proxmoxCsiValues(config),
    valuesComment: credentialsComment(csiNamespace, csiCredentialsSecret, config),
    notes: `Proxmox CSI plugin: StorageClass ${csiStorageClass} on storage ${config.proxmox.diskStorage} (region ${config.proxmox.region}).
Needs Secret ${csiCredentialsSecret} (keys token_id, token_secret) in {{ .Release.Namespace }}, and nodes labelled
topology.kubernetes.io/region and topology.kubernetes.io/zone by the Proxmox CCM.
`,
  });
}
