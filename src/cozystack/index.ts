export { overlayChart, overlayCharts, type OverlayChart } from "../bundles/overlay-charts.js";
export { capmoxConfigSecret } from "./charts/capmox.js";
export { ccmCredentialsSecret, proxmoxCcmValues } from "./charts/proxmox-ccm.js";
export { csiCredentialsSecret, csiStorageClass, proxmoxCsiValues } from "./charts/proxmox-csi.js";
export { proxmoxCaConfigMap } from "./charts/proxmox-access.js";
export { bundleName, cozystackConfigMapData, cozystackConfigMapYaml } from "./configmap.js";
export { bundlePath, OverlayError, renderOverlay, systemChart, upstreamChartStatus, type ChartOrigin, type OverlayOptions, type StandInRequest } from "./overlay.js";
export { checkoutPatches, hunkSides, patchPath, renderPatch, type FilePatch, type Hunk } from "./patch.js";
export { capmoxPins, ccmChartPin, chartPins, csiChartPin, ipamPins, type ChartPin, type FilePin, type ProviderPin } from "./artifacts/pins.js";
export {
  chartLockPath,
  defaultVendorDir,
  readChartLock,
  readPinnedFile,
  readVendoredChart,
  referenceVendorDir,
  sha256,
  VendorError,
  verifySha256,
} from "./artifacts/store.js";
export { allFilePins, vendorAll, type VendorOptions, type VendorResult } from "./artifacts/vendor.js";
