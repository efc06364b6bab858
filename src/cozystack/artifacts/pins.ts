/**
 * Upstream artifacts the overlay carries, pinned by URL and SHA-256. The capmox and
 * in-cluster IPAM release assets have published sums (shared/reference/vendor/README.md);
 * the Proxmox CSI and CCM Helm charts have none, so the vendor step records the sum of the
 * first pull in charts.lock.json and verifies every later pull against it.
 */

/** One release asset, stored under `<vendor dir>/<path>`. */
export interface FilePin {
  /** Path inside a vendor directory, e.g. `capmox-v0.7.7/metadata.yaml`. */
  readonly path: string;
  readonly url: string;
  readonly sha256: string;
}

/** The components and metadata of one Cluster API provider release. */
export interface ProviderPin {
  readonly version: string;
  readonly components: FilePin;
  readonly metadata: FilePin;
}

/** An upstream Helm chart pulled from an OCI registry. */
export interface ChartPin {
  readonly name: string;
  readonly version: string;
  readonly appVersion: string;
  /** OCI repository, without the chart name. */
  readonly repository: string;
  /** Path inside a vendor directory: `charts/<name>-<version>.tgz`. */
  readonly path: string;
}

const capmoxRelease = "https://github.com/ionos-cloud/cluster-api-provider-proxmox/releases/download";
const ipamRelease = "https://github.com/kubernetes-sigs/cluster-api-ipam-provider-in-cluster/releases/download";

/** capmox releases by tag. */
export const capmoxPins: Readonly<Record<string, ProviderPin>> = {
  "v0.7.7": {
    version: "v0.7.7",
    components: {
      path: "capmox-v0.7.7/infrastructure-components.yaml",
      url: `${capmoxRelease}/v0.7.7/infrastructure-components.yaml`,
      sha256: "831e3debeb677e9a73183dc858e9fd673f4346c18dafeb4cddee62823c059589",
    },
    metadata: {
      path: "capmox-v0.7.7/metadata.yaml",
      url: `${capmoxRelease}/v0.7.7/metadata.yaml`,
      sha256: "66a57b6865ed68cf4edf460dfa4c75fa7ff80f27e519a9a062cafceeabb88500",
    },
  },
};

/** cluster-api-ipam-provider-in-cluster releases by tag. */
export const ipamPins: Readonly<Record<string, ProviderPin>> = {
  "v1.0.3": {
    version: "v1.0.3",
    components: {
      path: "ipam-in-cluster-v1.0.3/ipam-components.yaml",
      url: `${ipamRelease}/v1.0.3/ipam-components.yaml`,
      sha256: "e3247a458e66e1eeca8bda05a6dfaa882dae29785072f41e7cf071ff8c70f695",
    },
    metadata: {
      path: "ipam-in-cluster-v1.0.3/metadata.yaml",
      url: `${ipamRelease}/v1.0.3/metadata.yaml`,
      sha256: "dc1ebd036645e0e87e99dab275c312cf8f8f38aa68a12bc01ad2b1dd1d6bf20e",
    },
  },
};

const chartPin = (name: string, version: string, appVersion: string): ChartPin => ({
  name,
  version,
  appVersion,
  repository: "oci://ghcr.io/sergelogvinov/charts",
  path: `charts/${name}-${version}.tgz`,
});

/** The Proxmox CSI plugin and CCM charts, at the versions packaged for CozyStack. */
export const csiChartPin = chartPin("proxmox-csi-plugin", "0.5.12", "v0.20.0");
export const ccmChartPin = chartPin("proxmox-cloud-controller-manager", "0.2.30", "v0.15.0");
export const chartPins: readonly ChartPin[] = [csiChartPin, ccmChartPin];
