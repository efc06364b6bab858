/**
 * The release model of a CozyStack v0.37 bundle: one entry of its `releases:` list, as the
 * platform chart reads it (notes/cozystack.md §1).
 */

export interface Release {
  /** Id of the release: HelmRelease name, key for dependsOn, bundle-enable/-disable and `values-<name>`. */
  readonly name: string;
  /** Helm release name. @default name */
  readonly releaseName: string;
  /** Chart name in the `cozystack-system` HelmRepository, `cozy-<dir>` by convention. */
  readonly chart: string;
  /** Namespace of the HelmRelease and of the install; the platform chart creates it. */
  readonly namespace: string;
  /** Marks the namespace `pod-security.kubernetes.io/enforce: privileged`. @default false */
  readonly privileged: boolean;
  /** Installed only when listed in `bundle-enable`. @default false */
  readonly optional: boolean;
  /** Names of releases this one waits for. @default [] */
  readonly dependsOn: readonly string[];
  /** HelmRelease `spec.values`. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Files inside the chart, emitted as `spec.chart.spec.valuesFiles`. */
  readonly valuesFiles?: readonly string[];
}

/** The fields the graph checks look at; rendered bundle entries and `Release` both fit. */
export interface GraphRelease {
  readonly name: string;
  readonly chart: string;
  readonly namespace: string;
  readonly privileged?: unknown;
  readonly optional?: unknown;
  readonly dependsOn?: readonly string[] | null;
}

/** A bundle that cannot be written; `problems` lists every reason, each naming its release or field. */
export class BundleError extends Error {
  override readonly name = "BundleError";
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`paas-proxmox bundle: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`, options);
  }
}
