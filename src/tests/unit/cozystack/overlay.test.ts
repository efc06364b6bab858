import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { renderBundle } from "../../../bundles/index.js";
import { bundlePath, capmoxPins, csiChartPin, ipamPins, overlayCharts, patchPath, renderOverlay, sha256, VendorError } from "../../../cozystack/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { standInChart } from "../../support/stand-in-chart.js";

const tmp = mkdtempSync(join(tmpdir(), "overlay-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const emptyVendor = join(tmp, "no-vendor");

const config = testPlatformConfig();
const bundle = renderBundle(config);
const text = (files: Map<string, string | Buffer>, path: string): string => {
  const v = files.get(path);
  if (v === undefined) throw new Error(`no ${path} in the overlay`);
  return v.toString();
};

describe("renderOverlay", () => {
  it("lays out the bundle, one chart dir per overlay chart, the patch, ConfigMap and README", async () => {
    const files = await renderOverlay(config, bundle, { vendorDir: emptyVendor });
    expect(files.get(bundlePath)).toBe(bundle);
    expect(bundlePath).toBe("packages/core/platform/bundles/paas-proxmox.yaml");
    for (const c of overlayCharts) {
      const chart = parse(text(files, `packages/system/${c.dir}/Chart.yaml`)) as { name: string; version: string };
      expect(chart.name).toBe(`cozy-${c.dir}`);
      expect(files.has(`packages/system/${c.dir}/Makefile`)).toBe(true);
    }
    const dirs = new Set([...files.keys()].filter((k) => k.startsWith("packages/system/")).map((k) => k.split("/")[2]));
    expect([...dirs].sort()).toEqual(overlayCharts.map((c) => c.dir).sort());
    expect(text(files, patchPath)).toContain("+++ b/scripts/installer.sh");
    expect(parse(text(files, "paas-proxmox/cozystack-configmap.yaml"))).toMatchObject({
      kind: "ConfigMap",
      metadata: { name: "cozystack", namespace: "cozy-system" },
      data: { "bundle-name": "paas-proxmox", "root-host": "cozy.lab.example" },
    });
    expect(text(files, "paas-proxmox/README.md")).toContain(`git apply ${patchPath}`);
  });

  it("carries the real capmox and IPAM components, byte for byte", async () => {
    const files = await renderOverlay(config, bundle, { vendorDir: emptyVendor });
    const capmox = files.get("packages/system/capi-providers-infraprovider-proxmox/files/components.gz") as Buffer;
    expect(sha256(gunzipSync(capmox))).toBe(capmoxPins["v0.7.7"]!.components.sha256);
    const ipam = files.get("packages/system/capi-providers-ipam-in-cluster/files/components.gz") as Buffer;
    expect(sha256(gunzipSync(ipam))).toBe(ipamPins["v1.0.3"]!.components.sha256);
    expect(sha256(files.get("packages/system/capi-providers-ipam-in-cluster/files/metadata.yaml")!)).toBe(ipamPins["v1.0.3"]!.metadata.sha256);
  });

  it("is deterministic", async () => {
    const a = await renderOverlay(config, bundle, { vendorDir: emptyVendor, standInChart });
    const b = await renderOverlay(config, bundle, { vendorDir: emptyVendor, standInChart });
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect(Buffer.compare(Buffer.from(v), Buffer.from(b.get(k)!))).toBe(0);
  });

  it("declares unvendored upstream charts and tells how to fetch them", async () => {
    const files = await renderOverlay(config, bundle, { vendorDir: emptyVendor });
    const chart = parse(text(files, "packages/system/proxmox-csi/Chart.yaml")) as { dependencies: unknown[]; annotations: Record<string, string> };
    expect(chart.dependencies).toEqual([{ name: "proxmox-csi-plugin", version: "0.5.12", repository: "oci://ghcr.io/sergelogvinov/charts" }]);
    expect(chart.annotations["paas-proxmox/upstream-chart"]).toBe("declared");
    expect([...files.keys()].filter((k) => k.startsWith("packages/system/proxmox-csi/charts/"))).toEqual([]);
    expect(text(files, "paas-proxmox/README.md")).toContain("helm dependency build packages/system/proxmox-csi");
  });

  it("puts a vendored chart archive in charts/ after checking it against the lock", async () => {
    const vendorDir = join(tmp, "vendor");
    const archive = Buffer.from("stands for a pulled .tgz");
    mkdirSync(dirname(join(vendorDir, csiChartPin.path)), { recursive: true });
    writeFileSync(join(vendorDir, csiChartPin.path), archive);
    const lockPath = join(tmp, "lock.json");
    writeFileSync(lockPath, JSON.stringify({ charts: { [csiChartPin.path]: sha256(archive) } }));
    const files = await renderOverlay(config, bundle, { vendorDir, lockPath });
    expect(files.get("packages/system/proxmox-csi/charts/proxmox-csi-plugin-0.5.12.tgz")).toEqual(archive);
    expect(text(files, "packages/system/proxmox-csi/Chart.yaml")).toContain("paas-proxmox/upstream-chart: vendored");

    writeFileSync(lockPath, JSON.stringify({ charts: { [csiChartPin.path]: sha256("something else") } }));
    await expect(renderOverlay(config, bundle, { vendorDir, lockPath })).rejects.toThrow(VendorError);
  });

  it("keeps credentials out of every file", async () => {
    const files = await renderOverlay(config, bundle, { vendorDir: emptyVendor, standInChart });
    for (const [path, content] of files) {
      if (Buffer.isBuffer(content)) continue;
      expect({ path, hit: /token_secret:\s*[^\s<]/.test(content) || /PROXMOX_SECRET=[^<]/.test(content) }).toEqual({ path, hit: false });
    }
    const values = parse(text(files, "packages/system/proxmox-ccm/values.yaml")) as Record<string, { config: { clusters: Record<string, unknown>[] } }>;
    expect(values["proxmox-cloud-controller-manager"]!.config.clusters[0]).toEqual({
      url: "https://pve1.lab.example:8006/api2/json",
      insecure: false,
      token_id_file: "/run/secrets/proxmox/token_id",
      token_secret_file: "/run/secrets/proxmox/token_secret",
      region: "pve",
    });
  });

  it("refuses a bundle whose releases cannot be read", async () => {
    await expect(renderOverlay(config, "releases: [", { vendorDir: emptyVendor })).rejects.toThrow(/the bundle cannot be read: [\s\S]*no top-level releases/);
    const templated = "releases:\n- name: a\n  chart: cozy-{{ .x }}\n  namespace: n\n";
    await expect(renderOverlay(config, templated, { vendorDir: emptyVendor })).rejects.toThrow(/release a: chart is templated/);
  });
});
