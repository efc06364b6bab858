/**
 * What stages 5 to 7 need besides Proxmox: the tenant cluster (its workers are Proxmox VMs),
 * from `--tenant-kubeconfig` or TENANT_KUBECONFIG, and a few names of that installation with
 * defaults matching what this project generates.
 */
import { clientFromKubeconfig, type KubeClient } from "../../kube/index.js";

/** The tenant cluster a stage 5–7 run works in. */
export interface TenantInput {
  readonly client: KubeClient;
  /** Where the kubeconfig came from (a path), for messages; never its content. */
  readonly source: string;
  /** StorageClass of the Proxmox CSI plugin. @default "proxmox-csi" */
  readonly storageClass?: string;
  /** Namespace of the metrics stack in the management cluster. @default "tenant-root" */
  readonly monitoringNamespace?: string;
  /** Image of the test pods (busybox: sh, wget, httpd); a mirror for air-gapped installs. @default "busybox:1.36" */
  readonly probeImage?: string;
  /** Run id (namespaces, labels). @default a new one */
  readonly runId?: string;
}

export const defaultStorageClass = "proxmox-csi";
export const defaultMonitoringNamespace = "tenant-root";
export const defaultProbeImage = "busybox:1.36";

/** Environment variables stages 5–7 read. */
export const tenantEnv = {
  kubeconfig: "TENANT_KUBECONFIG",
  storageClass: "TENANT_STORAGE_CLASS",
  monitoringNamespace: "MONITORING_NAMESPACE",
  probeImage: "PROBE_IMAGE",
} as const;

/** The tenant kubeconfig path from the flag, else from TENANT_KUBECONFIG. */
export function tenantKubeconfigPathOf(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = flag ?? env[tenantEnv.kubeconfig];
  return value && value.trim() !== "" ? value : undefined;
}

/** The tenant input of a run, or undefined when no kubeconfig is given; a bad file throws naming it. */
export function tenantInput(path: string | undefined, env: Readonly<Record<string, string | undefined>>): TenantInput | undefined {
  if (!path) return undefined;
  const pick = (key: string): string | undefined => (env[key] && env[key]!.trim() !== "" ? env[key]!.trim() : undefined);
  const storageClass = pick(tenantEnv.storageClass);
  const monitoringNamespace = pick(tenantEnv.monitoringNamespace);
  const probeImage = pick(tenantEnv.probeImage);
  return {
    client: clientFromKubeconfig(path),
    source: path,
    ...(storageClass ? { storageClass } : {}),
    ...(monitoringNamespace ? { monitoringNamespace } : {}),
    ...(probeImage ? { probeImage } : {}),
  };
}
