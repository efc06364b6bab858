/**
 * The generated files against CozyStack v0.37.10's own release files (shared/reference's
 * `cozystack-v0.37.10/release`, or .cache/shared for a clone without ../shared), with the
 * real helm; runs in every CI run:
 * - the overlay patch's resource-definitions part applies to the release's chart, and the
 *   patched chart leaves out exactly the applications the bundle excludes;
 * - the Proxmox `Kubernetes` definition keeps the identity of the release's own;
 * - every tenant object validates strictly against the CRDs of the CAPI core, kubeadm
 *   bootstrap (v1.10.1) and Kamaji control-plane (v0.15.1) components the release installs,
 *   not only against the nearest versions saved in shared/reference/crds.
 * The platform chart itself renders against a real API server in platform-chart.test.ts;
 * the installer script's patch is opt-in (real-checkout.test.ts).
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parse, parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBundleSource, renderBundle, staticRelease } from "../../../bundles/index.js";
import { renderTenants } from "../../../capi/index.js";
import { resourceDefinition } from "../../../cozystack/app/index.js";
import { checkoutPatches, renderPatch } from "../../../cozystack/index.js";
import { validateObjects } from "../../../crds/index.js";
import { referencePath } from "../../../paths.js";
import { helmPath } from "../../../tools/helm.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { releaseDir } from "../../support/platform-chart.js";
import { tenantMatrix } from "../../support/tenant-matrix.js";

const config = testPlatformConfig();
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "release-files-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = { kind: string; metadata: { name: string; namespace?: string } };
const definitionsChart = "packages/system/cozystack-resource-definitions";

describe("CozyStack v0.37.10's release files: resource definitions, the Kubernetes definition, component CRDs", () => {
  it("the patch's resource-definitions part applies; the patched chart leaves out exactly what the bundle excludes", async () => {
    const tree = mkdtempSync(join(tmp, "tree-"));
    cpSync(releaseDir(definitionsChart), join(tree, definitionsChart), { recursive: true });
    const patch = join(tmp, "resource-definitions.patch");
    writeFileSync(patch, renderPatch(checkoutPatches.filter((p) => p.path.startsWith(`${definitionsChart}/`))));
    await execa("git", ["apply", "--check", patch], { cwd: tree });
    await execa("git", ["apply", patch], { cwd: tree });

    const rd = join(tree, definitionsChart);
    const kinds = async (values: object): Promise<string[]> => {
      writeFileSync(join(tmp, "rd.json"), JSON.stringify(values));
      const { stdout } = await execa(helmPath(), ["template", "rd", rd, "-f", join(tmp, "rd.json")]);
      return parseAllDocuments(stdout)
        .map((d) => d.toJS() as { spec?: { application?: { kind?: string } } } | null)
        .map((o) => o?.spec?.application?.kind)
        .filter((k): k is string => typeof k === "string");
    };
    const all = await kinds({});
    const entry = parseBundleSource(renderBundle(config)).entries.find((e) => e.name === "cozystack-resource-definitions");
    const kept = await kinds(staticRelease(entry!).values ?? {});
    // Without values the chart is unchanged for every other bundle.
    expect(all).toHaveLength(readdirSync(join(rd, "cozyrds")).length);
    const dropped = all.filter((k) => !kept.includes(k));
    expect(dropped.sort()).toEqual(["Kubernetes", "VMDisk", "VMInstance", "VirtualMachine"]);
  });

  it("the Proxmox `Kubernetes` definition takes the place of the release's: same name, kind, plural and release prefix", () => {
    type Rd = { metadata: { name: string }; spec: { application: Record<string, string>; release: { prefix: string; labels: object; chart: { name: string; sourceRef: object } } } };
    const upstream = parse(readFileSync(releaseDir("packages/system/cozystack-resource-definitions/cozyrds/kubernetes.yaml"), "utf8")) as Rd;
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
      for (const doc of parseAllDocuments(readFileSync(releaseDir("packages/system", file), "utf8"))) {
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
