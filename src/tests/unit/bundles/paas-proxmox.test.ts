import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleError, kubevirtResourceDefinitions, knownCharts, loadPaasFull, removedReleases, renderBundle } from "../../../bundles/index.js";
import { cozystackConfigMapData, installedObjects, type InstalledObjects } from "../../../cozystack/index.js";
import { formatValidationIssues, validateObjects } from "../../../crds/index.js";
import { repoRoot } from "../../../paths.js";
import { testPlatformConfig, type ConfigOverrides } from "../../fixtures/platform-config.js";

const installed = (overrides: ConfigOverrides = {}, extra: Record<string, string> = {}): InstalledObjects => {
  const config = testPlatformConfig(overrides);
  return installedObjects(renderBundle(config), { ...cozystackConfigMapData(config), ...extra });
};
const problemsOf = (overrides: ConfigOverrides): readonly string[] => {
  try {
    renderBundle(testPlatformConfig(overrides));
  } catch (err) {
    if (err instanceof BundleError) return err.problems;
    throw err;
  }
  throw new Error("renderBundle accepted the config");
};

describe("paas-proxmox bundle", () => {
  const defaults = installed();
  const names = defaults.helmReleases.map((h) => h.metadata.name);

  it("keeps paas-full's header with its fail guards and is deterministic", () => {
    const a = renderBundle(testPlatformConfig());
    expect(a).toContain('{{- fail "ERROR need root-host in cozystack ConfigMap" }}');
    expect(a).toContain('{{- fail "ERROR need api-server-endpoint in cozystack ConfigMap" }}');
    expect(a).toMatch(/^releases:$/m);
    expect(renderBundle(testPlatformConfig())).toBe(a);
  });

  it("installs no KubeVirt release, chart or KubeVirt CAPI provider", () => {
    for (const hr of defaults.helmReleases) expect(hr.spec.chart.spec.chart).not.toMatch(/kubevirt/);
    for (const name of Object.keys(removedReleases)) expect(names).not.toContain(name);
    // Even with every optional release enabled and OIDC on.
    const all = installed({ cozystack: { bundleEnable: ["velero", "telepresence", "external-dns", "nfs-driver", "bootbox"] } }, { "oidc-enabled": "true" });
    expect(all.releases.map((r) => r.chart).filter((c) => /kubevirt|gpu-operator|capi-providers-infraprovider$/.test(c))).toEqual([]);
  });

  it("leaves the KubeVirt applications out of the resource definitions", () => {
    const rd = defaults.helmReleases.find((h) => h.metadata.name === "cozystack-resource-definitions")!;
    expect(rd.spec.values).toEqual({ exclude: [...kubevirtResourceDefinitions] });
  });

  it("has the CAPI operator, core, kubeadm, Kamaji, capmox and IPAM providers, CSI and CCM", () => {
    for (const name of [
      "capi-operator",
      "capi-providers-core",
      "capi-providers-bootstrap",
      "capi-providers-cpprovider",
      "capi-providers-ipam-in-cluster",
      "capi-providers-infraprovider-proxmox",
      "proxmox-csi",
      "proxmox-ccm",
      "kamaji",
      "cilium",
      "kubeovn",
      "fluxcd",
    ]) {
      expect(names).toContain(name);
    }
    const capmox = defaults.helmReleases.find((h) => h.metadata.name === "capi-providers-infraprovider-proxmox")!;
    expect(capmox.metadata.namespace).toBe("cozy-cluster-api");
    expect(capmox.spec.chart.spec.chart).toBe("cozy-capi-providers-infraprovider-proxmox");
    expect(capmox.spec.dependsOn).toContainEqual({ name: "capi-providers-ipam-in-cluster", namespace: "cozy-cluster-api" });
  });

  it("uses only charts that exist in CozyStack v0.37.10 or in the overlay", () => {
    const charts = knownCharts();
    const all = installed({ cozystack: { bundleEnable: ["velero", "telepresence", "external-dns", "external-secrets-operator", "nfs-driver", "bootbox", "hetzner-robotlb"] } }, { "oidc-enabled": "true" });
    const unknown = all.helmReleases.filter((h) => h.metadata.name !== "tenant-root" && !charts.has(h.spec.chart.spec.chart));
    expect(unknown.map((h) => h.spec.chart.spec.chart)).toEqual([]);
  });

  it("resolves every dependsOn to an installed release in its namespace", () => {
    for (const objs of [defaults, installed({}, { "oidc-enabled": "true" })]) {
      const where = new Map(objs.helmReleases.map((h) => [h.metadata.name, h.metadata.namespace]));
      for (const hr of objs.helmReleases) {
        for (const dep of hr.spec.dependsOn ?? []) {
          expect({ from: hr.metadata.name, ...dep }).toEqual({ from: hr.metadata.name, name: dep.name, namespace: where.get(dep.name) });
        }
      }
    }
  });

  it("marks the namespaces of privileged charts privileged", () => {
    const privileged = new Set(defaults.namespaces.filter((n) => n.metadata.labels?.["pod-security.kubernetes.io/enforce"] === "privileged").map((n) => n.metadata.name));
    for (const ns of ["cozy-cluster-api", "cozy-proxmox-csi", "cozy-proxmox-ccm", "cozy-cilium", "cozy-kubeovn", "cozy-linstor"]) {
      expect(privileged).toContain(ns);
    }
    expect(defaults.namespaces.map((n) => n.metadata.name)).not.toContain("cozy-kubevirt");
  });

  it("renders HelmReleases that validate strictly against Flux's HelmRelease CRD", () => {
    const objs = installed({ cozystack: { bundleDisable: ["telepresence"] } }, { "oidc-enabled": "true" });
    expect(formatValidationIssues(validateObjects(objs.helmReleases, { skipBuiltIn: true }))).toBe("");
  });

  it("keeps every other paas-full release", () => {
    const kept = loadPaasFull().entries.map((e) => e.name).filter((n) => !(n in removedReleases));
    const inBundle = installed({}, { "oidc-enabled": "true" }).releases.map((r) => r.name);
    expect(kept.filter((n) => !inBundle.includes(n))).toEqual([]);
  });

  it("applies bundleEnable, bundleDisable and values overrides like the platform chart", () => {
    const objs = installed({
      cozystack: {
        bundleEnable: ["velero"],
        bundleDisable: ["telepresence", "goldpinger"],
        values: { "proxmox-csi": { "proxmox-csi-plugin": { storageClass: [{ name: "fast", storage: "nvme" }] } }, fluxcd: { extra: 1 } },
      },
    });
    const got = objs.helmReleases.map((h) => h.metadata.name);
    expect(got).toContain("velero");
    expect(got).not.toContain("goldpinger");
    expect(objs.helmReleases.find((h) => h.metadata.name === "proxmox-csi")!.spec.values).toEqual({
      "proxmox-csi-plugin": { storageClass: [{ name: "fast", storage: "nvme" }] },
    });
    expect(objs.helmReleases.find((h) => h.metadata.name === "fluxcd")!.spec.values).toEqual({
      "flux-instance": { instance: { cluster: { domain: "cozy.local" } } },
      extra: 1,
    });
  });

  it("refuses to disable what installed releases depend on, naming them", () => {
    expect(problemsOf({ cozystack: { bundleDisable: ["capi-providers-ipam-in-cluster"] } })).toEqual([
      "release capi-providers-infraprovider-proxmox: dependsOn capi-providers-ipam-in-cluster, which is left out by cozystack.bundleDisable",
    ]);
    const cilium = problemsOf({ cozystack: { bundleDisable: ["cilium"] } });
    expect(cilium).toContain("release kubeovn: dependsOn cilium, which is left out by cozystack.bundleDisable");
    expect(cilium).toContain("tenant-root (platform chart apps.yaml): dependsOn cilium, which is left out by cozystack.bundleDisable");
  });

  it("names unknown releases in the enable/disable lists and value overrides, all at once", () => {
    expect(problemsOf({ cozystack: { bundleEnable: ["velero", "kubevirt"], bundleDisable: ["capmx"], values: { nosuch: {} } } })).toEqual([
      'cozystack.bundleEnable[1]: "kubevirt" is not a release of the paas-proxmox bundle',
      'cozystack.bundleDisable[0]: "capmx" is not a release of the paas-proxmox bundle',
      'cozystack.values.nosuch: "nosuch" is not a release of the paas-proxmox bundle',
    ]);
  });

  it("refuses a profile whose CozyStack does not use the v0.37 bundle format", () => {
    const config = { ...testPlatformConfig(), profile: "upstream" as const };
    expect(() => renderBundle(config)).toThrow(BundleError);
    expect(() => renderBundle(config)).toThrow(/profile: "upstream" targets CozyStack v1/);
  });

  const committed = join(repoRoot, "bundles", "paas-proxmox.yaml");
  it.skipIf(!existsSync(committed))("matches the committed bundles/paas-proxmox.yaml", () => {
    expect(readFileSync(committed, "utf8")).toBe(renderBundle(testPlatformConfig()));
  });
});
