/**
 * Names of the tenant Kubernetes application on Proxmox: the app chart, the kind CozyStack
 * serves for it, the chart that installs its CozystackResourceDefinition, and the names its
 * objects share with the rest of CozyStack (the tenant kubeconfig Secret, HelmRelease labels).
 */

/** The app chart: `packages/apps/<name>` in the overlay, served by the `cozystack-apps` repository. */
export const appChartName = "kubernetes-proxmox";
export const appChartPath = `packages/apps/${appChartName}`;

/** The kind users create. Same kind, plural and prefix as CozyStack's KubeVirt-based app, which paas-proxmox leaves out. */
export const applicationKind = "Kubernetes";
export const applicationSingular = "kubernetes";
export const applicationPlural = "kuberneteses";
export const appsApiVersion = "apps.cozystack.io/v1alpha1";
/** cozystack-api names the HelmRelease (and so the Helm release) `<prefix><application name>`. */
export const releasePrefix = "kubernetes-";

/** The system chart with the CozystackResourceDefinition: `packages/system/<dir>`, chart `cozy-<dir>` (the bundle's list). */
export { definitionChartDir, definitionNamespace } from "../../bundles/overlay-charts.js";

/** HelmRepository of CozyStack's app charts and of its system charts. */
export const appsRepository = { kind: "HelmRepository", name: "cozystack-apps", namespace: "cozy-public" } as const;
export const systemRepository = { kind: "HelmRepository", name: "cozystack-system", namespace: "cozy-system" } as const;

/** Kamaji writes the tenant's admin kubeconfig into `<cluster>-admin-kubeconfig`; this key addresses the in-cluster Service. */
export function adminKubeconfigSecret(cluster: string): string {
  return `${cluster}-admin-kubeconfig`;
}
export const adminKubeconfigKey = "super-admin.svc";

/** CozyStack's label on HelmReleases that install into a tenant cluster. */
export const targetClusterLabel = "cozystack.io/target-cluster-name";

/** ConfigMap with the non-secret Proxmox settings of the tenant's CCM and CSI plugin (HelmRelease valuesFrom). */
export function proxmoxAccessConfigMap(cluster: string): string {
  return `${cluster}-proxmox-access`;
}

/**
 * Kubernetes version when the values give none: CozyStack v0.37's `kubernetes` app maps
 * its default minor (v1.32) to this patch release.
 */
export const defaultKubernetesVersion = "v1.32.6";
