/**
 * How the Proxmox CSI plugin and CCM reach the Proxmox API: their `config.clusters` entry
 * and the volumes that bring the credentials (and a private CA) into the pod. The token id
 * and secret are files from a Secret the operator creates (`token_id_file`,
 * `token_secret_file`), so no credential is ever part of a chart or a HelmRelease.
 */
import type { PlatformConfig } from "../../config/index.js";

/** Where the credentials Secret is mounted; its keys become files. */
const secretMount = "/run/secrets/proxmox";

/** ConfigMap (key `ca.crt`) with the CA that signed the Proxmox certificate, when tls.caFile is set. */
export const proxmoxCaConfigMap = "proxmox-ca";

export interface ProxmoxAccess {
  /** The `config:` value of the upstream charts. */
  readonly config: Record<string, unknown>;
  readonly extraVolumes: Record<string, unknown>[];
  readonly extraVolumeMounts: Record<string, unknown>[];
}

export function proxmoxAccess(config: PlatformConfig, credentialsSecret: string): ProxmoxAccess {
  const { url, tls, region } = config.proxmox;
  const extraVolumes: Record<string, unknown>[] = [{ name: "proxmox-credentials", secret: { secretName: credentialsSecret } }];
  const extraVolumeMounts: Record<string, unknown>[] = [{ name: "proxmox-credentials", mountPath: secretMount, readOnly: true }];
  if (tls.caFile && !tls.insecure) {
    // The plugins have no CA option; Go also trusts every file in /etc/ssl/certs, and a
    // subPath mount adds one without hiding the image's bundle.
    extraVolumes.push({ name: "proxmox-ca", configMap: { name: proxmoxCaConfigMap } });
    extraVolumeMounts.push({ name: "proxmox-ca", mountPath: "/etc/ssl/certs/proxmox-ca.crt", subPath: "ca.crt", readOnly: true });
  }
  return {
    config: {
      // capmox sets providerID proxmox://<SMBIOS uuid>; the plugins must match that form.
      features: { provider: "capmox" },
      clusters: [
        {
          url: `${url.replace(/\/+$/, "")}/api2/json`,
          insecure: tls.insecure,
          token_id_file: `${secretMount}/token_id`,
          token_secret_file: `${secretMount}/token_secret`,
          // Nodes get topology.kubernetes.io/region=<region> and zone=<PVE node> from the CCM.
          region,
        },
      ],
    },
    extraVolumes,
    extraVolumeMounts,
  };
}

/** values.yaml comment lines telling the operator which Secret to create. */
export function credentialsComment(namespace: string, secret: string, config: PlatformConfig): string[] {
  const lines = [
    `Credentials: Secret ${secret} in ${namespace} with keys token_id and token_secret`,
    "(a Proxmox API token; least privilege per notes/pve.md §6):",
    `  kubectl -n ${namespace} create secret generic ${secret} \\`,
    `    --from-literal=token_id='${config.proxmox.tokenId}' --from-literal=token_secret=<token secret>`,
  ];
  if (config.proxmox.tls.caFile && !config.proxmox.tls.insecure) {
    lines.push(
      `Private CA: ConfigMap ${proxmoxCaConfigMap} in ${namespace} with key ca.crt:`,
      `  kubectl -n ${namespace} create configmap ${proxmoxCaConfigMap} --from-file=ca.crt=<CA file>`,
    );
  }
  return lines;
}
