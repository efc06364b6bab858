/**
 * The generated paas-proxmox bundle through CozyStack v0.37.10's own platform chart (the
 * release files in shared/reference), rendered by the real helm against the real
 * kube-apiserver this file starts (`helm template --dry-run=server`): the chart reads the
 * `cozystack` ConfigMap and the cluster with its own `lookup`s, unchanged.
 *
 * What it holds: the release model synth checks and bootstrap prepares for
 * (src/bundles/model.ts, installed.ts) predicts exactly the HelmReleases and Namespaces the
 * chart renders; every dependency the chart renders points at a HelmRelease it renders;
 * every chart exists in the release or the overlay, none is KubeVirt's; the ConfigMap's
 * overrides reach the values; the header's guards fail as upstream wrote them.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, expect, test } from "vitest";
import { kubevirtResourceDefinitions, platformInstall, renderBundle } from "../../../bundles/index.js";
import { cozystackConfigMapData, overlayCharts } from "../../../cozystack/index.js";
import type { KubeObject } from "../../../kube/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";
import { releaseDir, renderPlatformWith } from "../../support/platform-chart.js";

interface HelmRelease extends KubeObject {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    releaseName: string;
    chart: { spec: { chart: string } };
    values?: Record<string, unknown>;
    dependsOn?: { name: string; namespace: string }[] | null;
  };
}

const config = testPlatformConfig();
const base = cozystackConfigMapData(config);
const list = (v: string | undefined): string[] => (v ? v.split(",") : []);
const settingsOf = (data: Record<string, string>) => ({
  enable: list(data["bundle-enable"]),
  disable: list(data["bundle-disable"]),
  oidcEnabled: data["oidc-enabled"] === "true",
});

const variants: Record<string, Record<string, string>> = {
  defaults: base,
  "oidc on (keycloak releases), optional releases enabled": { ...base, "oidc-enabled": "true", "bundle-enable": "velero,external-dns,nfs-driver,bootbox" },
  "oidc-enabled \"false\", releases disabled, values overrides": {
    ...base,
    "oidc-enabled": "false",
    "bundle-disable": "proxmox-ccm,monitoring-agents",
    "values-proxmox-csi": "storageClass:\n  - name: fast\n    storage: ceph-vm\n",
    "values-capi-providers-infraprovider-proxmox": "extra: 1\n",
  },
};

const helmReleases = (objects: readonly KubeObject[]): HelmRelease[] =>
  objects.filter((o): o is HelmRelease => o.kind === "HelmRelease" && o.metadata.name !== "tenant-root");

/** Chart names (`name:` of Chart.yaml) of every system chart in the release. */
function releaseSystemCharts(): Set<string> {
  const dir = releaseDir("packages", "system");
  return new Set(
    readdirSync(dir)
      .filter((d) => existsSync(join(dir, d, "Chart.yaml")))
      .map((d) => (parse(readFileSync(join(dir, d, "Chart.yaml"), "utf8")) as { name: string }).name),
  );
}

