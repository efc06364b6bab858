/**
 * The app chart's table of patch releases (charts/kubernetes-proxmox/files/versions.yaml,
 * CozyStack v1.6.2's own): what a v1.6 `version: vMAJOR.MINOR` runs. Read from the chart,
 * so the chart and synth never disagree about it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../../paths.js";
import { appChartName } from "./names.js";

let cached: Readonly<Record<string, string>> | undefined;

/** `vMAJOR.MINOR` → `vMAJOR.MINOR.PATCH`, as the chart maps it. */
export function chartPatchReleases(): Readonly<Record<string, string>> {
  cached ??= parse(readFileSync(join(repoRoot, "charts", appChartName, "files", "versions.yaml"), "utf8")) as Record<string, string>;
  return cached;
}

/**
 * A tenant's version in CozyStack v1.6's spelling: `vMAJOR.MINOR` when the chart maps that
 * minor to exactly this release, else the full release (the chart takes both), so the
 * object renders the same Kubernetes version as the tenant's constructs.
 */
export function v16Version(version: string): string {
  const minor = /^(v\d+\.\d+)\.\d+$/.exec(version)?.[1];
  return minor !== undefined && chartPatchReleases()[minor] === version ? minor : version;
}
