/**
 * The TypeScript template engine against Go's text/template + Sprig in the real helm
 * binary: both render the generated paas-proxmox bundle (and paas-full) for several
 * `cozystack` ConfigMaps, and the parsed results must be equal. helm renders client-side,
 * where `lookup` returns nothing, so a harness chart feeds the ConfigMap through values and
 * defines the platform chart's two named templates as the TypeScript model does for an
 * empty cluster.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paasFullPath, renderBundle } from "../../../bundles/index.js";
import { cozystackConfigMapData, renderBundleText, TemplateFailure } from "../../../cozystack/index.js";
import { helmPath } from "../../../tools/helm.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";

const run = promisify(execFile);
let tmp: string;

const harnessTemplate = `{{- $rendered := tpl (.Files.Get "bundle.yaml") . }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: rendered
data:
  bundle: {{ $rendered | quote }}
`;
// What the TypeScript model renders for these helpers on a cluster with no control-plane
// nodes, no Flux HelmRepositories and no branding ConfigMap.
const harnessHelpers = `{{- define "cozystack.master-node-ips" -}}{{- end -}}
{{- define "cozystack.defaultDashboardValues" -}}
kubeapps:
  dashboard:
    resourcesPreset: none
  frontend:
    resourcesPreset: none
{{- end -}}
`;

async function helmRender(bundleText: string, data: Record<string, string>): Promise<string> {
  const chart = mkdtempSync(join(tmp, "harness-"));
  mkdirSync(join(chart, "templates"));
  writeFileSync(join(chart, "Chart.yaml"), "apiVersion: v2\nname: harness\nversion: 0.1.0\n");
  writeFileSync(join(chart, "templates", "render.yaml"), harnessTemplate);
  writeFileSync(join(chart, "templates", "_helpers.tpl"), harnessHelpers);
  // Client-side helm cannot look the ConfigMap up; the harness passes it as a value instead.
  writeFileSync(join(chart, "bundle.yaml"), bundleText.replace('lookup "v1" "ConfigMap" "cozy-system" "cozystack"', ".Values.cozyConfig"));
  const values = { cozyConfig: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cozystack", namespace: "cozy-system" }, data } };
  writeFileSync(join(chart, "values.json"), JSON.stringify(values));
  const { stdout } = await run(helmPath(), ["template", "platform", chart, "--namespace", "cozy-system", "-f", join(chart, "values.json")]);
  return (parse(stdout) as { data: { bundle: string } }).data.bundle;
}

const config = testPlatformConfig();
const base = cozystackConfigMapData(config);
const variants: Record<string, Record<string, string>> = {
  defaults: base,
  "oidc on, telemetry off, custom domain": { ...base, "oidc-enabled": "true", "telemetry-enabled": "false", "cluster-domain": "corp.local" },
  "oidc false string, cpu ratio": { ...base, "oidc-enabled": "false", "cpu-allocation-ratio": "4" },
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "bundle-template-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("bundle template rendering: TypeScript engine vs helm", () => {
  const bundles = { "paas-proxmox": () => renderBundle(config), "paas-full": () => readFileSync(paasFullPath(), "utf8") };
  for (const [bundleName, text] of Object.entries(bundles)) {
    for (const [variant, data] of Object.entries(variants)) {
      it(`${bundleName}, ${variant}: same releases`, async () => {
        const bundleText = text();
        const fromHelm = parse(await helmRender(bundleText, data));
        const fromTs = parse(renderBundleText(bundleText, data));
        expect(fromTs).toEqual(fromHelm);
        expect((fromTs as { releases: unknown[] }).releases.length).toBeGreaterThan(40);
      });
    }
  }

  it("fails on the header guard the same way", async () => {
    const { "api-server-endpoint": _, ...data } = base;
    const bundleText = renderBundle(config);
    await expect(helmRender(bundleText, data)).rejects.toThrow(/ERROR need api-server-endpoint in cozystack ConfigMap/);
    expect(() => renderBundleText(bundleText, data)).toThrow(TemplateFailure);
    expect(() => renderBundleText(bundleText, data)).toThrow(/ERROR need api-server-endpoint in cozystack ConfigMap/);
  });
});
