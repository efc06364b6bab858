/**
 * Versions profiles: coherent sets of component versions and the API shapes that follow
 * from them. Pure data; callers ask for a profile by name and never test the name itself,
 * so a second profile is a new entry here, not a change in the constructs.
 */

/** Name of a versions profile: a key of the table below. src/config re-exports it for the platform config. */
export type ProfileName = "cozystack-v0.37" | "cozystack-v1.6" | "upstream";

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

/** Template match policies of capmox's `templateSelector`. */
export type TemplateMatchPolicy = "exact" | "uniqueSubset" | "bestSubset";

/** Kubernetes minor versions a profile can run as tenant clusters, inclusive. */
export interface KubernetesRange {
  /** Lowest minor, e.g. 28 for v1.28. */
  readonly minMinor: number;
  /** Highest minor, e.g. 33 for v1.33. */
  readonly maxMinor: number;
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
  /** Tenant Kubernetes versions the control-plane stack supports. */
  readonly kubernetes: KubernetesRange;
  /** Match policies the pinned capmox accepts in `templateSelector` (v0.7 has no `matchPolicy` field: exact only). */
  readonly templateMatchPolicies: readonly TemplateMatchPolicy[];
  /**
   * How the `Kubernetes` objects synth writes (dist/apps) spell their values: CozyStack
   * v0.37's (`ephemeralStorage`, full versions) or v1.6's (`diskSize`, `vMAJOR.MINOR`).
   * The app chart reads both, so either kind of object works on either platform.
   */
  readonly appValueNames: "v0.37" | "v1.6";
  /** The app chart's default `version` (its values.yaml), in the profile's spelling. */
  readonly appDefaultVersion: string;
}

/** The API versions of the CAPI v1beta1 line (CAPI v1.10, capmox v0.7, Kamaji provider v1alpha1), which both CozyStack profiles run. */
const v1beta1Api: ApiVersions = {
  capiCore: "cluster.x-k8s.io/v1beta1",
  capiBootstrap: "bootstrap.cluster.x-k8s.io/v1beta1",
  capmox: "infrastructure.cluster.x-k8s.io/v1alpha1",
  kamajiControlPlane: "controlplane.cluster.x-k8s.io/v1alpha1",
  ipam: "ipam.cluster.x-k8s.io/v1alpha2",
};

/**
 * The saved CRDs the typed imports and unit checks read for that line. CAPI's are v1.12.9's,
 * not v1.10.1's, which runs: shared/reference/crds saves CAPI's CRDs of v1.12.9 only (v1.10.1's
 * ship inside CozyStack's components files, not as CRD files). The v1beta1 fields the constructs
 * use are the same in both, every tenant object is validated strictly against v1.10.1's own CRDs
 * from the release's components files (src/tests/integration/cozystack/release-files.test.ts),
 * and the real v1.10.1 controllers serve them in the management environment.
 */
const v1beta1CrdSources: VersionsProfile["crdSources"] = {
  capiCore: "capi-v1.12.9",
  capiBootstrap: "capi-v1.12.9",
  capmox: "capmox-v0.7.7",
  kamajiControlPlane: "kamaji-capi-v0.19.0",
  ipam: "ipam-in-cluster-v1.0.3",
};

