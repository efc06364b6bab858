/**
 * Graph checks on a v1.x package set before anything is written: the platform chart and the
 * operator check none of this. A `dependsOn` on a package that is not installed leaves the
 * dependent Package at DependenciesNotReady forever; a Package whose PackageSource or variant
 * is missing never reconciles; a KubeVirt package needs hardware virtualisation the Proxmox
 * VMs of a management cluster do not have. Every problem names where it is.
 */
import type { PackageSourceDef, PackageVariant } from "./source.js";

/** A Package that will exist: its name (= its PackageSource's), variant, and who makes it. */
export interface InstalledPackage {
  readonly name: string;
  readonly variant: string;
  /** e.g. `platform chart templates/bundles/iaas.yaml`, `dist/…/packages.yaml`. */
  readonly from: string;
}

/** Why a package counts as KubeVirt's, or undefined. */
export function kubevirtReason(name: string, variant: PackageVariant | undefined): string | undefined {
  if (/kubevirt/.test(name)) return "its name";
  if (variant?.name === "kubevirt") return "its variant kubevirt";
  const component = variant?.components.find((c) => /kubevirt/.test(c.path));
  return component ? `component ${component.name} (${component.path})` : undefined;
}

function duplicates(names: readonly { name: string; from: string }[], what: string): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const n of names) {
    const first = seen.get(n.name);
    if (first) problems.push(`${what} ${n.name}: defined by ${first} and again by ${n.from}`);
    else seen.set(n.name, n.from);
  }
  return problems;
}

function cycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const found = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of edges.get(name) ?? []) {
      if (!edges.has(dep)) continue;
      if (state.get(dep) === "visiting") {
        const loop = stack.slice(stack.indexOf(dep));
        const first = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(first), ...loop.slice(0, first)];
        found.add(`dependency cycle: ${[...rotated, rotated[0]].join(" -> ")}`);
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const name of [...edges.keys()].sort()) if (!state.has(name)) visit(name);
  return [...found].sort();
}

function componentProblems(source: PackageSourceDef, variant: PackageVariant, vi: number): string[] {
  const at = `PackageSource ${source.name} (${source.origin}): spec.variants[${vi}] (${variant.name})`;
  const installed = new Set(variant.components.filter((c) => c.install).map((c) => c.name));
  const problems = duplicates(variant.components.map((c, i) => ({ name: c.name, from: `components[${i}]` })), `${at}: component`);
  variant.components.forEach((c, ci) =>
    (c.install?.dependsOn ?? []).forEach((d, di) => {
      if (!installed.has(d)) problems.push(`${at}.components[${ci}].install.dependsOn[${di}]: ${JSON.stringify(d)} is no installed component of this variant`);
    }),
  );
  return problems;
}

/**
 * Every problem of the package set: PackageSource and Package names unique; each Package's
 * PackageSource and variant exist; every `dependsOn` of an installed variant names an
 * installed Package (the reason is said when the chart leaves it out); no cycle; no
 * KubeVirt package installed; component dependencies inside a variant resolve.
 * `leftOut` tells why a known package is not installed (e.g. "is in bundles.disabledPackages").
 */
export function checkPackages(
  sources: readonly PackageSourceDef[],
  installed: readonly InstalledPackage[],
  leftOut: (name: string) => string | undefined,
): string[] {
  const problems = [...duplicates(sources.map((s) => ({ name: s.name, from: s.origin })), "PackageSource"), ...duplicates(installed, "Package")];
  const byName = new Map(sources.map((s) => [s.name, s]));
  const installedNames = new Set(installed.map((p) => p.name));
  const edges = new Map<string, readonly string[]>();
  for (const p of installed) {
    const source = byName.get(p.name);
    if (!source) {
      problems.push(`Package ${p.name} (${p.from}): no PackageSource of that name`);
      continue;
    }
    const vi = source.variants.findIndex((v) => v.name === p.variant);
    const variant = source.variants[vi];
    if (!variant) {
      problems.push(`Package ${p.name} (${p.from}): spec.variant ${JSON.stringify(p.variant)} is no variant of its PackageSource (${source.variants.map((v) => v.name).join(", ")})`);
      continue;
    }
    const kubevirt = kubevirtReason(p.name, variant);
    if (kubevirt) problems.push(`Package ${p.name} (${p.from}): installs KubeVirt (${kubevirt}), which Proxmox platforms leave out`);
    problems.push(...componentProblems(source, variant, vi));
    edges.set(p.name, variant.dependsOn ?? []);
    (variant.dependsOn ?? []).forEach((dep, di) => {
      if (installedNames.has(dep)) return;
      const where = `PackageSource ${source.name} (${source.origin}): spec.variants[${vi}] (${variant.name}).dependsOn[${di}]`;
      const why = byName.has(dep) ? (leftOut(dep) ?? "is not installed") : "is no PackageSource of CozyStack v1.6.2 or ours";
      problems.push(`${where}: ${dep}, which ${why}`);
    });
  }
  return [...problems, ...cycles(edges)];
}
