/**
 * Our PackageSources: capmox and the in-cluster IPAM provider (vendored for CozyStack's
 * capi-operator as CozyStack vendors its own providers), the Proxmox CCM and CSI plugin, and
 * the tenant Kubernetes application on Proxmox (its chart and its ApplicationDefinition).
 * Each `dependsOn` names packages of CozyStack v1.6.2 or of this set; the graph checks hold
 * them against what the platform Package installs.
 */
import type { CozystackV1Config } from "../config/index.js";
import { capmoxChartDir } from "../cozystack/charts/capmox.js";
import { ipamChartDir } from "../cozystack/charts/ipam.js";
import { ccmChartDir, ccmNamespace } from "../cozystack/charts/proxmox-ccm.js";
import { csiChartDir, csiNamespace } from "../cozystack/charts/proxmox-csi.js";
import { appChartName, definitionChartDir, definitionNamespace } from "../cozystack/app/names.js";
import type { PackageSourceDef, PackageVariant, SourceRef } from "./source.js";

/** Prefix of our package names, beside CozyStack's `cozystack.`. */
export const packagePrefix = "cozy-proxmox";
/** The Flux source object our PackageSources point at. */
export const fluxSourceName = "cozy-proxmox-packages";
export const fluxSourceNamespace = "cozy-system";

export const ipamPackage = `${packagePrefix}.capi-provider-ipam-in-cluster`;
export const capmoxPackage = `${packagePrefix}.capi-provider-infra-proxmox`;
export const ccmPackage = `${packagePrefix}.proxmox-ccm`;
export const csiPackage = `${packagePrefix}.proxmox-csi`;
export const applicationPackage = `${packagePrefix}.kubernetes-application`;
/** The application's variant: upstream names the KubeVirt one `kubevirt` and expects other substrates as siblings. */
export const applicationVariant = "proxmox";
/** The component whose chart cozystack-api installs per `Kubernetes` object. */
export const applicationComponent = "kubernetes";

/**
 * The ExternalArtifact the operator makes of a component (`<package, dots as dashes>-<variant>-<component>`,
 * as CozyStack v1.6.2's kubernetes-rd names `cozystack-kubernetes-application-kubevirt-kubernetes`).
 */
export const componentArtifact = (pkg: string, variant: string, component: string): string => `${pkg.replace(/\./g, "-")}-${variant}-${component}`;

const capiBase = ["cozystack.networking", "cozystack.capi-operator", "cozystack.capi-provider-core"];

const system = (dir: string, namespace: string, privileged: boolean) => ({
  name: dir,
  path: `system/${dir}`,
  install: { namespace, releaseName: dir, ...(privileged ? { privileged: true } : {}) },
});

/** Every package we add, with the variant its Package selects. */
export function ourPackageSources(v1: CozystackV1Config): { source: PackageSourceDef; variant: string }[] {
  const sourceRef: SourceRef = { kind: v1.source.kind, name: fluxSourceName, namespace: fluxSourceNamespace, path: v1.source.path };
  const one = (name: string, variant: PackageVariant) => ({ source: { name, origin: "ours", sourceRef, variants: [variant] }, variant: variant.name });
  return [
    // The CAPI operator's providers live in cozy-cluster-api, privileged like CozyStack's own.
    one(ipamPackage, { name: "default", dependsOn: capiBase, components: [system(ipamChartDir, "cozy-cluster-api", true)] }),
    one(capmoxPackage, { name: "default", dependsOn: [...capiBase, ipamPackage], components: [system(capmoxChartDir, "cozy-cluster-api", true)] }),
    // The CCM runs with hostNetwork and labels nodes with region/zone, which the CSI node plugin reads at start.
    one(ccmPackage, { name: "default", dependsOn: ["cozystack.networking"], components: [system(ccmChartDir, ccmNamespace, true)] }),
    one(csiPackage, { name: "default", dependsOn: ["cozystack.networking", ccmPackage], components: [system(csiChartDir, csiNamespace, true)] }),
    one(applicationPackage, {
      name: applicationVariant,
      // As CozyStack's kubernetes-application (kubevirt), with capmox and IPAM for the KubeVirt provider.
      dependsOn: [
        "cozystack.networking",
        "cozystack.capi-operator",
        "cozystack.capi-provider-bootstrap-kubeadm",
        "cozystack.capi-provider-core",
        "cozystack.capi-provider-cp-kamaji",
        "cozystack.kamaji",
        capmoxPackage,
        ipamPackage,
        // cozystack-engine ships the ApplicationDefinition CRD and cozystack-api.
        "cozystack.cozystack-engine",
      ],
      components: [
        // Published only: cozystack-api installs it per Kubernetes object through its ExternalArtifact.
        { name: applicationComponent, path: `apps/${appChartName}` },
        system(definitionChartDir, definitionNamespace, false),
      ],
    }),
  ];
}
