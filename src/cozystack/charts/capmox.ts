/**
 * packages/system/capi-providers-infraprovider-proxmox: capmox (Cluster API provider for
 * Proxmox VE) as an InfrastructureProvider of the CAPI operator, with the real release
 * components. Credentials reach it through `configSecret`; TLS is verified unless the
 * platform config says insecure.
 */
import type { PlatformConfig } from "../../config/index.js";
import { capmoxPins } from "../artifacts/pins.js";
import { readPinnedFile, VendorError } from "../artifacts/store.js";
import { capiProviderChart } from "./capi-provider.js";
import type { ChartFiles } from "./files.js";

export const capmoxChartDir = "capi-providers-infraprovider-proxmox";

/** Default name of the Secret with PROXMOX_URL, PROXMOX_TOKEN and PROXMOX_SECRET. */
export const capmoxConfigSecret = "capmox-credentials";

export function capmoxChart(config: PlatformConfig, capmoxVersion: string, vendorDir?: string): ChartFiles {
  const pin = capmoxPins[capmoxVersion];
  if (!pin) throw new VendorError(`capmox ${capmoxVersion}: no pinned release components (pinned: ${Object.keys(capmoxPins).join(", ")})`);
  return capiProviderChart({
    dir: capmoxChartDir,
    description: `Cluster API infrastructure provider for Proxmox VE (capmox ${pin.version}) for the CAPI operator`,
    namespace: "cozy-cluster-api",
    kind: "InfrastructureProvider",
    providerName: "proxmox",
    releaseTag: pin.version,
    versionSuffix: "infraprovider-proxmox",
    selectorLabel: "infraprovider-proxmox-components",
    components: readPinnedFile(pin.components, vendorDir),
    metadata: readPinnedFile(pin.metadata, vendorDir),
    componentsUrl: pin.components.url,
    componentsSha256: pin.components.sha256,
    configSecretName: capmoxConfigSecret,
    // capmox defaults to --proxmox-insecure=true; verification stays on unless the config says insecure.
    managerArgs: { "--proxmox-insecure": String(config.proxmox.tls.insecure) },
    resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "10m", memory: "64Mi" } },
    valuesComment: [
      "configSecret: Secret in the release namespace (cozy-cluster-api) that the CAPI operator",
      "substitutes into the capmox components. Create it before the release installs:",
      `  kubectl -n cozy-cluster-api create secret generic ${capmoxConfigSecret} \\`,
      `    --from-literal=PROXMOX_URL=${config.proxmox.url} \\`,
      `    --from-literal=PROXMOX_TOKEN='${config.proxmox.tokenId}' \\`,
      "    --from-literal=PROXMOX_SECRET=<token secret>",
      "With any of the three empty capmox starts without a global client and every",
      "ProxmoxCluster needs spec.credentialsRef (keys url, token, secret, insecure, root_ca).",
      "capmox v0.7 reads a private CA only from credentialsRef (root_ca), not from here.",
    ],
  });
}
