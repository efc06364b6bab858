/**
 * The generated bundle and patch against CozyStack v0.37.10's own files, with the real helm:
 * - the platform chart (`packages/core/platform`) renders bundles/paas-proxmox.yaml to the
 *   same HelmReleases, Namespaces and HelmRepositories as the TypeScript model, whose charts
 *   all exist in the release or the overlay;
 * - the installer patch applies to the release's files, and the patched resource-definitions
 *   chart leaves out exactly the applications the bundle excludes;
 * - the Proxmox `Kubernetes` definition keeps the identity of the release's own;
 * - every tenant object validates strictly against the CRDs of the CAPI core, kubeadm
 *   bootstrap (v1.10.1) and Kamaji control-plane (v0.15.1) components the release installs,
 *   not only against the nearest versions saved in shared/reference/crds.
 * Needs the checkout that `npm run fetch-reference` puts in .cache/cozystack (GitHub is not
 * reachable from CI here), or COZYSTACK_CHECKOUT pointing at a clone of v0.37.10: without
 * it the suite is skipped and says so.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parse, parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBundle } from "../../../bundles/index.js";
import { renderTenants } from "../../../capi/index.js";
import { resourceDefinition } from "../../../cozystack/app/index.js";
import { validateObjects } from "../../../crds/index.js";
import { referencePath } from "../../../paths.js";
import { findCozystackCheckout } from "../../../cozystack/checkout.js";
import { bundleReleases, cozystackConfigMapData, installedObjects, overlayCharts, renderPatch } from "../../../cozystack/index.js";
import { helmPath } from "../../../tools/helm.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { tenantMatrix } from "../../support/tenant-matrix.js";

const checkout = findCozystackCheckout();
if (!checkout) console.log("[real-checkout] skipped: no CozyStack v0.37.10 checkout; run `npm run fetch-reference` to fetch one");

const config = testPlatformConfig();
const base = cozystackConfigMapData(config);
const variants: Record<string, Record<string, string>> = {
  defaults: base,
  "oidc on (keycloak releases), optional releases enabled": { ...base, "oidc-enabled": "true", "bundle-enable": "velero,external-dns,nfs-driver" },
  "releases disabled, values overrides": {
    ...base,
    "bundle-disable": "proxmox-ccm,monitoring-agents",
    "values-proxmox-csi": "storageClass:\n  - name: fast\n    storage: ceph-vm\n",
    "values-capi-providers-infraprovider-proxmox": "extra: 1\n",
  },
};
const configMapLookup = 'lookup "v1" "ConfigMap" "cozy-system" "cozystack"';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "real-checkout-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: { values?: { kubeapps?: { dashboard?: Record<string, unknown> } } } };
const key = (o: Obj): string => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/**
 * The real platform chart with the generated bundle in bundles/. helm renders client-side,
 * where `lookup` finds nothing, so the `cozystack` ConfigMap comes in as a value instead.
 */
