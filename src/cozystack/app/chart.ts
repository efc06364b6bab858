/**
 * The app chart `kubernetes-proxmox` lives in the repository as chart files
 * (charts/kubernetes-proxmox: Chart.yaml, values.yaml, values.schema.json, templates/), linted
 * by helm and held against src/capi's constructs by the equivalence matrix
 * (src/tests/integration/app). The overlay gets a copy, whose values.yaml carries the
 * platform's Proxmox settings as defaults. Reads files; writes nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { requireProfile } from "../../capi/index.js";
import type { PlatformConfig } from "../../config/index.js";
import { repoRoot } from "../../paths.js";
import { getProfile } from "../../versions/index.js";
import { yamlText, type ChartFiles } from "../charts/files.js";
import { appChartName } from "./names.js";
import { chartValuesSchema } from "./schema.js";
import { defaultValues } from "./values.js";

/** The chart's folder in the repository. */
export const appChartDir = (): string => join(repoRoot, "charts", appChartName);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** values.yaml for a platform: each top-level key under its schema description. */
export function platformValuesYaml(config: PlatformConfig): string {
  const props = chartValuesSchema().properties as Record<string, { description?: string }>;
  const blocks = Object.entries(defaultValues(config)).map(([key, value]) => `# ${props[key]?.description ?? key}\n${yamlText({ [key]: value })}`);
  const nodeGroups = [
    `# ${props.nodeGroups?.description ?? "nodeGroups"}`,
    "# Not set here: Helm merges maps, so a default group would join every user's groups.",
    "# nodeGroups:",
    "#   md0:",
    "#     minReplicas: 1",
    "#     maxReplicas: 3",
    "#     resources: {cpu: 2, memory: 4Gi}",
    "#     ephemeralStorage: 20Gi",
    "#     roles: [ingress-nginx]",
  ].join("\n");
  return `# Defaults: the Proxmox settings of the platform config \`npm run synth\` read.\n\n${[...blocks, nodeGroups].join("\n")}\n`;
}

/**
 * Every file of the app chart for a platform, relative to its folder: the repository's
 * chart with values.yaml written from the platform config. Throws when the config's profile
 * is not the one the chart's API versions are written for, or cannot be expressed as values.
 */
export function appChart(config: PlatformConfig): ChartFiles {
  // The chart mirrors the constructs: it supports exactly the API shapes they do.
  requireProfile(getProfile(config.profile));
  const dir = appChartDir();
  const files: ChartFiles = new Map();
  for (const path of filesUnder(dir)) files.set(path, path === "values.yaml" ? platformValuesYaml(config) : readFileSync(join(dir, path), "utf8"));
  return files;
}
