/**
 * The system charts the paas-proxmox bundle needs and CozyStack lacks, which the overlay
 * adds to a CozyStack v0.37 checkout (`packages/system/<dir>`, Chart.yaml `name: cozy-<dir>`).
 * The one list of them, owned by the bundle that installs them: src/cozystack/overlay.ts has
 * a generator for each dir, which the type `OverlayChartDir` makes the compiler check.
 */

/** The system chart with the tenant app's CozystackResourceDefinition (src/cozystack/app). */
export const definitionChartDir = "kubernetes-proxmox-rd";
/** Namespace of its bundle release (CozyStack's resource definitions live in cozy-system). */
export const definitionNamespace = "cozy-system";

export interface OverlayChart<Dir extends string = string> {
  /** Directory under `packages/system/`. */
  readonly dir: Dir;
  /** Chart name, `cozy-<dir>` as CozyStack's `make fix-charts` enforces. */
  readonly chart: string;
  /** Its pods need a namespace with `pod-security.kubernetes.io/enforce: privileged`. */
  readonly privileged: boolean;
  /** Why, or what it installs; goes into Chart.yaml `description`. */
  readonly description: string;
}

const chart = <Dir extends string>(dir: Dir, privileged: boolean, description: string): OverlayChart<Dir> => ({
  dir,
  chart: `cozy-${dir}`,
  privileged,
  description,
});

export const overlayCharts = [
  // The CAPI operator's providers live in cozy-cluster-api, which paas-full marks privileged.
  chart("capi-providers-infraprovider-proxmox", true, "Cluster API infrastructure provider for Proxmox VE (capmox), vendored for the CAPI operator"),
  chart("capi-providers-ipam-in-cluster", true, "Cluster API in-cluster IPAM provider, vendored for the CAPI operator; capmox takes node addresses from its pools"),
  // CCM runs with hostNetwork so it can initialise nodes before the pod network is up.
  chart("proxmox-ccm", true, "Proxmox cloud controller manager (provider capmox): node providerID and topology labels"),
  // The CSI node plugin is a privileged DaemonSet with hostPath mounts.
  chart("proxmox-csi", true, "Proxmox CSI plugin: volumes on Proxmox storages, placed by topology region/zone"),
  // The tenant Kubernetes app on Proxmox (src/cozystack/app): its CozystackResourceDefinition.
  chart(definitionChartDir, false, "CozystackResourceDefinition of Kubernetes (apps.cozystack.io) for tenant clusters on Proxmox VE"),
] as const;

/** The directory of an overlay chart. */
export type OverlayChartDir = (typeof overlayCharts)[number]["dir"];

/** The overlay chart of a chart name, if any. */
export function overlayChart(chartName: string): OverlayChart<OverlayChartDir> | undefined {
  return overlayCharts.find((c) => c.chart === chartName);
}