async function renderPlatform(bundleText: string, data: Record<string, string>): Promise<Obj[]> {
  const chart = mkdtempSync(join(tmp, "platform-"));
  cpSync(join(checkout!, "packages/core/platform"), chart, { recursive: true });
  for (const file of ["templates/helmreleases.yaml", "templates/namespaces.yaml", "templates/apps.yaml"]) {
    const path = join(chart, file);
    writeFileSync(path, readFileSync(path, "utf8").replace(configMapLookup, ".Values.cozyConfig"));
  }
  writeFileSync(join(chart, "bundles/paas-proxmox.yaml"), bundleText.replace(configMapLookup, ".Values.cozyConfig"));
  // The object `lookup` would return, as the model sees it (the keycloak release hashes it whole).
  const cozyConfig = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cozystack", namespace: "cozy-system" }, data };
  writeFileSync(join(chart, "cozy.json"), JSON.stringify({ cozyConfig }));
  const { stdout } = await execa(helmPath(), ["template", "platform", chart, "--namespace", "cozy-system", "-f", join(chart, "cozy.json")]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** Chart names (`name:` of Chart.yaml) of every system chart in the release. */
function releaseSystemCharts(): Set<string> {
  const dir = join(checkout!, "packages/system");
  return new Set(
    readdirSync(dir)
      .filter((d) => existsSync(join(dir, d, "Chart.yaml")))
      .map((d) => (parse(readFileSync(join(dir, d, "Chart.yaml"), "utf8")) as { name: string }).name),
  );
}

describe.skipIf(!checkout)("CozyStack v0.37.10's own platform chart, installer and resource definitions", () => {
  const bundleText = renderBundle(config);

  for (const [variant, data] of Object.entries(variants)) {
    it(`platform chart, ${variant}: the objects the TypeScript model predicts`, async () => {
      const real = await renderPlatform(bundleText, data);
      for (const o of real) {
        // The model leaves out the dashboard's upstream stylesheet (upstream text, which
        // the project does not copy); it is the only value it does not reproduce.
        if (o.kind === "HelmRelease" && o.metadata.name === "dashboard") delete o.spec?.values?.kubeapps?.dashboard?.customStyle;
      }
      const model = installedObjects(bundleText, data);
      const predicted = [...model.helmReleases, ...model.namespaces, ...model.helmRepositories] as unknown as Obj[];
      expect(new Map(real.map((o) => [key(o), o]))).toEqual(new Map(predicted.map((o) => [key(o), JSON.parse(JSON.stringify(o)) as Obj])));
    });
  }

  it("every chart a HelmRelease names exists in the release or in the overlay; none is KubeVirt's", async () => {
    const real = await renderPlatform(bundleText, { ...base, "oidc-enabled": "true", "bundle-enable": "velero,external-dns,nfs-driver,bootbox" });
    const charts = real
      .filter((o) => o.kind === "HelmRelease")
      .map((o) => (o as unknown as { spec: { chart: { spec: { chart: string } } } }).spec.chart.spec.chart);
    const available = new Set([...releaseSystemCharts(), ...overlayCharts.map((c) => `cozy-${c.dir}`), "tenant"]);
    expect(charts.filter((c) => !available.has(c))).toEqual([]);
    expect(charts.filter((c) => /kubevirt/.test(c))).toEqual([]);
    expect(charts).toEqual(expect.arrayContaining(["cozy-capi-providers-infraprovider-proxmox", "cozy-capi-providers-ipam-in-cluster", "cozy-proxmox-csi", "cozy-proxmox-ccm"]));
  });

  it("the patch applies to the release; the patched definitions chart leaves out what the bundle excludes", async () => {
    const tree = mkdtempSync(join(tmp, "tree-"));
    cpSync(checkout!, tree, { recursive: true });
    const patch = join(tmp, "paas-proxmox.patch");
    writeFileSync(patch, renderPatch());
    await execa("git", ["apply", "--check", patch], { cwd: tree });
    await execa("git", ["apply", patch], { cwd: tree });
    await execa("bash", ["-n", "scripts/installer.sh"], { cwd: tree });
    expect(readFileSync(join(tree, "scripts/installer.sh"), "utf8")).toMatch(/"\$BUNDLE" = "paas-proxmox"/);

    const rd = join(tree, "packages/system/cozystack-resource-definitions");
    const kinds = async (values: object): Promise<string[]> => {
      writeFileSync(join(tmp, "rd.json"), JSON.stringify(values));
      const { stdout } = await execa(helmPath(), ["template", "rd", rd, "-f", join(tmp, "rd.json")]);
      return parseAllDocuments(stdout)
        .map((d) => d.toJS() as { spec?: { application?: { kind?: string } } } | null)
        .map((o) => o?.spec?.application?.kind)
        .filter((k): k is string => typeof k === "string");
    };
    const all = await kinds({});
    const release = bundleReleases(bundleText, base).find((r) => r.name === "cozystack-resource-definitions");
    const kept = await kinds(release?.values ?? {});
    // Without values the chart is unchanged for every other bundle.
    expect(all).toHaveLength(readdirSync(join(rd, "cozyrds")).length);
    const dropped = all.filter((k) => !kept.includes(k));
    expect(dropped.sort()).toEqual(["Kubernetes", "VMDisk", "VMInstance", "VirtualMachine"]);
  });

  it("the Proxmox `Kubernetes` definition takes the place of the release's: same name, kind, plural and release prefix", () => {
    type Rd = { metadata: { name: string }; spec: { application: Record<string, string>; release: { prefix: string; labels: object; chart: { name: string; sourceRef: object } } } };
    const upstream = parse(readFileSync(join(checkout!, "packages/system/cozystack-resource-definitions/cozyrds/kubernetes.yaml"), "utf8")) as Rd;
    const ours = resourceDefinition(config) as unknown as Rd;
    const identity = (rd: Rd) => ({
      name: rd.metadata.name,
      kind: rd.spec.application.kind,
      singular: rd.spec.application.singular,
      plural: rd.spec.application.plural,
      prefix: rd.spec.release.prefix,
      labels: rd.spec.release.labels,
      sourceRef: rd.spec.release.chart.sourceRef,
    });
    // Existing `Kubernetes` objects keep their API and their HelmRelease names; only the chart changes.
    expect(identity(ours)).toEqual(identity(upstream));
    expect([upstream.spec.release.chart.name, ours.spec.release.chart.name]).toEqual(["kubernetes", "kubernetes-proxmox"]);
  });

  it("tenant objects validate strictly against the CRDs of the components the release installs", () => {
    const crdDir = releaseCrdDir();
    for (const { name, config: tenantConfig } of tenantMatrix()) {
      const objects = [...renderTenants(tenantConfig).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Obj));
      expect(validateObjects(objects, { crdDir, skipBuiltIn: true }), name).toEqual([]);
    }
    // Proof that these are other schemas than the saved ones: a field Kamaji's provider gained
    // after v0.15.1 passes against the saved v0.19.0 CRD and fails against the release's.
    const [cp] = parseAllDocuments([...renderTenants(tenantMatrix()[0]!.config).values()][0]!)
      .map((d) => d.toJS() as Obj & { spec: Record<string, Record<string, unknown>> })
      .filter((o) => o.kind === "KamajiControlPlane");
    const newer = { ...cp!, spec: { ...cp!.spec, apiServer: { ...cp!.spec.apiServer, probes: {} } } };
    expect(validateObjects([newer])).toEqual([]);
    expect(validateObjects([newer], { crdDir }).map((i) => i.path)).toEqual(["spec.apiServer.probes"]);
  });
});

/**
 * A CRD folder as the catalog reads it (one CRD per file, named `<source>-<group>_<plural>`):
 * the release's CAPI and Kamaji component CRDs, plus the saved CRDs of the components the
 * release does not carry (capmox v0.7.7, in-cluster IPAM v1.0.3, Flux, CozyStack, the operator).
 */
function releaseCrdDir(): string {
  const dir = join(tmp, "crds");
  mkdirSync(dir, { recursive: true });
  const components = {
    "capi-v1.10.1": ["capi-providers-core/files/core-components.yaml", "capi-providers-bootstrap/files/bootstrap-components.yaml"],
    "kamaji-capi-v0.15.1": ["capi-providers-cpprovider/files/control-plane-components.yaml"],
  };
  for (const [source, files] of Object.entries(components)) {
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(join(checkout!, "packages/system", file), "utf8"))) {
        const crd = doc.toJS() as { kind?: string; spec: { group: string; names: { plural: string } } } | null;
        if (crd?.kind !== "CustomResourceDefinition") continue;
        writeFileSync(join(dir, `${source}-${crd.spec.group}_${crd.spec.names.plural}.yaml`), stringify(crd));
      }
    }
  }
  const saved = referencePath("crds");
  for (const file of readdirSync(saved).filter((f) => !/^(capi-v|kamaji-capi-)/.test(f))) cpSync(join(saved, file), join(dir, file));
  return dir;
}
