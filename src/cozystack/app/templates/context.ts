/** What the chart's templates take from the rest of the project: API versions, chart names, shared constants. */
import type { PlatformConfig } from "../../../config/types.js";
import { getProfile, type ApiVersions } from "../../../versions/index.js";
import { requireProfile } from "../../../capi/index.js";
import { overlayCharts } from "../../charts/catalog.js";
import { ccmChartDir, proxmoxCcmValues } from "../../charts/proxmox-ccm.js";
import { csiChartDir } from "../../charts/proxmox-csi.js";
import { ccmChartPin, csiChartPin } from "../../vendor/pins.js";

export interface TemplateContext {
  /** apiVersions of the versions profile. */
  readonly api: ApiVersions;
  /** The overlay's Proxmox CCM system chart and the key its upstream chart's values live under. */
  readonly ccm: { readonly chart: string; readonly valuesKey: string };
  readonly csi: { readonly chart: string; readonly valuesKey: string };
  /** `config.features` of the Proxmox plugins, as the overlay's system charts set it. */
  readonly pluginFeatures: unknown;
}

function systemChart(dir: string): string {
  const chart = overlayCharts.find((c) => c.dir === dir);
  if (!chart) throw new Error(`the overlay has no system chart packages/system/${dir}`);
  return chart.chart;
}

export function templateContext(config: PlatformConfig): TemplateContext {
  const profile = getProfile(config.profile);
  // The chart mirrors the constructs: it supports exactly the API shapes they do.
  requireProfile(profile);
  const ccmConfig = proxmoxCcmValues(config).config as { features?: unknown };
  return {
    api: profile.api,
    ccm: { chart: systemChart(ccmChartDir), valuesKey: ccmChartPin.name },
    csi: { chart: systemChart(csiChartDir), valuesKey: csiChartPin.name },
    pluginFeatures: ccmConfig.features,
  };
}
