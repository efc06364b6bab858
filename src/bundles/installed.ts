/**
 * What the platform chart installs for a bundle and a config, from the release model: the
 * releases that get a HelmRelease and the namespaces it creates with their pod-security
 * level. Bootstrap prepares exactly these before the installer runs. The integration tier
 * holds this against CozyStack's real platform chart rendered by the real helm
 * (src/tests/integration/cozystack/platform-chart.test.ts).
 */
import { leftOutBecause, type InstallSettings } from "./checks.js";
import { bundleReleases, type ModelRelease } from "./model.js";

export interface PlatformInstall {
  /** Every release of the bundle under the settings, in file order. */
  readonly releases: readonly ModelRelease[];
  /** The releases that get a HelmRelease, in file order. */
  readonly installed: readonly ModelRelease[];
  /** Namespace name → privileged, for every namespace namespaces.yaml renders (tenant-root comes from apps.yaml, without labels). */
  readonly namespaces: ReadonlyMap<string, boolean>;
}

/**
 * namespaces.yaml: a namespace exists when one release in it is installed, and is
 * privileged when any release in it says so, installed or not (upstream's rule: a
 * disabled privileged release still marks, and so creates, its namespace).
 */
function bundleNamespaces(releases: readonly ModelRelease[], s: InstallSettings): Map<string, boolean> {
  const namespaces = new Map<string, boolean>();
  for (const r of releases) {
    const counted = !s.disable.includes(r.name) && (!r.optional || s.enable.includes(r.name));
    if (!namespaces.has(r.namespace) && counted) namespaces.set(r.namespace, false);
    if (r.privileged || namespaces.get(r.namespace)) namespaces.set(r.namespace, true);
  }
  namespaces.set("cozy-system", true);
  namespaces.set("cozy-public", false);
  return new Map([...namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The platform chart's install for bundle text under the settings; `oidcValue` is the
 * ConfigMap's `oidc-enabled` as written (@default "true" when `settings.oidcEnabled`, else
 * unset). Throws BundleError when the model cannot read the bundle.
 */
export function platformInstall(bundleText: string, settings: InstallSettings, oidcValue?: string): PlatformInstall {
  const releases = bundleReleases(bundleText, { oidcEnabled: oidcValue ?? (settings.oidcEnabled ? "true" : undefined) });
  return {
    releases,
    installed: releases.filter((r) => !leftOutBecause(r, settings)),
    namespaces: bundleNamespaces(releases, settings),
  };
}

/** A Namespace object as namespaces.yaml renders it. */
export function platformNamespace(name: string, privileged: boolean): {
  apiVersion: "v1";
  kind: "Namespace";
  metadata: { name: string; annotations: Record<string, string>; labels: Record<string, string> };
} {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      annotations: { "helm.sh/resource-policy": "keep" },
      labels: { "cozystack.io/system": "true", ...(privileged ? { "pod-security.kubernetes.io/enforce": "privileged" } : {}) },
    },
  };
}
