/**
 * What `npm run bootstrap` applies for profile cozystack-v1.6, on a cluster where CozyStack
 * v1.6's installer (cozystack-operator) runs: the namespaces and credential Secrets our
 * packages read, the Flux source of our packages folder, our PackageSources, the platform
 * Package and our Packages. The operator does the rest; no CozyStack file is edited.
 */
import { platformNamespace } from "../../bundles/index.js";
import type { PlatformConfig } from "../../config/index.js";
import { ourPackageSources, type PackageSet } from "../../packages/index.js";
import type { KubeObject, ObjectRef } from "../object.js";
import { credentialObjects, type InstalledRelease, type ProxmoxCredentials } from "./credentials.js";

/** The components of our packages the operator installs as HelmReleases (name = release name). */
export function packageReleases(config: PlatformConfig): (InstalledRelease & { readonly privileged: boolean })[] {
  return ourPackageSources(config.cozystackV1!)
    .flatMap(({ source }) => source.variants.flatMap((v) => v.components))
    .filter((c) => c.install?.namespace)
    .map((c) => ({ name: c.install!.releaseName ?? c.name, namespace: c.install!.namespace!, privileged: c.install!.privileged ?? false }));
}

/** Every object, in apply order: namespaces, credentials, source, PackageSources, the platform Package, our Packages. */
export function packagesBootstrapObjects(config: PlatformConfig, set: PackageSet, credentials: Omit<ProxmoxCredentials, "config">): KubeObject[] {
  const releases = packageReleases(config);
  const secrets = credentialObjects({ ...credentials, config }, releases);
  const privileged = new Map<string, boolean>([["cozy-system", false]]);
  for (const r of releases) privileged.set(r.namespace, (privileged.get(r.namespace) ?? false) || r.privileged);
  for (const s of secrets) if (!privileged.has(s.metadata.namespace!)) privileged.set(s.metadata.namespace!, false);
  const namespaces = [...privileged].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => platformNamespace(name, p) as KubeObject);
  return [...namespaces, ...secrets, set.fluxSource, ...set.packageSources, set.platformPackage, ...set.packages] as KubeObject[];
}

/** Our Packages, whose Ready condition `--wait` waits for. */
export function ourPackageRefs(set: PackageSet): ObjectRef[] {
  return set.packages.map((p) => ({ apiVersion: "cozystack.io/v1alpha1", kind: "Package", name: (p.metadata as { name: string }).name }));
}
