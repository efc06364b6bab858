/**
 * Graph checks on a bundle's releases under given enable/disable settings, before the
 * bundle is written. The platform chart checks none of this: a dependsOn target that is
 * missing or left out leaves the HelmRelease at "dependency not ready" forever, an unknown
 * chart fails with "chart not found", a missing privileged label fails pods at admission.
 */
import type { GraphRelease } from "./release.js";

export interface InstallSettings {
  /** `bundle-enable`: optional releases to install. */
  readonly enable: readonly string[];
  /** `bundle-disable`: releases to leave out. */
  readonly disable: readonly string[];
  /** `oidc-enabled == "true"`: the keycloak releases are installed only then. @default false */
  readonly oidcEnabled?: boolean;
}

export interface ChartFacts {
  /** Where the chart comes from, for messages (e.g. "CozyStack v0.37.10", "overlay"). */
  readonly source: string;
  /** Its pods need a privileged namespace. */
  readonly privileged: boolean;
}

const keycloakReleases = ["keycloak", "keycloak-operator", "keycloak-configure"];
const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== "" && v !== 0;

/** Why the platform chart would not install a release under the settings, or undefined. */
export function leftOutBecause(r: GraphRelease, s: InstallSettings): string | undefined {
  if (keycloakReleases.includes(r.name) && !s.oidcEnabled) return "is installed only when oidc-enabled is \"true\"";
  if (s.disable.includes(r.name)) return "is left out by cozystack.bundleDisable";
  if (truthy(r.optional) && !s.enable.includes(r.name)) return "is optional and not in cozystack.bundleEnable";
  return undefined;
}

function duplicateProblems(releases: readonly GraphRelease[]): string[] {
  const counts = new Map<string, number>();
  for (const r of releases) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([name, n]) => `release ${name}: the name appears ${n} times`);
}

function dependencyProblems(releases: readonly GraphRelease[], s: InstallSettings): string[] {
  const byName = new Map(releases.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const r of releases) {
    // A missing target is wrong whether or not the release is installed today: enabling it
    // later only takes a ConfigMap change.
    const installed = !leftOutBecause(r, s);
    for (const dep of r.dependsOn ?? []) {
      const target = byName.get(dep);
      if (!target) {
        problems.push(`release ${r.name}: dependsOn ${dep}, which is not in the bundle`);
        continue;
      }
      const why = installed ? leftOutBecause(target, s) : undefined;
      if (why) problems.push(`release ${r.name}: dependsOn ${dep}, which ${why}`);
    }
  }
  // The platform chart's apps.yaml makes tenant-root wait for the releases named cilium and kubeovn.
  for (const name of ["cilium", "kubeovn"]) {
    const target = byName.get(name);
    const why = target && leftOutBecause(target, s);
    if (why) problems.push(`tenant-root (platform chart apps.yaml): dependsOn ${name}, which ${why}`);
  }
  return problems;
}

/** Every dependency cycle once, as `a -> b -> a`, starting at its smallest name. */
function cycleProblems(releases: readonly GraphRelease[]): string[] {
  const edges = new Map(releases.map((r) => [r.name, (r.dependsOn ?? []).filter((d) => releases.some((x) => x.name === d))]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const cycles = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of edges.get(name) ?? []) {
      if (state.get(dep) === "visiting") {
        const loop = stack.slice(stack.indexOf(dep));
        const first = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(first), ...loop.slice(0, first)];
        cycles.add(`dependency cycle: ${[...rotated, rotated[0]].join(" -> ")}`);
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const name of [...edges.keys()].sort()) if (!state.has(name)) visit(name);
  return [...cycles].sort();
}

function chartProblems(releases: readonly GraphRelease[], charts: ReadonlyMap<string, ChartFacts>, s: InstallSettings): string[] {
  const privilegedNs = new Set(releases.filter((r) => truthy(r.privileged)).map((r) => r.namespace));
  const problems: string[] = [];
  for (const r of releases) {
    const facts = charts.get(r.chart);
    if (!facts) {
      problems.push(`release ${r.name}: chart ${r.chart} is neither a CozyStack v0.37.10 system chart (system-charts.tsv) nor an overlay chart`);
    } else if (facts.privileged && !privilegedNs.has(r.namespace) && !leftOutBecause(r, s)) {
      problems.push(
        `release ${r.name}: chart ${r.chart} (${facts.source}) needs a privileged namespace, but no release in ${r.namespace} is privileged: true`,
      );
    }
  }
  return problems;
}

/**
 * All problems of a release list: duplicate names, dependencies that are missing or not
 * installed under the settings (optional ones included), cycles, unknown charts, and
 * privileged charts in namespaces the platform chart would not mark privileged.
 */
export function checkReleases(
  releases: readonly GraphRelease[],
  settings: InstallSettings,
  charts: ReadonlyMap<string, ChartFacts>,
): string[] {
  return [
    ...duplicateProblems(releases),
    ...dependencyProblems(releases, settings),
    ...cycleProblems(releases),
    ...chartProblems(releases, charts, settings),
  ];
}

/** Names in the enable/disable lists and value overrides that are no release of the bundle. */
export function settingsProblems(
  names: ReadonlySet<string>,
  settings: { readonly bundleEnable: readonly string[]; readonly bundleDisable: readonly string[]; readonly values: Readonly<Record<string, unknown>> },
): string[] {
  const problems: string[] = [];
  const unknown = (path: string, name: string): void => {
    if (!names.has(name)) problems.push(`${path}: ${JSON.stringify(name)} is not a release of the paas-proxmox bundle`);
  };
  settings.bundleEnable.forEach((n, i) => unknown(`cozystack.bundleEnable[${i}]`, n));
  settings.bundleDisable.forEach((n, i) => unknown(`cozystack.bundleDisable[${i}]`, n));
  for (const n of Object.keys(settings.values)) unknown(`cozystack.values.${n}`, n);
  return problems;
}
