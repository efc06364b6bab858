/**
 * The values schema of the app chart is the chart's own values.schema.json: Helm enforces it
 * on every install, upgrade, lint and template; the CozystackResourceDefinition carries it
 * (with the platform's defaults added, for the dashboard) as the kind's openAPISchema; the
 * TypeScript side validates with it. Rules a schema cannot say (memory a multiple of 8 MiB,
 * min ≤ replicas ≤ max, CPUs a multiple of sockets, name lengths) are the templates' `fail`s.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../paths.js";
import type { PlatformConfig } from "../../config/index.js";
import { appChartName } from "./names.js";
import { defaultValues } from "./values.js";

export type JsonSchema = Record<string, unknown>;

let cached: string | undefined;

/** charts/kubernetes-proxmox/values.schema.json, parsed (a fresh copy each call). */
export function chartValuesSchema(): JsonSchema {
  cached ??= readFileSync(join(repoRoot, "charts", appChartName, "values.schema.json"), "utf8");
  return JSON.parse(cached) as JsonSchema;
}

/** The chart's schema with each top-level default of the platform's values.yaml (editors and the dashboard show them). */
export function valuesSchema(config: PlatformConfig): JsonSchema {
  const schema = chartValuesSchema();
  const props = schema.properties as Record<string, JsonSchema>;
  for (const [key, value] of Object.entries(defaultValues(config))) {
    const prop = props[key];
    if (prop) props[key] = { ...prop, default: value };
  }
  return schema;
}
