/**
 * Every overlay chart through the real helm binary: `helm lint --strict` and
 * `helm template`, then assertions on what the templates produce, and strict validation
 * of the CAPI operator objects against their pinned CRDs.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBundle } from "../../../bundles/index.js";
import { capmoxPins, csiChartPin, ipamPins, overlayCharts, renderOverlay, sha256 } from "../../../cozystack/index.js";
import { formatValidationIssues, validateObjects } from "../../../crds/index.js";
import { helmPath } from "../../../tools/helm.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { standInChart } from "../../support/stand-in-chart.js";

const run = promisify(execFile);
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
type PodSpec = { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] };
/** The pod spec of the one Deployment among the objects. */
const podSpec = (objs: Obj[]): PodSpec => (objs.find((o) => o.kind === "Deployment")!.spec as { template: { spec: PodSpec } }).template.spec;

let tmp: string;
const helm = (...args: string[]) => run(helmPath(), args, { maxBuffer: 64 * 1024 * 1024 });

async function writeOverlay(dir: string, files: Map<string, string | Buffer>): Promise<void> {
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

async function template(chartDir: string, namespace: string, ...extra: string[]): Promise<Obj[]> {
  const { stdout } = await helm("template", "rel", chartDir, "--namespace", namespace, ...extra);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const config = testPlatformConfig({ proxmox: { tls: { insecure: false, caFile: "/etc/pve/ca.pem" } } });
let overlay: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "overlay-helm-"));
  overlay = join(tmp, "overlay");
  const files = await renderOverlay(config, renderBundle(config), { vendorDir: join(tmp, "no-vendor"), standInChart });
  await writeOverlay(overlay, files);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const chartDir = (dir: string): string => join(overlay, "packages", "system", dir);

