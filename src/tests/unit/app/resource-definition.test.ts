/**
 * The CozystackResourceDefinition, its place in the bundle and the overlay, and the
 * per-tenant custom resources `npm run synth` emits.
 */
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { definitionRelease } from "../../../bundles/composition.js";
import { kubevirtResourceDefinitions, loadSystemCharts, platformInstall, renderBundle } from "../../../bundles/index.js";
import { defaultConfig, defaultNodeGroup, defaultTenant } from "../../../config/index.js";
import type { PlatformConfig } from "../../../config/types.js";
import { formatValidationIssues, validateObjects } from "../../../crds/index.js";
import {
  appChartPath,
  definitionChartDir,
  renderAppFiles,
  renderTenantResources,
  resourceDefinition,
  resourceDefinitionChart,
  tenantValues,
  valuesSchema,
} from "../../../cozystack/app/index.js";
import { overlayCharts, renderOverlay } from "../../../cozystack/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";

const config = testPlatformConfig();

describe("CozystackResourceDefinition", () => {
  const rd = resourceDefinition(config) as { metadata: { name: string }; spec: Record<string, Record<string, unknown>> };

  it("validates strictly against the CozyStack v0.37.10 CRD", () => {
    const issues = validateObjects([rd]);
    expect(issues, formatValidationIssues(issues)).toEqual([]);
  });

  it("serves kind Kubernetes with the upstream plural and prefix, from the app chart in cozystack-apps", () => {
    expect(rd.spec.application).toMatchObject({ kind: "Kubernetes", singular: "kubernetes", plural: "kuberneteses" });
    expect(rd.spec.release).toEqual({
      prefix: "kubernetes-",
      labels: { "cozystack.io/ui": "true" },
      chart: { name: "kubernetes-proxmox", sourceRef: { kind: "HelmRepository", name: "cozystack-apps", namespace: "cozy-public" } },
    });
  });

  it("carries the chart's values schema as its openAPISchema", () => {
    expect(JSON.parse(rd.spec.application!.openAPISchema as string)).toEqual(valuesSchema(config));
  });

  it("takes the name of the KubeVirt definition the bundle leaves out, so the two can never be installed together", () => {
    expect(kubevirtResourceDefinitions).toContain(rd.metadata.name);
  });

  it("shows users the tenant's kubeconfig Secret and control-plane Service", () => {
    expect(rd.spec.secrets).toEqual({ include: [{ resourceNames: ["{{ .name }}-admin-kubeconfig"] }], exclude: [] });
    expect(rd.spec.services).toEqual({ include: [{ resourceNames: ["{{ .name }}"] }], exclude: [] });
  });

  it("ships in its own system chart, as a file the template includes verbatim", () => {
    const files = resourceDefinitionChart(config);
    expect(parse(files.get("Chart.yaml") as string)).toMatchObject({ name: `cozy-${definitionChartDir}` });
    expect(files.get("templates/cozyrd.yaml")).toContain('.Files.Get "cozyrds/kubernetes.yaml"');
    const [doc] = parseAllDocuments(files.get("cozyrds/kubernetes.yaml") as string).map((d) => d.toJS());
    expect(doc).toEqual(rd);
  });
});

describe("bundle and overlay", () => {
  it("the bundle installs the definition after CozyStack's own definitions, as a HelmRelease of the overlay chart", () => {
    const bundle = renderBundle(config);
    const objects = platformInstall(bundle, { enable: [], disable: [] });
    const names = objects.releases.map((r) => r.name);
    expect(names.indexOf(definitionRelease.name)).toBe(names.indexOf("cozystack-resource-definitions") + 1);
    const release = objects.installed.find((r) => r.name === definitionRelease.name)!;
    expect(release.namespace).toBe("cozy-system");
    expect(release.chart).toBe(`cozy-${definitionChartDir}`);
    expect(release.dependsOn).toEqual(definitionRelease.dependsOn);
    expect(overlayCharts.map((c) => c.dir)).toContain(definitionChartDir);
  });

  it("the overlay carries the app chart under packages/apps and the definition chart under packages/system", async () => {
    const files = await renderOverlay(config, renderBundle(config), { vendorDir: "/nonexistent-vendor-dir" });
    for (const [path, content] of renderAppFiles(config)) expect(files.get(path), path).toEqual(content);
    expect(parse(files.get(`${appChartPath}/Chart.yaml`) as string)).toMatchObject({ apiVersion: "v2", name: "kubernetes-proxmox" });
    expect(files.has(`packages/system/${definitionChartDir}/cozyrds/kubernetes.yaml`)).toBe(true);
  });

  it("every system chart the app's HelmReleases install exists in CozyStack v0.37.10 or in the overlay", () => {
    const known = new Set([...loadSystemCharts().map((c) => c.chart), ...overlayCharts.map((c) => c.chart)]);
    const templates = [...renderAppFiles(config)].filter(([p]) => p.includes("/templates/")).map(([, t]) => String(t)).join("\n");
    const charts = [...new Set([...templates.matchAll(/"chart" "([^"]+)"/g)].map((m) => m[1]!))];
    // cilium, the CCM and CSI plugin, and the optional cert-manager, Gateway API and Flux.
    expect(charts.sort()).toEqual(
      ["cozy-cert-manager", "cozy-cert-manager-crds", "cozy-cilium", "cozy-fluxcd", "cozy-fluxcd-operator", "cozy-gateway-api-crds", "cozy-proxmox-ccm", "cozy-proxmox-csi"].sort(),
    );
    for (const c of charts) expect(known, c).toContain(c);
  });

  it("is deterministic", () => {
    const a = renderAppFiles(config);
    const b = renderAppFiles(config);
    expect([...a.entries()]).toEqual([...b.entries()]);
  });
});

describe("renderTenantResources", () => {
  const platform: PlatformConfig = {
    ...defaultConfig(),
    tenants: [
      { ...defaultTenant("one", "v1.32.6"), nodeGroups: [{ ...defaultNodeGroup("w"), labels: { "example.com/flag": "y" } }] },
      { ...defaultTenant("two", "v1.31.0"), namespace: "tenant-root" },
    ],
  };

  it("writes <tenant>.yaml (for dist/apps/) with the Kubernetes resource of each tenant", () => {
    const files = renderTenantResources(platform);
    expect([...files.keys()]).toEqual(["one.yaml", "two.yaml"]);
    const docs = parseAllDocuments(files.get("two.yaml")!).map((d) => d.toJS());
    expect(docs).toEqual([
      { apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", metadata: { name: "two", namespace: "tenant-root" }, spec: tenantValues(platform, platform.tenants[1]!) },
    ]);
  });

  it("writes YAML 1.1 as kubectl reads it: label values such as y stay strings", () => {
    const text = renderTenantResources(platform).get("one.yaml")!;
    expect(text).toMatch(/example\.com\/flag: "y"/);
  });

  it("is deterministic and empty without tenants", () => {
    expect([...renderTenantResources(platform)]).toEqual([...renderTenantResources(platform)]);
    expect(renderTenantResources({ ...platform, tenants: [] }).size).toBe(0);
  });
});
