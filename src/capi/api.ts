/**
 * Which API shapes the constructs can emit. The versions profile says which apiVersions a
 * platform needs; a construct refuses one whose shape it does not know yet, so adding the
 * `upstream` profile's shapes never changes the constructs' callers.
 */
import type { ApiVersions, VersionsProfile } from "../versions/index.js";

/** apiVersions each profile key can be emitted as. */
export const supportedApis: Readonly<Record<keyof ApiVersions, readonly string[]>> = {
  capiCore: ["cluster.x-k8s.io/v1beta1"],
  capiBootstrap: ["bootstrap.cluster.x-k8s.io/v1beta1"],
  capmox: ["infrastructure.cluster.x-k8s.io/v1alpha1"],
  kamajiControlPlane: ["controlplane.cluster.x-k8s.io/v1alpha1"],
  ipam: ["ipam.cluster.x-k8s.io/v1alpha2"],
};

/** The profile asks for API shapes the constructs cannot emit yet. */
export class UnsupportedApiError extends Error {
  override readonly name = "UnsupportedApiError";
}

/** Throws UnsupportedApiError naming the construct, the key and both versions. */
export function requireApi(api: ApiVersions, key: keyof ApiVersions, construct: string): string {
  const wanted = api[key];
  if (!supportedApis[key].includes(wanted)) {
    throw new UnsupportedApiError(
      `${construct}: apiVersions.${key} ${wanted} is not yet supported (supported: ${supportedApis[key].join(", ")})`,
    );
  }
  return wanted;
}

/** Throws UnsupportedApiError listing every API of the profile the constructs cannot emit. */
export function requireProfile(profile: VersionsProfile): void {
  const missing = (Object.keys(supportedApis) as (keyof ApiVersions)[]).filter((k) => !supportedApis[k].includes(profile.api[k]));
  if (missing.length > 0) {
    const wanted = missing.map((k) => `${k} ${profile.api[k]}`).join(", ");
    throw new UnsupportedApiError(
      `profile: ${JSON.stringify(profile.name)} is not yet supported by the tenant-cluster generator (it needs ${wanted}); use "cozystack-v0.37"`,
    );
  }
}

/** `group/version` → group. */
export function groupOf(apiVersion: string): string {
  return apiVersion.split("/")[0] ?? apiVersion;
}

/** A v1beta1-style reference to another object (apiVersion + kind + name). */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}
