import { describe, expect, test } from "vitest";
import { forTestServer, productCrds } from "../../../kube/env/index.js";
import { getProfile } from "../../../versions/index.js";

describe("product CRDs", () => {
  test("one file per CRD, the profile settling capmox and Kamaji versions", () => {
    const sources = productCrds("cozystack-v0.37");
    const names = sources.map((s) => s.crd.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    const fileOf = (name: string): string | undefined => sources.find((s) => s.crd.metadata.name === name)?.file;
    expect(fileOf("proxmoxmachinetemplates.infrastructure.cluster.x-k8s.io")).toMatch(/capmox-v0\.7\.7-/);
    expect(fileOf("kamajicontrolplanes.controlplane.cluster.x-k8s.io")).toMatch(/kamaji-capi-v0\.19\.0-/);
    // Every kind the brief names is there.
    for (const name of [
      "clusters.cluster.x-k8s.io",
      "machinedeployments.cluster.x-k8s.io",
      "kubeadmconfigtemplates.bootstrap.cluster.x-k8s.io",
      "proxmoxclusters.infrastructure.cluster.x-k8s.io",
      "inclusterippools.ipam.cluster.x-k8s.io",
      "helmreleases.helm.toolkit.fluxcd.io",
      "infrastructureproviders.operator.cluster.x-k8s.io",
      "cozystackresourcedefinitions.cozystack.io",
    ]) {
      expect(names).toContain(name);
    }
    const upstream = productCrds("upstream");
    expect(upstream.find((s) => s.crd.metadata.name === "proxmoxclusters.infrastructure.cluster.x-k8s.io")?.file).toMatch(/capmox-v0\.9\.0-/);
  });

  test("for a controller-less server: the emitted version is stored, conversion is None", () => {
    const profile = getProfile("cozystack-v0.37");
    const clusters = productCrds(profile.name).find((s) => s.crd.metadata.name === "clusters.cluster.x-k8s.io");
    expect(clusters).toBeDefined();
    const prepared = forTestServer(clusters!.crd, profile);
    expect(prepared.spec.versions.filter((v) => v.storage).map((v) => v.name)).toEqual(["v1beta1"]);
    expect(prepared.spec.conversion).toEqual({ strategy: "None" });
    // The reference object itself is untouched.
    expect(clusters!.crd.spec.versions.find((v) => v.storage)?.name).toBe("v1beta2");
    const flux = productCrds(profile.name).find((s) => s.crd.metadata.name === "helmreleases.helm.toolkit.fluxcd.io");
    expect(forTestServer(flux!.crd, profile).spec.versions.find((v) => v.storage)?.name).toBe("v2");
  });
});
