import { describe, expect, it } from "vitest";
import { assertCoherent, getProfile, profileNames, type VersionsProfile } from "../../../versions/index.js";

describe("versions profiles", () => {
  it("pins cozystack-v0.37 to the v1beta1 stack CozyStack v0.37 vendors", () => {
    const p = getProfile("cozystack-v0.37");
    expect(p.capi).toEqual({ version: "v1.10.1", contract: "v1beta1" });
    expect(p.capmox.version).toBe("v0.7.7");
    expect(p.ipamInCluster.version).toBe("v1.0.3");
    expect(p.api).toEqual({
      capiCore: "cluster.x-k8s.io/v1beta1",
      capiBootstrap: "bootstrap.cluster.x-k8s.io/v1beta1",
      capmox: "infrastructure.cluster.x-k8s.io/v1alpha1",
      kamajiControlPlane: "controlplane.cluster.x-k8s.io/v1alpha1",
      ipam: "ipam.cluster.x-k8s.io/v1alpha2",
    });
  });

  it("pins cozystack-v1.6 to what CozyStack v1.6.2 vendors: the same v1beta1 stack, Kamaji provider v0.19, tenants v1.31-v1.35", () => {
    const p = getProfile("cozystack-v1.6");
    expect(p.cozystack).toEqual({ version: "v1.6.2", bundleFormat: "v1-package" });
    expect(p.capi).toEqual({ version: "v1.10.1", contract: "v1beta1" });
    expect(p.capmox.version).toBe("v0.7.7");
    expect(p.kamajiProvider.version).toBe("v0.19.0-cozystack.0");
    expect(p.ipamInCluster.version).toBe("v1.0.3");
    expect(p.api).toEqual(getProfile("cozystack-v0.37").api);
    expect(p.crdSources.kamajiControlPlane).toBe("kamaji-capi-v0.19.0");
    expect(p.kubernetes).toEqual({ minMinor: 31, maxMinor: 35 });
  });

  it("keeps every profile coherent", () => {
    for (const name of profileNames) expect(() => getProfile(name)).not.toThrow();
  });

  it("refuses an unknown profile naming the field", () => {
    expect(() => getProfile("latest")).toThrow(/profile: unknown versions profile "latest"/);
  });

  const base = getProfile("cozystack-v0.37");
  const incoherent: [string, VersionsProfile, RegExp][] = [
    ["capmox v0.9 on CAPI v1.10", { ...base, capmox: { version: "v0.9.0", contract: "v1beta1" } }, /capmox v0\.9\.0 implements contract v1beta2, not v1beta1/],
    ["capmox v0.7 claiming v1alpha2", { ...base, api: { ...base.api, capmox: "infrastructure.cluster.x-k8s.io/v1alpha2" } }, /capmox v0\.7\.7 serves infrastructure\.cluster\.x-k8s\.io\/v1alpha1 but api\.capmox is .*v1alpha2/],
    ["capmox v0.7 on CAPI v1.12", { ...base, capi: { version: "v1.12.9", contract: "v1beta1" } }, /capi v1\.12\.9 implements contract v1beta2.*capmox v0\.7\.7 works with capi v1\.8\.\.v1\.10 but capi is v1\.12\.9/s],
    ["Kamaji v0.20 in a v1beta1 stack", { ...base, kamajiProvider: { version: "v0.20.0", contract: "v1beta1" } }, /kamajiProvider v0\.20\.0 implements contract v1beta2, not v1beta1/],
    ["mixed contracts", { ...base, ipamInCluster: { version: "v1.1.0", contract: "v1beta2" } }, /ipamInCluster v1\.1\.0 implements contract v1beta2 but capi v1\.10\.1 uses v1beta1/],
    ["core API of another contract", { ...base, api: { ...base.api, capiCore: "cluster.x-k8s.io/v1beta2" } }, /api\.capiCore cluster\.x-k8s\.io\/v1beta2 does not match capi contract v1beta1/],
  ];

  it.each(incoherent)("refuses %s, naming both sides", (_name, profile, message) => {
    expect(() => assertCoherent(profile)).toThrow(message);
  });
});
