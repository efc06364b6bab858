/**
 * The real Cluster API controllers, built from their Go modules like kube-apiserver (see
 * src/kube/env/binaries.ts): one consumer module per upstream module under `tools/`, the
 * binaries cached by version under `.cache/<cacheName>/<version>/`.
 *
 * Versions: CAPI core and the kubeadm bootstrap provider v1.10.1 (what CozyStack v0.37.10
 * installs); capmox v0.7.0, the release nearest the profile's v0.7.7 that the module proxy
 * serves (v0.7.5–v0.7.7 are refused), built with the cluster-api v1.9.5 replace of its own
 * go.mod; the in-cluster IPAM provider v1.0.3.
 */
import { type BuildOptions, type BuiltBinary, cachedBinaries, cachedBinary, cachedKubeBinaries, ensureBinaries, ensureBinary, ensureKubeBinaries, type GoBinarySpec, type KubeBinaries, kubeControllerManagerSpec } from "../kube/env/index.js";
import { cachedFluxBinaries, ensureFluxBinaries, fluxSpecs, type FluxBinaries } from "./flux-binaries.js";

/** What CAPI's release build stamps (its Makefile's LDFLAGS); without it the manager reports v0.0.0. */
function capiStamp(version: string): string[] {
  const [major, minor] = version.replace(/^v/, "").split(".");
  const settings = { gitVersion: version, gitMajor: major ?? "", gitMinor: minor ?? "", gitTreeState: "clean" };
  return Object.entries(settings).map(([key, value]) => `-X sigs.k8s.io/cluster-api/version.${key}=${value}`);
}

export const capiCoreSpec: GoBinarySpec = {
  binary: "cluster-api-manager",
  cacheName: "capi-core",
  moduleDir: "tools/capi",
  consumerModule: "cozy-proxmox/tools/capi",
  module: "sigs.k8s.io/cluster-api",
  mainPackage: "sigs.k8s.io/cluster-api",
  line: "v1.10.",
  stamp: capiStamp,
};

export const capiKubeadmSpec: GoBinarySpec = {
  binary: "kubeadm-bootstrap-manager",
  cacheName: "capi-kubeadm",
  moduleDir: "tools/capi",
  consumerModule: "cozy-proxmox/tools/capi",
  module: "sigs.k8s.io/cluster-api",
  mainPackage: "sigs.k8s.io/cluster-api/bootstrap/kubeadm",
  line: "v1.10.",
  stamp: capiStamp,
};

export const capmoxSpec: GoBinarySpec = {
  binary: "capmox-manager",
  cacheName: "capmox",
  moduleDir: "tools/capmox",
  consumerModule: "cozy-proxmox/tools/capmox",
  module: "github.com/ionos-cloud/cluster-api-provider-proxmox",
  mainPackage: "github.com/ionos-cloud/cluster-api-provider-proxmox/cmd",
  line: "v0.7.",
};

export const ipamSpec: GoBinarySpec = {
  binary: "ipam-in-cluster-manager",
  cacheName: "ipam",
  moduleDir: "tools/ipam",
  consumerModule: "cozy-proxmox/tools/ipam",
  module: "sigs.k8s.io/cluster-api-ipam-provider-in-cluster",
  mainPackage: "sigs.k8s.io/cluster-api-ipam-provider-in-cluster",
  line: "v1.0.",
};

/** Every Go program of the management environment beyond Kubernetes (`npm run tools` builds them), Flux's included. */
export const controllerSpecs: readonly GoBinarySpec[] = [capiCoreSpec, capiKubeadmSpec, capmoxSpec, ipamSpec, ...fluxSpecs];

/** The four controller binaries of the management environment. */
export interface ControllerBinaries {
  readonly capiCore: BuiltBinary;
  readonly capiKubeadm: BuiltBinary;
  readonly capmox: BuiltBinary;
  readonly ipam: BuiltBinary;
}

const controllerBinarySpecs = { capiCore: capiCoreSpec, capiKubeadm: capiKubeadmSpec, capmox: capmoxSpec, ipam: ipamSpec } as const;

/** Builds (or reuses) the four controllers. */
export function ensureControllerBinaries(options: BuildOptions = {}): Promise<ControllerBinaries> {
  return ensureBinaries(controllerBinarySpecs, options);
}

/** The cached builds (any Go version), or what is missing. Synchronous, for test collection. */
export function cachedControllerBinaries(): ControllerBinaries | { readonly missing: string } {
  return cachedBinaries(controllerBinarySpecs);
}

/** Everything the management environment runs: kube-apiserver, etcd, kube-controller-manager and the controllers. */
export interface MgmtBinaries {
  readonly kube: KubeBinaries & { readonly kubeControllerManager: BuiltBinary };
  readonly controllers: ControllerBinaries;
  /** helm-controller and controller-gen (flux-binaries.ts). */
  readonly flux: FluxBinaries;
}

/** Builds (or reuses) every binary of the management environment. */
export async function ensureMgmtBinaries(options: BuildOptions = {}): Promise<MgmtBinaries> {
  const kube = await ensureKubeBinaries(options);
  const kubeControllerManager = await ensureBinary(kubeControllerManagerSpec, options);
  return { kube: { ...kube, kubeControllerManager }, controllers: await ensureControllerBinaries(options), flux: await ensureFluxBinaries(options) };
}

/** The cached builds, or what is missing. Synchronous, for test collection. */
export function cachedMgmtBinaries(): MgmtBinaries | { readonly missing: string } {
  const kube = cachedKubeBinaries();
  if ("missing" in kube) return kube;
  const kubeControllerManager = cachedBinary(kubeControllerManagerSpec);
  if (!("path" in kubeControllerManager)) return kubeControllerManager;
  const controllers = cachedControllerBinaries();
  if ("missing" in controllers) return controllers;
  const flux = cachedFluxBinaries();
  if ("missing" in flux) return flux;
  return { kube: { ...kube, kubeControllerManager }, controllers, flux };
}
