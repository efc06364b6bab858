/**
 * packages/system/capi-providers-ipam-in-cluster: the in-cluster IPAM provider as an
 * IPAMProvider of the CAPI operator, with the real release components. capmox has no DHCP
 * mode; every machine address comes from an InClusterIPPool this provider serves.
 */
import { ipamPins } from "../artifacts/pins.js";
import { readPinnedFile, VendorError } from "../artifacts/store.js";
import { capiProviderChart } from "./capi-provider.js";
import type { ChartFiles } from "./files.js";

export const ipamChartDir = "capi-providers-ipam-in-cluster";

export function ipamChart(ipamVersion: string, vendorDir?: string): ChartFiles {
  const pin = ipamPins[ipamVersion];
  if (!pin) throw new VendorError(`in-cluster IPAM ${ipamVersion}: no pinned release components (pinned: ${Object.keys(ipamPins).join(", ")})`);
  return capiProviderChart({
    dir: ipamChartDir,
    description: `Cluster API in-cluster IPAM provider ${pin.version} for the CAPI operator`,
    namespace: "cozy-cluster-api",
    kind: "IPAMProvider",
    providerName: "in-cluster",
    releaseTag: pin.version,
    versionSuffix: "ipam-in-cluster",
    selectorLabel: "ipamprovider-in-cluster-components",
    components: readPinnedFile(pin.components, vendorDir),
    metadata: readPinnedFile(pin.metadata, vendorDir),
    componentsUrl: pin.components.url,
    componentsSha256: pin.components.sha256,
    resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "10m", memory: "64Mi" } },
    valuesComment: ["In-cluster IPAM provider: serves InClusterIPPool / GlobalInClusterIPPool address claims."],
  });
}