describeKube("CozyStack v0.37.10's platform chart renders the paas-proxmox bundle (real helm, real kube-apiserver)", () => {
  const env = useKubeEnv();
  let bundleText: string;
  beforeAll(() => {
    bundleText = renderBundle(config);
  });

  for (const [variant, data] of Object.entries(variants)) {
    test(`${variant}: the release model predicts the chart's HelmReleases and Namespaces`, async () => {
      const objects = await renderPlatformWith(env(), bundleText, data);
      const model = platformInstall(bundleText, settingsOf(data), data["oidc-enabled"]);
      const disabled = list(data["bundle-disable"]);
      const real = helmReleases(objects).map((hr) => ({
        name: hr.metadata.name,
        namespace: hr.metadata.namespace,
        releaseName: hr.spec.releaseName,
        chart: hr.spec.chart.spec.chart,
        dependsOn: (hr.spec.dependsOn ?? []).map((d) => d.name),
        markedForDeletion: hr.metadata.labels["cozystack.io/marked-for-deletion"] === "true",
      }));
      const predicted = model.installed.map((r) => ({
        name: r.name,
        namespace: r.namespace,
        releaseName: r.releaseName,
        chart: r.chart,
        dependsOn: r.dependsOn.filter((d) => !disabled.includes(d)),
        markedForDeletion: false,
      }));
      expect(real).toEqual(predicted);
      expect(real.length).toBeGreaterThan(40);

      const namespaces = objects
        .filter((o) => o.kind === "Namespace" && o.metadata.name !== "tenant-root")
        .map((o) => [o.metadata.name, (o.metadata.labels ?? {})["pod-security.kubernetes.io/enforce"] === "privileged"] as const);
      expect(new Map(namespaces)).toEqual(model.namespaces);
    });

    test(`${variant}: every dependency the chart renders is a HelmRelease it renders, in that namespace`, async () => {
      const hrs = helmReleases(await renderPlatformWith(env(), bundleText, data));
      const rendered = new Set(hrs.map((hr) => `${hr.metadata.namespace}/${hr.metadata.name}`));
      const dangling = hrs.flatMap((hr) =>
        (hr.spec.dependsOn ?? []).filter((d) => !rendered.has(`${d.namespace}/${d.name}`)).map((d) => `${hr.metadata.name} -> ${d.namespace}/${d.name}`),
      );
      expect(dangling).toEqual([]);
    });
  }

  test("every chart a HelmRelease names exists in the release or the overlay; none is KubeVirt's", async () => {
    const hrs = helmReleases(await renderPlatformWith(env(), bundleText, variants["oidc on (keycloak releases), optional releases enabled"]!));
    const charts = hrs.map((hr) => hr.spec.chart.spec.chart);
    const available = new Set([...releaseSystemCharts(), ...overlayCharts.map((c) => c.chart)]);
    expect(charts.filter((c) => !available.has(c))).toEqual([]);
    expect(charts.filter((c) => /kubevirt/.test(c))).toEqual([]);
    expect(charts).toEqual(
      expect.arrayContaining(["cozy-capi-providers-infraprovider-proxmox", "cozy-capi-providers-ipam-in-cluster", "cozy-proxmox-csi", "cozy-proxmox-ccm", "cozy-kubernetes-proxmox-rd"]),
    );
  });

  test("the ConfigMap's values-<release> overrides and the bundle's own values reach the HelmReleases", async () => {
    const data = variants["oidc-enabled \"false\", releases disabled, values overrides"]!;
    const hrs = helmReleases(await renderPlatformWith(env(), bundleText, data));
    const values = (name: string) => hrs.find((hr) => hr.metadata.name === name)?.spec.values;
    expect(values("proxmox-csi")).toMatchObject({ storageClass: [{ name: "fast", storage: "ceph-vm" }] });
    expect(values("capi-providers-infraprovider-proxmox")).toMatchObject({ extra: 1 });
    expect(values("cozystack-resource-definitions")).toEqual({ exclude: [...kubevirtResourceDefinitions] });
    expect(hrs.map((hr) => hr.metadata.name)).not.toContain("proxmox-ccm");
  });

  test("the chart's lookups read this cluster: a control-plane Node's address reaches kubeovn's nodesHash", async () => {
    const client = env().client;
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "cp-1", labels: { "node-role.kubernetes.io/control-plane": "" } } };
    await client.apply(node, { fieldManager: "platform-chart-test" });
    try {
      await client.apply({ ...node, status: { addresses: [{ type: "InternalIP", address: "10.9.8.7" }] } }, { fieldManager: "platform-chart-test", subresource: "status" });
      const hrs = helmReleases(await renderPlatformWith(env(), bundleText, base));
      const kubeovn = hrs.find((hr) => hr.metadata.name === "kubeovn")!.spec.values as { cozystack: { nodesHash: string } };
      expect(kubeovn.cozystack.nodesHash).toBe(createHash("sha256").update("10.9.8.7").digest("hex"));
    } finally {
      await client.delete({ apiVersion: "v1", kind: "Node", name: "cp-1" });
    }
  });

  test("a release left out while its HelmRelease exists is rendered marked for deletion", async () => {
    const client = env().client;
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cozy-velero" } }, { fieldManager: "platform-chart-test" });
    await client.apply(existingHelmRelease("velero"), { fieldManager: "platform-chart-test" });
    try {
      const hrs = helmReleases(await renderPlatformWith(env(), bundleText, base));
      const rendered = hrs.find((hr) => hr.metadata.name === "velero");
      expect(rendered?.metadata.labels["cozystack.io/marked-for-deletion"]).toBe("true");
    } finally {
      await client.delete({ apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name: "velero", namespace: "cozy-velero" });
    }
  });

  test("the header's guards fail as upstream wrote them", async () => {
    const { "api-server-endpoint": _, ...data } = base;
    await expect(renderPlatformWith(env(), bundleText, data)).rejects.toThrow(/ERROR need api-server-endpoint in cozystack ConfigMap/);
  });
});

/** A minimal existing HelmRelease, as Flux would hold one from an earlier install. */
function existingHelmRelease(name: string): KubeObject {
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name, namespace: `cozy-${name}` },
    spec: {
      interval: "5m",
      chart: { spec: { chart: `cozy-${name}`, sourceRef: { kind: "HelmRepository", name: "cozystack-system", namespace: "cozy-system" } } },
    },
  };
}
