/**
 * Profile cozystack-v1.6 against CozyStack v1.6.2's own files and the real tools:
 *
 * - the platform chart (reference release files, unchanged) rendered by the real helm with
 *   `--dry-run=server` against this file's kube-apiserver, with our platform Package's
 *   values: it renders, emits no KubeVirt Package, emits every package ours depend on, and
 *   emits exactly the Packages the platform model (src/packages) predicted;
 * - every object synth writes for v1.6 (the Flux source, PackageSources, Packages, the
 *   platform Package, and what our charts render: the ApplicationDefinition, the capi-operator's
 *   InfrastructureProvider and IPAMProvider with their ConfigMaps) applied with server-side
 *   apply and fieldValidation=Strict against its CRD, and read back unchanged;
 * - every chart of the packages folder passes `helm lint --strict` and renders;
 * - Talos node groups of the app chart: its TalosConfigTemplate applied strictly against the
 *   CRD of CozyStack v1.6.2's Talos bootstrap provider (CABPT), its ProxmoxMachineTemplate
 *   against capmox's, everything else validated against its CRD. CABPT is not served as a Go
 *   module, so this render and validation is all the proof of Talos groups here.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import type { CozystackV1Config } from "../../../config/index.js";
import { defaultConfig } from "../../../config/index.js";
import { findCrds, formatValidationIssues, loadCrd, validateObjects } from "../../../crds/index.js";
import { KubeApiError, conditionIs, describeRef, refOf, waitFor, type KubeObject } from "../../../kube/index.js";
import { referencePath } from "../../../paths.js";
import { helmTemplate, writeAppCharts } from "../app/helm-app.js";
import { kubevirtReason, ourPackageSources, packageSet, platformPackageName, platformPackages, platformValues, renderPackages, type PackageSet } from "../../../packages/index.js";
import { helmPath } from "../../../tools/helm.js";
import { testV16Config } from "../../fixtures/platform-config-v16.js";
import { installV16Crds, renderV16Platform } from "../../support/cozystack-v16.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";
import { standInChart } from "../../support/stand-in-chart.js";

const fieldManager = "platform-chart-v16-test";

interface Pkg extends KubeObject {
  spec: { variant?: string; components?: Record<string, unknown> };
}
interface Source extends KubeObject {
  spec: { variants: { name: string; dependsOn?: string[]; components: { name: string; path: string }[] }[] };
}

const settings: Record<string, Partial<CozystackV1Config>> = {
  "isp-full": {},
  "isp-full-generic, an optional package enabled, one disabled": {
    variant: "isp-full-generic",
    enabledPackages: ["cozystack.external-dns"],
    disabledPackages: ["cozystack.goldpinger"],
  },
};

const packageValues = (set: PackageSet): Record<string, unknown> =>
  (set.platformPackage["spec"] as { components: { platform: { values: Record<string, unknown> } } }).components.platform.values;

function yamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object");
}

/** Paths where `applied` has something the read-back lacks or holds differently. */
function notKept(applied: unknown, readBack: unknown, path = ""): string[] {
  if (Array.isArray(applied)) {
    if (!Array.isArray(readBack) || readBack.length !== applied.length) return [`${path}: list became ${JSON.stringify(readBack)}`];
    return applied.flatMap((item, i) => notKept(item, readBack[i], `${path}[${i}]`));
  }
  if (applied !== null && typeof applied === "object") {
    if (readBack === null || typeof readBack !== "object") return [`${path}: object became ${JSON.stringify(readBack)}`];
    return Object.entries(applied).flatMap(([k, v]) => (k in readBack ? notKept(v, (readBack as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}: pruned`]));
  }
  return applied === readBack ? [] : [`${path}: ${JSON.stringify(applied)} became ${JSON.stringify(readBack)}`];
}

describeKube("CozyStack v1.6.2's platform chart and CRDs with our packages (real helm, real kube-apiserver)", () => {
  const env = useKubeEnv({ crdsForProfile: "cozystack-v1.6" });
  let tmp: string;
  beforeAll(async () => {
    await installV16Crds(env(), (l) => console.log(`[v1.6 crds] ${l}`));
    tmp = mkdtempSync(join(tmpdir(), "packages-v16-"));
  }, 30 * 60_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [name, v1] of Object.entries(settings)) {
    test(`${name}: the chart renders our platform values, no KubeVirt Package, every package ours need, as the model predicts`, async () => {
      const config = testV16Config(v1);
      const set = packageSet(config);
      const objects = await renderV16Platform(env(), config.cozystackV1!.variant, packageValues(set));
      const packages = objects.filter((o): o is Pkg => o.kind === "Package");
      const sources = new Map(objects.filter((o): o is Source => o.kind === "PackageSource").map((s) => [s.metadata.name, s]));
      const rendered = packages.map((p) => `${p.metadata.name}:${p.spec.variant}`).sort();

      expect(rendered).toEqual(set.platform.packages.map((p) => `${p.name}:${p.variant}`).sort());
      expect(rendered.length).toBeGreaterThan(40);
      const kubevirt = packages.filter((p) => kubevirtReason(p.metadata.name, sources.get(p.metadata.name)?.spec.variants.find((v) => v.name === p.spec.variant) as never));
      expect(kubevirt.map((p) => p.metadata.name)).toEqual([]);

      // Every Package the chart renders has its PackageSource and variant in the chart.
      expect(packages.filter((p) => !sources.get(p.metadata.name)?.spec.variants.some((v) => v.name === p.spec.variant)).map((p) => p.metadata.name)).toEqual([]);
      // Every package ours depend on is rendered (or is ours).
      const installed = new Set([...packages.map((p) => p.metadata.name), ...set.packages.map((p) => (p.metadata as { name: string }).name)]);
      const needed = ourPackageSources(config.cozystackV1!).flatMap(({ source }) => source.variants.flatMap((v) => v.dependsOn ?? []));
      expect(needed.filter((d) => !installed.has(d))).toEqual([]);
      // And every dependency of a rendered Package's variant is rendered too: the platform stays whole without KubeVirt.
      const dangling = packages.flatMap((p) =>
        (sources.get(p.metadata.name)?.spec.variants.find((v) => v.name === p.spec.variant)?.dependsOn ?? []).filter((d) => !installed.has(d)).map((d) => `${p.metadata.name} -> ${d}`),
      );
      expect(dangling).toEqual([]);
      for (const want of ["cozystack.kamaji", "cozystack.capi-operator", "cozystack.capi-provider-cp-kamaji", "cozystack.cozystack-engine"]) expect(installed).toContain(want);
      if (v1.enabledPackages?.length) expect(rendered).toContain("cozystack.external-dns:default");
      if (v1.disabledPackages?.length) expect(rendered.join(" ")).not.toContain("cozystack.goldpinger");
    });
  }

  const otherValues: Record<string, [string, Record<string, unknown>]> = {
    "oidc on (keycloak, engine variant oidc)": ["isp-full", { authentication: { oidc: { enabled: true } }, publishing: { apiServerEndpoint: "https://10.0.0.10:6443" } }],
    "iaas and paas off, bootbox and two optional packages on": ["isp-full-generic", { bundles: { iaas: { enabled: false }, paas: { enabled: false }, enabledPackages: ["cozystack.bootbox", "cozystack.nfs-driver", "cozystack.hami"] } }],
  };
  for (const [name, [variant, values]] of Object.entries(otherValues)) {
    test(`the platform model predicts the chart for other values too: ${name}`, async () => {
      const objects = await renderV16Platform(env(), variant, values);
      const rendered = objects.filter((o): o is Pkg => o.kind === "Package").map((p) => `${p.metadata.name}:${p.spec.variant}`).sort();
      expect(rendered).toEqual(platformPackages(platformValues(variant, values)).packages.map((p) => `${p.name}:${p.variant}`).sort());
      expect(rendered.length).toBeGreaterThan(20);
    });
  }

  test("a platform value the chart refuses fails the render with helm's own message", async () => {
    const set = packageSet(testV16Config());
    const values = packageValues(set);
    await expect(renderV16Platform(env(), "isp-full", { ...values, bundles: { ...(values["bundles"] as object), iaas: { enabled: true, gpuOperatorVariant: "passthrough" } } })).rejects.toThrow(
      /gpuOperatorVariant must be "default" or "vgpu"/,
    );
  });

  /** Applies strictly and reads back; returns what was refused or not kept. */
  async function prove(object: KubeObject): Promise<string[]> {
    const client = env().client;
    const what = describeRef(refOf(object));
    try {
      await client.apply(object, { fieldManager, fieldValidation: "Strict" });
    } catch (error) {
      if (error instanceof KubeApiError) return [`${what}: refused: ${error.message}`];
      throw error;
    }
    return notKept(object, await client.get(refOf(object))).map((p) => `${what}${p}`);
  }

  async function writeTree(files: ReadonlyMap<string, string | Buffer>, root: string): Promise<void> {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  }

  test("every object synth writes for v1.6, and every object our charts render, is accepted strictly and kept", async () => {
    const problems: string[] = [];
    const kinds = new Set<string>();
    const git = testV16Config({ source: { kind: "GitRepository", url: "https://git.example.org/ops/cozy.git", branch: "main", path: "packages" } });
    for (const [label, config] of [["oci", testV16Config()], ["git", git]] as const) {
      const files = renderPackages(config, { vendorDir: join(tmp, "no-vendor"), standInChart });
      const root = join(tmp, label);
      await writeTree(files, root);
      for (const manifest of ["flux-source", "package-sources", "platform", "packages"]) {
        for (const object of yamlObjects(String(files.get(`manifests/${manifest}.yaml`)))) {
          if (object.metadata.namespace) await env().client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: object.metadata.namespace } }, { fieldManager });
          problems.push(...(await prove(object)));
          kinds.add(object.kind);
        }
      }
      // What the operator would install: each component with install, rendered by helm into its namespace.
      for (const { source } of ourPackageSources(config.cozystackV1!)) {
        for (const c of source.variants.flatMap((v) => v.components).filter((c) => c.install)) {
          const ns = c.install!.namespace!;
          await env().client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager });
          const { stdout } = await execa(helmPath(), ["template", c.install!.releaseName!, join(root, "packages", c.path), "--namespace", ns]);
          for (const object of yamlObjects(stdout)) {
            if (object.metadata["annotations"] && (object.metadata["annotations"] as Record<string, string>)["paas-proxmox/stand-in"]) continue;
            const namespaced = (await env().client.resource(object.apiVersion, object.kind)).namespaced;
            const placed = namespaced && !object.metadata.namespace ? { ...object, metadata: { ...object.metadata, namespace: ns } } : object;
            problems.push(...(await prove(placed)));
            kinds.add(object.kind);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(["ApplicationDefinition", "ConfigMap", "GitRepository", "IPAMProvider", "InfrastructureProvider", "OCIRepository", "Package", "PackageSource"]),
    );
    const platform = await env().client.get({ apiVersion: "cozystack.io/v1alpha1", kind: "Package", name: platformPackageName });
    expect((platform?.["spec"] as { variant: string }).variant).toBe("isp-full");
  }, 300_000);

  test("the checks catch what the server would refuse: a Package component value of the wrong type", async () => {
    const bad: KubeObject = { apiVersion: "cozystack.io/v1alpha1", kind: "Package", metadata: { name: "cozy-proxmox.strict-control" }, spec: { variant: "default", components: { x: { enabled: "yes" } } } };
    expect(await prove(bad)).toEqual([expect.stringContaining("refused")]);
    const unknownField: KubeObject = { apiVersion: "cozystack.io/v1alpha1", kind: "PackageSource", metadata: { name: "cozy-proxmox.strict-control" }, spec: { variants: [], notAField: 1 } };
    expect(await prove(unknownField)).toEqual([expect.stringContaining("refused")]);
  });

  test("every chart of the packages folder passes helm lint --strict and renders", async () => {
    const config = testV16Config();
    const files = renderPackages(config, { vendorDir: join(tmp, "no-vendor"), standInChart });
    const root = join(tmp, "lint");
    await writeTree(files, root);
    const charts = [...files.keys()].filter((p) => /^packages\/(system|apps)\/[^/]+\/Chart\.yaml$/.test(p)).map((p) => dirname(p));
    expect(charts.length).toBe(6);
    for (const chart of charts) {
      const lint = await execa(helmPath(), ["lint", "--strict", join(root, chart)], { reject: false });
      expect(lint.stdout, `${chart}\n${lint.stdout}\n${lint.stderr}`).toContain("1 chart(s) linted, 0 chart(s) failed");
      const { stdout } = await execa(helmPath(), ["template", "kubernetes-demo", join(root, chart), "--namespace", "tenant-demo"]);
      expect(yamlObjects(stdout).length, chart).toBeGreaterThan(0);
    }
  }, 300_000);

  test("Talos node groups: TalosConfigTemplate accepted strictly against CABPT v1.6.2's CRD, ProxmoxMachineTemplate against capmox's, the rest valid; kubeadm groups unchanged", async () => {
    const client = env().client;
    // CABPT's CRD as v1.6.2 ships it; no conversion webhook runs here, and the chart writes v1alpha3, its storage version.
    const bootstrap = readFileSync(referencePath("cozystack-v1.6.2", "release", "packages", "system", "capi-providers-bootstrap", "files", "bootstrap-components-talos.yaml"), "utf8");
    const cabpt = yamlObjects(bootstrap).find((o) => o.kind === "CustomResourceDefinition" && o.metadata.name === "talosconfigtemplates.bootstrap.cluster.x-k8s.io");
    const capmox = findCrds("infrastructure.cluster.x-k8s.io", "ProxmoxMachineTemplate", "capmox-v0.7.7")[0];
    expect(cabpt, "v1.6.2's bootstrap components define TalosConfigTemplate").toBeDefined();
    expect(capmox, "shared/reference/crds has capmox v0.7.7's ProxmoxMachineTemplate").toBeDefined();
    const crds = [cabpt!, loadCrd(capmox!) as unknown as KubeObject].map((crd) => {
      const { status: _s, ...rest } = crd as KubeObject & { status?: unknown; spec: Record<string, unknown> };
      const { conversion: _c, ...spec } = rest["spec"] as Record<string, unknown>;
      return { ...rest, metadata: { name: crd.metadata.name }, spec } as KubeObject;
    });
    for (const crd of crds) await client.apply(crd, { fieldManager });
    await waitFor(client, crds.map((c) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: c.metadata.name })), conditionIs("Established"), { timeoutMs: 60_000 });

    // The chart as synth copies it for the built-in platform (its values.yaml equals the repository's), in this file's scratch folder.
    const talosChart = writeAppCharts(join(tmp, "talos-chart"), defaultConfig()).app;
    const values = {
      version: "v1.34",
      talos: { version: "v1.13.6" },
      nodeGroups: {
        md0: { minReplicas: 1, maxReplicas: 2 },
        tal: { minReplicas: 2, maxReplicas: 3, bootstrap: "talos", template: { kind: "tags", tags: ["talos-1.13"] }, roles: ["ingress-nginx"], labels: { "example.com/tier": "web" }, kubelet: { systemReservedMemory: "512Mi" } },
      },
    };
    const objects = (await helmTemplate(talosChart, { release: "kubernetes-tal", namespace: "tenant-tal", values })) as unknown as KubeObject[];
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "tenant-tal" } }, { fieldManager });
    const talosTemplates = objects.filter((o) => o.kind === "TalosConfigTemplate");
    const machineTemplates = objects.filter((o) => o.kind === "ProxmoxMachineTemplate");
    expect(talosTemplates.map((o) => o.metadata.name)).toEqual([expect.stringMatching(/^tal-tal-[0-9a-f]{8}$/)]);
    const problems: string[] = [];
    for (const object of [...talosTemplates, ...machineTemplates]) problems.push(...(await prove(object)));
    expect(problems).toEqual([]);
    const rest = objects.filter((o) => o.kind !== "TalosConfigTemplate");
    const issues = validateObjects(rest, { skipBuiltIn: true });
    expect(issues, formatValidationIssues(issues)).toEqual([]);

    type Spec = Record<string, unknown>;
    const tct = talosTemplates[0]!["spec"] as { template: { spec: Spec } };
    expect(tct.template.spec).toEqual({
      generateType: "worker",
      talosVersion: "v1.13",
      hostname: { source: "MachineName" },
      strategicPatches: ["machine:\n  kubelet:\n    extraArgs:\n      cloud-provider: external\n      node-labels: example.com/tier=web\n      system-reserved: memory=512Mi"],
    });
    const machine = (name: string): Spec => (machineTemplates.find((o) => o.metadata.name.startsWith(`tal-${name}-`))!["spec"] as { template: { spec: Spec } }).template.spec;
    // Talos: its own template, no guest agent or cloud-init status demanded, the provider ID injected by capmox
    expect(machine("tal")).toMatchObject({ templateSelector: { matchTags: ["talos-1.13"] }, checks: { skipCloudInitStatus: true, skipQemuGuestAgent: true }, metadataSettings: { providerIDInjection: true } });
    expect(machine("tal")).not.toHaveProperty("templateID");
    // kubeadm (the default) keeps the platform's template and capmox's checks
    expect(machine("md0")).toMatchObject({ templateID: 9000, sourceNode: "pve1" });
    expect(machine("md0")).not.toHaveProperty("checks");
    type Md = { metadata: { name: string }; spec: { template: { metadata: { labels: Record<string, string> }; spec: { bootstrap: { configRef: { apiVersion: string; kind: string; name: string } } } } } };
    const mds = objects.filter((o) => o.kind === "MachineDeployment") as unknown as Md[];
    expect(mds.map((m) => [m.metadata.name, m.spec.template.spec.bootstrap.configRef.kind, m.spec.template.spec.bootstrap.configRef.apiVersion])).toEqual([
      ["tal-md0", "KubeadmConfigTemplate", "bootstrap.cluster.x-k8s.io/v1beta1"],
      ["tal-tal", "TalosConfigTemplate", "bootstrap.cluster.x-k8s.io/v1alpha3"],
    ]);
    expect(mds[1]!.spec.template.spec.bootstrap.configRef.name).toBe(talosTemplates[0]!.metadata.name);
    expect(mds[1]!.spec.template.metadata.labels).toMatchObject({ "node-role.kubernetes.io/ingress-nginx": "" });

    // The platform's Talos template (proxmox.talosTemplate → talos.template) serves groups that name none.
    const byPlatform = (await helmTemplate(talosChart, {
      release: "kubernetes-tal",
      namespace: "tenant-tal",
      values: { talos: { template: { kind: "id", templateId: 9100, sourceNode: "pve2" } }, nodeGroups: { tal: { bootstrap: "talos" } } },
    })) as unknown as KubeObject[];
    const talosMachine = (byPlatform.find((o) => o.kind === "ProxmoxMachineTemplate")!["spec"] as { template: { spec: Spec } }).template.spec;
    expect(talosMachine).toMatchObject({ templateID: 9100, sourceNode: "pve2", checks: { skipCloudInitStatus: true, skipQemuGuestAgent: true } });
    // A Talos group without a template of its own or the platform's: refused naming the field.
    await expect(helmTemplate(talosChart, { release: "kubernetes-tal", namespace: "tenant-tal", values: { nodeGroups: { tal: { bootstrap: "talos" } } } })).rejects.toThrow(
      /nodeGroups\.tal\.template: a Talos node group needs a Proxmox template made from Talos's nocloud image: set it here or as the platform's talos\.template/,
    );
  });
});
