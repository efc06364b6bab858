/**
 * PackageSources (`cozystack.io/v1alpha1`, cluster-scoped) as data: CozyStack v1.6.2's own,
 * read from its platform chart's `sources/*.yaml` in the reference release files, and the
 * shape ours are written in. Only the fields the graph checks and the emitter need are typed;
 * the Go types are `release/api/v1alpha1/packagesource_types.go`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { referencePath } from "../paths.js";

export interface ComponentInstall {
  readonly namespace?: string;
  readonly releaseName?: string;
  readonly privileged?: boolean;
  /** Components of the same variant installed first. */
  readonly dependsOn?: readonly string[];
}

export interface PackageComponent {
  readonly name: string;
  /** Folder of the chart, relative to the source's `path`. */
  readonly path: string;
  /** Absent: the chart is only published (an application chart cozystack-api installs), not installed by the operator. */
  readonly install?: ComponentInstall;
  readonly libraries?: readonly string[];
}

export interface PackageVariant {
  readonly name: string;
  /** Packages that must be Ready first. @default [] */
  readonly dependsOn?: readonly string[];
  readonly libraries?: readonly { readonly name: string; readonly path: string }[];
  readonly components: readonly PackageComponent[];
}

export interface SourceRef {
  readonly kind: "OCIRepository" | "GitRepository";
  readonly name: string;
  readonly namespace: string;
  readonly path?: string;
}

/** One PackageSource and where it was read or made (for messages). */
export interface PackageSourceDef {
  readonly name: string;
  readonly origin: string;
  readonly sourceRef: SourceRef;
  readonly variants: readonly PackageVariant[];
}

/** CozyStack v1.6.2's platform chart folder in the reference release files. */
export const platformChartDir = (...parts: string[]): string => referencePath("cozystack-v1.6.2", "release", "packages", "core", "platform", ...parts);

interface SourceDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { sourceRef?: SourceRef; variants?: PackageVariant[] };
}

/** Every PackageSource of the platform chart's `sources/`, in file order; throws naming a file that is not one. */
export function loadPlatformSources(dir = platformChartDir("sources")): PackageSourceDef[] {
  const out: PackageSourceDef[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const d = doc.toJS() as SourceDoc | null;
      if (!d) continue;
      const name = d.metadata?.name;
      if (d.kind !== "PackageSource" || !name || !d.spec?.sourceRef) throw new Error(`sources/${file}: not a PackageSource with a name and sourceRef`);
      out.push({ name, origin: `CozyStack v1.6.2 sources/${file}`, sourceRef: d.spec.sourceRef, variants: d.spec.variants ?? [] });
    }
  }
  return out;
}
