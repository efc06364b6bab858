/**
 * The API objects of a v1.x installation of our packages: the Flux source our PackageSources
 * point at, the PackageSources, their Packages, and the platform Package
 * `cozystack.cozystack-platform` (variant, `bundles.*`, enabled/disabled packages) that
 * replaces CozyStack's example `platform.yaml`.
 */
import type { CozystackV1Config, PlatformConfig } from "../config/index.js";
import type { KubeObject } from "../cozystack/app/index.js";
import { fluxSourceName, fluxSourceNamespace } from "./ours.js";
import type { PlatformRender } from "./platform-model.js";
import type { PackageSourceDef } from "./source.js";

/** Name of the platform Package the operator reads (packages/core/installer/example/platform.yaml). */
export const platformPackageName = "cozystack.cozystack-platform";

/** The OCIRepository or GitRepository (source.toolkit.fluxcd.io/v1) of our packages folder. */
export function fluxSource(v1: CozystackV1Config): KubeObject {
  const { kind, url, tag, branch } = v1.source;
  const ref = { ...(tag !== undefined ? { tag } : {}), ...(branch !== undefined ? { branch } : {}) };
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind,
    metadata: { name: fluxSourceName, namespace: fluxSourceNamespace },
    spec: { interval: "5m", url, ref },
  };
}

/** A PackageSource object; empty optional lists are left out. */
export function packageSourceObject(s: PackageSourceDef): KubeObject {
  return {
    apiVersion: "cozystack.io/v1alpha1",
    kind: "PackageSource",
    metadata: { name: s.name },
    spec: {
      sourceRef: { ...s.sourceRef },
      variants: s.variants.map((v) => ({
        name: v.name,
        ...(v.dependsOn?.length ? { dependsOn: [...v.dependsOn] } : {}),
        ...(v.libraries?.length ? { libraries: v.libraries.map((l) => ({ ...l })) } : {}),
        components: v.components.map((c) => ({ ...c, ...(c.install ? { install: { ...c.install } } : {}) })),
      })),
    },
  };
}

export function packageObject(name: string, variant: string): KubeObject {
  return { apiVersion: "cozystack.io/v1alpha1", kind: "Package", metadata: { name }, spec: { variant } };
}

/** The platform chart's values this platform sets (merged over values.yaml and values-<variant>.yaml). */
export function platformPackageValues(config: PlatformConfig, disabledPackages: readonly string[]): Record<string, unknown> {
  const c = config.cozystack;
  const v1 = config.cozystackV1!;
  return {
    publishing: { host: c.rootHost, apiServerEndpoint: c.apiServerEndpoint },
    networking: { podCIDR: c.podCidr, podGateway: c.podGateway, serviceCIDR: c.serviceCidr, joinCIDR: c.joinCidr },
    // iaas brings Kamaji and the CAPI operator and providers; its KubeVirt packages are disabled.
    bundles: { iaas: { enabled: true }, enabledPackages: [...v1.enabledPackages], disabledPackages: [...disabledPackages] },
  };
}

export function platformPackage(config: PlatformConfig, disabledPackages: readonly string[]): KubeObject {
  return {
    apiVersion: "cozystack.io/v1alpha1",
    kind: "Package",
    metadata: { name: platformPackageName },
    spec: { variant: config.cozystackV1!.variant, components: { platform: { values: platformPackageValues(config, disabledPackages) } } },
  };
}

/** Everything a v1.6 platform consists of, as objects, checked. */
export interface PackageSet {
  readonly fluxSource: KubeObject;
  readonly packageSources: readonly KubeObject[];
  /** Our Packages. */
  readonly packages: readonly KubeObject[];
  readonly platformPackage: KubeObject;
  /** The platform chart's Packages under the platform Package's values (the model's prediction). */
  readonly platform: PlatformRender;
  /** KubeVirt's packages the platform Package disables. */
  readonly kubevirtDisabled: readonly string[];
}