const profiles: Readonly<Record<ProfileName, VersionsProfile>> = {
  "cozystack-v0.37": {
    name: "cozystack-v0.37",
    cozystack: { version: "v0.37.10", bundleFormat: "v0.37-bundle" },
    // CozyStack v0.37 vendors CAPI core/kubeadm v1.10.1 (`v1.10.1-core`) and the Kamaji
    // control-plane provider v0.15.1 (`v0.15.1-cp`); capmox v0.7.x is the last line on contract v1beta1.
    capi: { version: "v1.10.1", contract: "v1beta1" },
    capmox: { version: "v0.7.7", contract: "v1beta1" },
    kamajiProvider: { version: "v0.15.1", contract: "v1beta1" },
    ipamInCluster: { version: "v1.0.3", contract: "v1beta1" },
    api: v1beta1Api,
    // The closest saved schema of KamajiControlPlane v1alpha1 (v0.15.1's is not saved); the
    // generator only emits fields that v0.15 already had, which the real-checkout test proves
    // against v0.15.1's own CRD when the CozyStack checkout is fetched.
    crdSources: v1beta1CrdSources,
    // CozyStack v0.37's tenant chart offers v1.28 to v1.33 (packages/apps/kubernetes files/versions.yaml).
    kubernetes: { minMinor: 28, maxMinor: 33 },
    templateMatchPolicies: ["exact"],
    appValueNames: "v0.37",
    // CozyStack v0.37's `kubernetes` app maps its default minor (v1.32) to this patch release.
    appDefaultVersion: "v1.32.6",
  },
  "cozystack-v1.6": {
    name: "cozystack-v1.6",
    cozystack: { version: "v1.6.2", bundleFormat: "v1-package" },
    // Every CozyStack v1.x so far vendors CAPI core/kubeadm v1.10.1 (contract v1beta1), so capmox
    // stays on the v0.7 line; the Kamaji control-plane provider is v0.19.0-cozystack.0
    // (KamajiControlPlane v1alpha1, shared/reference/crds/kamaji-capi-v0.19.0-*).
    capi: { version: "v1.10.1", contract: "v1beta1" },
    capmox: { version: "v0.7.7", contract: "v1beta1" },
    kamajiProvider: { version: "v0.19.0-cozystack.0", contract: "v1beta1" },
    ipamInCluster: { version: "v1.0.3", contract: "v1beta1" },
    api: v1beta1Api,
    crdSources: v1beta1CrdSources,
    // CozyStack v1.6's tenant chart offers v1.31 to v1.35 (packages/apps/kubernetes, default v1.35).
    kubernetes: { minMinor: 31, maxMinor: 35 },
    templateMatchPolicies: ["exact"],
    appValueNames: "v1.6",
    // v1.6's default; the chart's files/versions.yaml gives its patch (v1.35.6).
    appDefaultVersion: "v1.35",
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
    // Kamaji edge releases paired with provider v0.20 support tenants v1.30.0 to v1.35.0.
    kubernetes: { minMinor: 30, maxMinor: 35 },
    templateMatchPolicies: ["exact", "uniqueSubset", "bestSubset"],
    appValueNames: "v1.6",
    appDefaultVersion: "v1.35",
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

/** What an upstream release line implies: its CAPI contract, its API version, the CAPI minors it works with. */
interface ReleaseLine {
  /** Inclusive `[major, minor]` bounds of the line. */
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly contract: string;
  /** API version the line serves (group/version of `ApiVersions[apiKey]`), when it matters. */
  readonly api?: string;
  /** CAPI core minors (1.x) the line is tested with. */
  readonly capiMinors?: readonly [number, number];
}

// Facts from the providers' metadata.yaml and READMEs (shared/reference/notes/capi.md §0).
const releaseLines: Readonly<Record<"capi" | "capmox" | "kamajiProvider" | "ipamInCluster", readonly ReleaseLine[]>> = {
  capi: [
    { from: [1, 0], to: [1, 10], contract: "v1beta1" },
    { from: [1, 11], to: [1, 99], contract: "v1beta2" },
  ],
  capmox: [
    { from: [0, 1], to: [0, 7], contract: "v1beta1", api: "infrastructure.cluster.x-k8s.io/v1alpha1", capiMinors: [8, 10] },
    { from: [0, 8], to: [0, 8], contract: "v1beta2", api: "infrastructure.cluster.x-k8s.io/v1alpha2", capiMinors: [11, 11] },
    { from: [0, 9], to: [0, 9], contract: "v1beta2", api: "infrastructure.cluster.x-k8s.io/v1alpha2", capiMinors: [11, 12] },
  ],
  kamajiProvider: [
    { from: [0, 1], to: [0, 19], contract: "v1beta1", api: "controlplane.cluster.x-k8s.io/v1alpha1" },
    { from: [0, 20], to: [0, 99], contract: "v1beta2", api: "controlplane.cluster.x-k8s.io/v1alpha2" },
  ],
  ipamInCluster: [
    { from: [1, 0], to: [1, 0], contract: "v1beta1", api: "ipam.cluster.x-k8s.io/v1alpha2" },
    { from: [1, 1], to: [1, 1], contract: "v1beta2", api: "ipam.cluster.x-k8s.io/v1alpha2" },
  ],
};

const apiKeyOf = { capi: "capiCore", capmox: "capmox", kamajiProvider: "kamajiControlPlane", ipamInCluster: "ipam" } as const;

/** `[major, minor]` of a `vX.Y.Z` tag, or undefined. */
export function majorMinor(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.\d+/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function inLine(v: readonly [number, number], line: ReleaseLine): boolean {
  const n = v[0] * 1000 + v[1];
  return n >= line.from[0] * 1000 + line.from[1] && n <= line.to[0] * 1000 + line.to[1];
}

/** Problems of one pinned component against the release line it falls in. */
function componentProblems(p: VersionsProfile, key: keyof typeof releaseLines): string[] {
  const c = p[key];
  const v = majorMinor(c.version);
  const line = v && releaseLines[key].find((l) => inLine(v, l));
  if (!line) return [`${key} ${c.version}: unknown release line`];
  const problems: string[] = [];
  if (line.contract !== c.contract) {
    problems.push(`${key} ${c.version} implements contract ${line.contract}, not ${c.contract}`);
  }
  const api = p.api[apiKeyOf[key]];
  if (line.api && line.api !== api) {
    problems.push(`${key} ${c.version} serves ${line.api} but api.${apiKeyOf[key]} is ${api}`);
  }
  const capiMinor = majorMinor(p.capi.version)?.[1];
  if (line.capiMinors && capiMinor !== undefined) {
    const [lo, hi] = line.capiMinors;
    if (capiMinor < lo || capiMinor > hi) {
      problems.push(`${key} ${c.version} works with capi v1.${lo}..v1.${hi} but capi is ${p.capi.version}`);
    }
  }
  return problems;
}

/**
 * Refuses a profile whose pins do not go together: every CAPI provider must implement the
 * contract of CAPI core, each pinned release must implement the contract and serve the API
 * version the profile claims, and capmox must be a line tested with the pinned CAPI minor.
 * Each problem names both sides.
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
  for (const key of Object.keys(releaseLines) as (keyof typeof releaseLines)[]) {
    problems.push(...componentProblems(p, key));
  }
  for (const key of ["capiCore", "capiBootstrap"] as const) {
    if (p.api[key].split("/")[1] !== p.capi.contract) {
      problems.push(`api.${key} ${p.api[key]} does not match capi contract ${p.capi.contract}`);
    }
  }
  if (p.kubernetes.minMinor > p.kubernetes.maxMinor) {
    problems.push(`kubernetes range v1.${p.kubernetes.minMinor}..v1.${p.kubernetes.maxMinor} is empty`);
  }
  if (problems.length > 0) {
    throw new Error(`profile ${p.name} is incoherent: ${problems.join("; ")}`);
  }
}
