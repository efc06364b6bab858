/**
 * The tenant Kubernetes application on Proxmox: the app chart (`packages/apps/kubernetes-proxmox`),
 * the CozystackResourceDefinition that serves it as `Kubernetes` (apps.cozystack.io), its
 * system chart and bundle release, and the per-tenant custom resources.
 */
import type { PlatformConfig } from "../../config/index.js";
import { underDir } from "../charts/files.js";
import { appChart } from "./chart.js";
import { appChartPath } from "./names.js";

export { appChart, appChartDir, platformValuesYaml } from "./chart.js";
export { releaseName, renderTenantResources, tenantResource } from "./custom-resource.js";
export * from "./names.js";
export { resourceDefinition, resourceDefinitionChart, type KubeObject } from "./resource-definition.js";
export { chartValuesSchema, valuesSchema, type JsonSchema } from "./schema.js";
export { AppValuesError, defaultValues, memoryQuantity, tenantValues, type Values } from "./values.js";
export { chartPatchReleases, v16Version } from "./versions.js";

/**
 * The app chart's files, keyed by path inside `dist/cozystack/` (`packages/apps/kubernetes-proxmox/…`).
 * Its definition chart (`packages/system/kubernetes-proxmox-rd`) is an overlay system chart:
 * `resourceDefinitionChart`, installed by the bundle release `definitionRelease` (src/bundles/composition.ts).
 */
export function renderAppFiles(config: PlatformConfig): Map<string, string | Buffer> {
  return underDir(appChartPath, appChart(config));
}
