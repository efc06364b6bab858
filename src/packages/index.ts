/**
 * CozyStack v1.x packages for Proxmox (profile `cozystack-v1.6`): our PackageSources and
 * their charts, the Flux source they come from, their Packages and the platform Package,
 * checked as a graph together with CozyStack v1.6.2's own packages before anything is written.
 */
import type { PlatformConfig } from "../config/index.js";
import { appChart } from "../cozystack/app/index.js";
import { systemChart, type ChartOrigin, type OverlayOptions } from "../cozystack/index.js";
import { underDir, yamlText, type ChartFiles } from "../cozystack/charts/files.js";
import { definitionChartDir, appChartName } from "../cozystack/app/names.js";
import type { KubeObject } from "../cozystack/app/index.js";
import { getProfile } from "../versions/index.js";
import { applicationDefinitionChart } from "./application-definition.js";
import { checkPackages, kubevirtReason, type InstalledPackage } from "./checks.js";
import { fluxSource, packageObject, packageSourceObject, platformPackage, platformPackageValues, type PackageSet } from "./objects.js";
import { ourPackageSources } from "./ours.js";
import { platformPackages, platformValues, type PlatformRender } from "./platform-model.js";
import { loadPlatformSources, type PackageSourceDef } from "./source.js";
import { packagesReadme } from "./readme.js";

export { applicationDefinition, applicationDefinitionChart } from "./application-definition.js";
export { checkPackages, kubevirtReason, type InstalledPackage } from "./checks.js";
export { evaluate } from "./conditions.js";
export { fluxSource, packageObject, packageSourceObject, platformPackage, platformPackageName, platformPackageValues, type PackageSet } from "./objects.js";
export * from "./ours.js";
export { mergeValues, platformPackages, platformValues, type PlatformPackage, type PlatformRender, type SkippedPackage } from "./platform-model.js";
export { loadPlatformSources, platformChartDir, type PackageSourceDef, type PackageVariant } from "./source.js";

/** The folder synth writes for profile cozystack-v1.6, relative to the output folder. */
export const packagesOutDir = "cozystack-v1.6";

/** The package set failed its checks; `problems` lists every one. */
export class PackagesError extends Error {
  override readonly name = "PackagesError";
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`the CozyStack v1.6 package set has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  ${p}`).join("\n")}`, options);
  }
}

function settingsProblems(config: PlatformConfig, platformSources: readonly PackageSourceDef[]): string[] {
  const known = new Set(platformSources.map((s) => s.name));
  const v1 = config.cozystackV1!;
  const problems: string[] = [];
  for (const key of ["enabledPackages", "disabledPackages"] as const) {
    v1[key].forEach((n, i) => {
      if (!known.has(n)) problems.push(`cozystackV1.${key}[${i}]: ${JSON.stringify(n)} is no package of CozyStack v1.6.2 (platform chart sources/)`);
    });
  }
  return problems;
}

/** Builds and checks the package set; throws PackagesError listing every problem. */
export function packageSet(config: PlatformConfig): PackageSet {
  const profile = getProfile(config.profile);
  const v1 = config.cozystackV1;
  if (profile.cozystack.bundleFormat !== "v1-package" || profile.name !== "cozystack-v1.6") {
    throw new PackagesError([`profile: ${JSON.stringify(config.profile)} targets CozyStack ${profile.cozystack.version}; the v1.x packages are for profile cozystack-v1.6`]);
  }
  if (!v1) throw new PackagesError(["cozystackV1: is required by profile cozystack-v1.6"]);
  const platformSources = loadPlatformSources();
  const ours = ourPackageSources(v1);
  // What KubeVirt the chart would install with the user's lists, then the same with those disabled too.
  const first = platformPackages(platformValues(v1.variant, platformPackageValues(config, v1.disabledPackages)));
  const byName = new Map(platformSources.map((s) => [s.name, s]));
  const kubevirt = first.packages
    .filter((p) => kubevirtReason(p.name, byName.get(p.name)?.variants.find((v) => v.name === p.variant)))
    .map((p) => p.name)
    .filter((n) => !v1.disabledPackages.includes(n))
    .sort();
  const disabled = [...v1.disabledPackages, ...kubevirt];
  const values = platformPackageValues(config, disabled);
  const platform = platformPackages(platformValues(v1.variant, values));
  const installed: InstalledPackage[] = [
    ...platform.packages.map((p) => ({ name: p.name, variant: p.variant, from: `platform chart ${p.file}` })),
    ...ours.map((o) => ({ name: o.source.name, variant: o.variant, from: "our Packages" })),
  ];
  const leftOut = (name: string): string | undefined => {
    const s = platform.skipped.find((k) => k.name === name);
    if (!s) return undefined;
    return s.why === "disabled" ? "is in bundles.disabledPackages" : s.why === "not enabled" ? "is optional and not in cozystackV1.enabledPackages" : `is not rendered for variant ${v1.variant} (${s.file})`;
  };
  const problems = [
    ...settingsProblems(config, platformSources),
    ...checkPackages([...platformSources, ...ours.map((o) => o.source)], installed, leftOut),
  ];
  if (problems.length > 0) throw new PackagesError(problems);
  return {
    fluxSource: fluxSource(v1),
    packageSources: ours.map((o) => packageSourceObject(o.source)),
    packages: ours.map((o) => packageObject(o.source.name, o.variant)),
    platformPackage: platformPackage(config, disabled),
    platform,
    kubevirtDisabled: kubevirt,
  };
}

const documents = (objects: readonly KubeObject[]): string =>
  `# Code generated by \`npm run synth\`; DO NOT EDIT.\n${objects.map((o) => `---\n${yamlText(o)}`).join("")}`;

/** The charts folder to publish: `system/<dir>` per installed component, `apps/<chart>` for the application. */
function chartsFolder(config: PlatformConfig, options: OverlayOptions): { files: ChartFiles; origins: Map<string, ChartOrigin> } {
  const files: ChartFiles = new Map();
  const origins = new Map<string, ChartOrigin>();
  for (const { source } of ourPackageSources(config.cozystackV1!)) {
    for (const c of source.variants.flatMap((v) => v.components)) {
      const dir = c.path.split("/")[1]!;
      let chart: { files: ChartFiles; kind: ChartOrigin };
      if (c.path.startsWith("apps/")) chart = { files: appChart(config), kind: "component" };
      else if (dir === definitionChartDir) chart = { files: applicationDefinitionChart(config), kind: "component" };
      else chart = systemChart(dir, config, options);
      origins.set(c.path, chart.kind);
      for (const [p, content] of underDir(c.path, chart.files)) files.set(p, content);
    }
  }
  return { files, origins };
}

/**
 * Every file of `dist/cozystack-v1.6/`, keyed by path relative to it: `packages/` (the folder
 * to publish as the Flux source), `manifests/` (the objects to apply), README.md. Writes nothing.
 */
export function renderPackages(config: PlatformConfig, options: OverlayOptions = {}): Map<string, string | Buffer> {
  const set = packageSet(config);
  const { files: charts, origins } = chartsFolder(config, options);
  const files = new Map<string, string | Buffer>(underDir("packages", charts));
  files.set("manifests/flux-source.yaml", documents([set.fluxSource]));
  files.set("manifests/package-sources.yaml", documents(set.packageSources));
  files.set("manifests/packages.yaml", documents(set.packages));
  files.set("manifests/platform.yaml", documents([set.platformPackage]));
  files.set("README.md", packagesReadme(config, set, origins, appChartName));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