describe("overlay charts with the real helm", () => {
  it.each(overlayCharts.map((c) => c.dir))("%s passes helm lint --strict and helm template", async (dir) => {
    const lint = await helm("lint", "--strict", chartDir(dir));
    expect(lint.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect((await template(chartDir(dir), "cozy-test")).length).toBeGreaterThan(0);
  });

  it("capmox: InfrastructureProvider fetching the real components from its own ConfigMap, credentials via configSecret", async () => {
    const objs = await template(chartDir("capi-providers-infraprovider-proxmox"), "cozy-cluster-api");
    const provider = objs.find((o) => o.kind === "InfrastructureProvider")!;
    const cm = objs.find((o) => o.kind === "ConfigMap")!;
    expect(provider).toMatchObject({
      apiVersion: "operator.cluster.x-k8s.io/v1alpha2",
      metadata: { name: "proxmox" },
      spec: {
        version: "v0.7.7-infraprovider-proxmox",
        configSecret: { name: "capmox-credentials", namespace: "cozy-cluster-api" },
        fetchConfig: { selector: { matchLabels: { "infraprovider-proxmox-components": "cozy" } } },
        deployment: { containers: [{ name: "manager", args: { "--proxmox-insecure": "false" } }] },
      },
    });
    // The operator pairs the ConfigMap by its name (the version) and the selector label.
    expect(cm.metadata.name).toBe("v0.7.7-infraprovider-proxmox");
    expect(cm.metadata.labels).toEqual({ "infraprovider-proxmox-components": "cozy" });
    expect(cm.metadata.labels).not.toHaveProperty("infraprovider-components");
    const components = gunzipSync(Buffer.from((cm.binaryData as { components: string }).components, "base64"));
    expect(sha256(components)).toBe(capmoxPins["v0.7.7"]!.components.sha256);
    expect(sha256((cm.data as { metadata: string }).metadata)).toBe(capmoxPins["v0.7.7"]!.metadata.sha256);
    const issues = validateObjects([provider]);
    expect(formatValidationIssues(issues)).toBe("");
  });

  it("capmox: TLS verification is off only when the config says insecure", async () => {
    const insecure = testPlatformConfig({ proxmox: { tls: { insecure: true } } });
    const files = await renderOverlay(insecure, renderBundle(insecure), { vendorDir: join(tmp, "no-vendor") });
    const dir = join(tmp, "insecure");
    await writeOverlay(dir, files);
    const objs = await template(join(dir, "packages/system/capi-providers-infraprovider-proxmox"), "cozy-cluster-api");
    expect(objs.find((o) => o.kind === "InfrastructureProvider")).toMatchObject({ spec: { deployment: { containers: [{ args: { "--proxmox-insecure": "true" } }] } } });
  });

  it("IPAM: IPAMProvider in-cluster with the real v1.0.3 components and a selector of its own", async () => {
    const objs = await template(chartDir("capi-providers-ipam-in-cluster"), "cozy-cluster-api");
    const provider = objs.find((o) => o.kind === "IPAMProvider")!;
    const cm = objs.find((o) => o.kind === "ConfigMap")!;
    expect(provider).toMatchObject({
      metadata: { name: "in-cluster" },
      spec: { version: "v1.0.3-ipam-in-cluster", fetchConfig: { selector: { matchLabels: { "ipamprovider-in-cluster-components": "cozy" } } } },
    });
    expect(provider.spec).not.toHaveProperty("configSecret");
    expect(cm.metadata.name).toBe("v1.0.3-ipam-in-cluster");
    const components = gunzipSync(Buffer.from((cm.binaryData as { components: string }).components, "base64"));
    expect(sha256(components)).toBe(ipamPins["v1.0.3"]!.components.sha256);
    expect(formatValidationIssues(validateObjects([provider]))).toBe("");
  });

  it("CSI: provider capmox, region topology, credentials and CA mounted from the cluster, none inline", async () => {
    const objs = await template(chartDir("proxmox-csi"), "cozy-proxmox-csi");
    const secret = objs.find((o) => o.kind === "Secret")!;
    const cfg = Buffer.from((secret.data as Record<string, string>)["config.yaml"]!, "base64").toString();
    expect(cfg).toContain("provider: capmox");
    expect(cfg).toContain("url: https://pve1.lab.example:8006/api2/json");
    expect(cfg).toContain("token_secret_file: /run/secrets/proxmox/token_secret");
    expect(cfg).not.toMatch(/token_secret:/);
    const sc = objs.find((o) => o.kind === "StorageClass")!;
    expect(sc).toMatchObject({
      metadata: { name: "proxmox-csi" },
      provisioner: "csi.proxmox.sinextra.dev",
      parameters: { storage: "local-lvm", "csi.storage.k8s.io/fstype": "ext4" },
      allowedTopologies: [{ matchLabelExpressions: [{ key: "topology.kubernetes.io/region", values: ["pve"] }] }],
    });
    const pod = podSpec(objs);
    expect(pod.volumes).toContainEqual({ name: "proxmox-credentials", secret: { secretName: "proxmox-csi-credentials" } });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: "proxmox-credentials", mountPath: "/run/secrets/proxmox", readOnly: true });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: "proxmox-ca", mountPath: "/etc/ssl/certs/proxmox-ca.crt", subPath: "ca.crt", readOnly: true });
  });

  it("CCM: provider capmox, node controllers, credentials from a Secret; values overridable per release", async () => {
    const objs = await template(chartDir("proxmox-ccm"), "cozy-proxmox-ccm", "--set", "proxmox-cloud-controller-manager.config.clusters[0].region=west");
    const secret = objs.find((o) => o.kind === "Secret")!;
    const cfg = Buffer.from((secret.data as Record<string, string>)["config.yaml"]!, "base64").toString();
    expect(cfg).toContain("provider: capmox");
    expect(cfg).toContain("region: west");
    const pod = podSpec(objs);
    expect(pod.volumes).toContainEqual({ name: "proxmox-credentials", secret: { secretName: "proxmox-ccm-credentials" } });
  });

  it("fails helm template loudly when an upstream chart is only declared", async () => {
    const files = await renderOverlay(config, renderBundle(config), { vendorDir: join(tmp, "no-vendor") });
    const dir = join(tmp, "declared");
    await writeOverlay(dir, files);
    await expect(template(join(dir, "packages/system/proxmox-csi"), "cozy-proxmox-csi")).rejects.toThrow(/missing in charts\/ directory: proxmox-csi-plugin/);
  });

  it("uses a vendored chart archive: helm lints and renders the wrapper with it", async () => {
    // Package the stand-in as the archive the vendor step would have pulled.
    const pkgDir = join(tmp, "pkg");
    mkdirSync(pkgDir, { recursive: true });
    await helm("package", join(chartDir("proxmox-csi"), "charts", "proxmox-csi-plugin"), "--destination", pkgDir);
    const [tgz] = readdirSync(pkgDir);
    const vendorDir = join(tmp, "vendor");
    mkdirSync(dirname(join(vendorDir, csiChartPin.path)), { recursive: true });
    copyFileSync(join(pkgDir, tgz!), join(vendorDir, csiChartPin.path));
    const lockPath = join(tmp, "lock.json");
    writeFileSync(lockPath, JSON.stringify({ charts: { [csiChartPin.path]: sha256(readFileSync(join(vendorDir, csiChartPin.path))) } }));
    const files = await renderOverlay(config, renderBundle(config), { vendorDir, lockPath });
    const dir = join(tmp, "vendored");
    await writeOverlay(dir, files);
    const csi = join(dir, "packages/system/proxmox-csi");
    expect(readdirSync(join(csi, "charts"))).toEqual(["proxmox-csi-plugin-0.5.12.tgz"]);
    expect((await helm("lint", "--strict", csi)).stdout).toContain("0 chart(s) failed");
    expect((await template(csi, "cozy-proxmox-csi")).map((o) => o.kind).sort()).toEqual(["Deployment", "Secret", "StorageClass"]);
  });
});
