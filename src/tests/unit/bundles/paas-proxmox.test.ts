import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BundleError,
  bundleReleases,
  kubevirtResourceDefinitions,
  knownCharts,
  loadPaasFull,
  parseBundleSource,
  platformInstall,
  removedReleases,
  renderBundle,
  staticRelease,
  type PlatformInstall,
} from "../../../bundles/index.js";
import { repoRoot } from "../../../paths.js";
import { testPlatformConfig, type ConfigOverrides } from "../../fixtures/platform-config.js";

// What the platform chart installs, from the release model; the integration tier holds the
// model against CozyStack's real chart (src/tests/integration/cozystack/platform-chart.test.ts).
const installed = (overrides: ConfigOverrides = {}, oidcEnabled = false): PlatformInstall => {
  const config = testPlatformConfig(overrides);
  const c = config.cozystack;
  return platformInstall(renderBundle(config), { enable: c.bundleEnable, disable: c.bundleDisable, oidcEnabled });
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
  const names = defaults.installed.map((r) => r.name);
  const allOptional = ["velero", "telepresence", "external-dns", "external-secrets-operator", "nfs-driver", "bootbox", "hetzner-robotlb"];

  it("keeps paas-full's header with its fail guards and is deterministic", () => {
    const a = renderBundle(testPlatformConfig());
    expect(a).toContain('{{- fail "ERROR need root-host in cozystack ConfigMap" }}');
    expect(a).toContain('{{- fail "ERROR need api-server-endpoint in cozystack ConfigMap" }}');
    expect(a).toMatch(/^releases:$/m);
    expect(renderBundle(testPlatformConfig())).toBe(a);
  });

  it("installs no KubeVirt release, chart or KubeVirt CAPI provider", () => {
    for (const r of defaults.installed) expect(r.chart).not.toMatch(/kubevirt/);
    for (const name of Object.keys(removedReleases)) expect(names).not.toContain(name);
    // Even with every optional release enabled and OIDC on.
    const all = installed({ cozystack: { bundleEnable: allOptional } }, true);
    expect(all.releases.map((r) => r.chart).filter((c) => /kubevirt|gpu-operator|capi-providers-infraprovider$/.test(c))).toEqual([]);
  });

  it("leaves the KubeVirt applications out of the resource definitions", () => {
    const entry = parseBundleSource(renderBundle(testPlatformConfig())).entries.find((e) => e.name === "cozystack-resource-definitions")!;
    expect(staticRelease(entry).values).toEqual({ exclude: [...kubevirtResourceDefinitions] });
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
    const capmox = defaults.installed.find((r) => r.name === "capi-providers-infraprovider-proxmox")!;
    expect(capmox.namespace).toBe("cozy-cluster-api");
    expect(capmox.chart).toBe("cozy-capi-providers-infraprovider-proxmox");
    expect(capmox.dependsOn).toContain("capi-providers-ipam-in-cluster");
  });

  it("uses only charts that exist in CozyStack v0.37.10 or in the overlay", () => {
    const charts = knownCharts();
    const all = installed({ cozystack: { bundleEnable: allOptional } }, true);
    expect(all.installed.map((r) => r.chart).filter((c) => !charts.has(c))).toEqual([]);
  });

  it("installs every release an installed release depends on", () => {
    for (const objs of [defaults, installed({}, true)]) {
      const here = new Set(objs.installed.map((r) => r.name));
      const missing = objs.installed.flatMap((r) => r.dependsOn.filter((d) => !here.has(d)).map((d) => `${r.name} -> ${d}`));
      expect(missing).toEqual([]);
    }
  });

  it("reads the dashboard's OIDC dependency and the keycloak guard for each oidc-enabled value", () => {
    const text = renderBundle(testPlatformConfig());
    const dashboard = (oidcEnabled?: string) => bundleReleases(text, { oidcEnabled }).find((r) => r.name === "dashboard")!.dependsOn;
    expect(dashboard()).toEqual(["cilium", "kubeovn"]);
    expect(dashboard("true")).toEqual(["cilium", "kubeovn", "keycloak-configure"]);
    const keycloak = (oidcEnabled?: string) => bundleReleases(text, { oidcEnabled }).filter((r) => r.name.startsWith("keycloak")).length;
    // paas-full guards the entries with `{{- if $oidcEnabled }}`: "false" is a non-empty string.
    expect([keycloak(), keycloak("false"), keycloak("true")]).toEqual([0, 3, 3]);
  });

  it("marks the namespaces of privileged charts privileged", () => {
    const privileged = new Set([...defaults.namespaces].filter(([, p]) => p).map(([n]) => n));
    for (const ns of ["cozy-cluster-api", "cozy-proxmox-csi", "cozy-proxmox-ccm", "cozy-cilium", "cozy-kubeovn", "cozy-linstor"]) {
      expect(privileged).toContain(ns);
    }
    expect([...defaults.namespaces.keys()]).not.toContain("cozy-kubevirt");
  });

  it("keeps every other paas-full release", () => {
    const kept = loadPaasFull().entries.map((e) => e.name).filter((n) => !(n in removedReleases));
    const inBundle = installed({}, true).releases.map((r) => r.name);
    expect(kept.filter((n) => !inBundle.includes(n))).toEqual([]);
  });

  it("applies bundleEnable and bundleDisable like the platform chart", () => {
    const got = installed({ cozystack: { bundleEnable: ["velero"], bundleDisable: ["telepresence", "goldpinger"] } }).installed.map((r) => r.name);
    expect(got).toContain("velero");
    expect(got).not.toContain("goldpinger");
    expect(names).not.toContain("velero");
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
