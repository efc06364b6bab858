/**
 * Versions profiles: coherent sets of component versions and the API shapes that follow
 * from them. Pure data; callers ask for a profile by name and never test the name itself,
 * so a second profile is a new entry here, not a change in the constructs.
 */
import type { ProfileName } from "../config/types.js";

/** apiVersion strings the generator emits under a profile. */
export interface ApiVersions {
  /** cluster.x-k8s.io (Cluster, MachineDeployment, MachineHealthCheck). */
  readonly capiCore: string;
  /** bootstrap.cluster.x-k8s.io (KubeadmConfigTemplate). */
  readonly capiBootstrap: string;
  /** infrastructure.cluster.x-k8s.io (ProxmoxCluster, ProxmoxMachineTemplate). */
  readonly capmox: string;
  /** controlplane.cluster.x-k8s.io (KamajiControlPlane). */
  readonly kamajiControlPlane: string;
  /** ipam.cluster.x-k8s.io (InClusterIPPool). */
  readonly ipam: string;
}

export interface ComponentVersion {
  /** Release tag, e.g. `v0.7.7`. */
  readonly version: string;
  /** The CAPI contract the component implements (`v1beta1`, `v1beta2`). */
  readonly contract: string;
}

export interface VersionsProfile {
  readonly name: ProfileName;
  /** CozyStack line and its bundle format. */
  readonly cozystack: { readonly version: string; readonly bundleFormat: "v0.37-bundle" | "v1-package" };
  readonly capi: ComponentVersion;
  readonly capmox: ComponentVersion;
  readonly kamajiProvider: ComponentVersion;
  readonly ipamInCluster: ComponentVersion;
  readonly api: ApiVersions;
  /** File-name prefixes of the CRDs in shared/reference/crds that describe these API versions. */
  readonly crdSources: Readonly<Record<keyof ApiVersions, string>>;
}

const profiles: Readonly<Record<ProfileName, VersionsProfile>> = {
  "cozystack-v0.37": {
    name: "cozystack-v0.37",
    cozystack: { version: "v0.37.10", bundleFormat: "v0.37-bundle" },
    capi: { version: "v1.10.10", contract: "v1beta1" },
    capmox: { version: "v0.7.7", contract: "v1beta1" },
    kamajiProvider: { version: "v0.19.0", contract: "v1beta1" },
    ipamInCluster: { version: "v1.0.3", contract: "v1beta1" },
    api: {
      capiCore: "cluster.x-k8s.io/v1beta1",
      capiBootstrap: "bootstrap.cluster.x-k8s.io/v1beta1",
      capmox: "infrastructure.cluster.x-k8s.io/v1alpha1",
      kamajiControlPlane: "controlplane.cluster.x-k8s.io/v1alpha1",
      ipam: "ipam.cluster.x-k8s.io/v1alpha2",
    },
    crdSources: {
      capiCore: "capi-v1.12.9",
      capiBootstrap: "capi-v1.12.9",
      capmox: "capmox-v0.7.7",
      kamajiControlPlane: "kamaji-capi-v0.19.0",
      ipam: "ipam-in-cluster-v1.0.3",
    },
  },
  upstream: {
    name: "upstream",
    cozystack: { version: "v1.0.0", bundleFormat: "v1-package" },
    capi: { version: "v1.12.9", contract: "v1beta2" },
    capmox: { version: "v0.9.0", contract: "v1beta2" },
    kamajiProvider: { version: "v0.20.0", contract: "v1beta2" },
    ipamInCluster: { version: "v1.1.0", contract: "v1beta2" },
    api: {
      capiCore: "cluster.x-k8s.io/v1beta2",
      capiBootstrap: "bootstrap.cluster.x-k8s.io/v1beta2",
      capmox: "infrastructure.cluster.x-k8s.io/v1alpha2",
      kamajiControlPlane: "controlplane.cluster.x-k8s.io/v1alpha2",
      ipam: "ipam.cluster.x-k8s.io/v1alpha2",
    },
    crdSources: {
      capiCore: "capi-v1.12.9",
      capiBootstrap: "capi-v1.12.9",
      capmox: "capmox-v0.9.0",
      kamajiControlPlane: "kamaji-capi-v0.20.0",
      ipam: "ipam-in-cluster-v1.0.3",
    },
  },
};

/** All profile names, in the order they were added. */
export const profileNames = Object.keys(profiles) as ProfileName[];

/** The profile of that name; throws naming the field and value for an unknown one. */
export function getProfile(name: string): VersionsProfile {
  const profile = (profiles as Record<string, VersionsProfile | undefined>)[name];
  if (!profile) {
    throw new Error(`profile: unknown versions profile ${JSON.stringify(name)} (known: ${profileNames.join(", ")})`);
  }
  assertCoherent(profile);
  return profile;
}

/**
 * Refuses a profile whose pins do not go together: every CAPI provider must implement the
 * contract of CAPI core, and the API versions must be the ones that contract implies.
 */
export function assertCoherent(p: VersionsProfile): void {
  const problems: string[] = [];
  for (const [label, c] of [
    ["capmox", p.capmox],
    ["kamajiProvider", p.kamajiProvider],
    ["ipamInCluster", p.ipamInCluster],
  ] as const) {
    if (c.contract !== p.capi.contract) {
      problems.push(
        `${label} ${c.version} implements contract ${c.contract} but capi ${p.capi.version} uses ${p.capi.contract}`,
      );
    }
  }
  const coreVersion = p.api.capiCore.split("/")[1];
  if (coreVersion !== p.capi.contract) {
    problems.push(`api.capiCore ${p.api.capiCore} does not match capi contract ${p.capi.contract}`);
  }
  if (problems.length > 0) {
    throw new Error(`profile ${p.name} is incoherent: ${problems.join("; ")}`);
  }
}
