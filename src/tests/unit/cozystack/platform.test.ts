import { describe, expect, it } from "vitest";
import { installedObjects, TemplateFailure, type KubeObject } from "../../../cozystack/index.js";

// A small bundle in the v0.37 format, with the paas-full header guards.
const header = `{{- $cozyConfig := lookup "v1" "ConfigMap" "cozy-system" "cozystack" }}
{{- $oidcEnabled := index $cozyConfig.data "oidc-enabled" }}
{{- $host := index $cozyConfig.data "root-host" }}
{{- if not $host }}
{{- fail "ERROR need root-host in cozystack ConfigMap" }}
{{- end }}
`;
const bundle = `${header}
releases:
- name: cilium
  releaseName: cilium
  chart: cozy-cilium
  namespace: cozy-cilium
  privileged: true
  dependsOn: []
  valuesFiles: [values.yaml, values-talos.yaml]

- name: kubeovn
  releaseName: kubeovn
  chart: cozy-kubeovn
  namespace: cozy-kubeovn
  dependsOn: [cilium]
  values:
    cozystack:
      nodesHash: {{ include "cozystack.master-node-ips" . | sha256sum }}
    kube-ovn:
      ipv4:
        POD_CIDR: "{{ index $cozyConfig.data "ipv4-pod-cidr" }}"
      list: [a, b]

- name: cozy-proxy
  releaseName: cozystack
  chart: cozy-cozy-proxy
  namespace: cozy-system
  dependsOn: [cilium, kubeovn, velero, nosuch]

- name: velero
  releaseName: velero
  chart: cozy-velero
  namespace: cozy-velero
  privileged: true
  optional: true
  dependsOn: [cilium]
{{- if $oidcEnabled }}

- name: keycloak
  releaseName: keycloak
  chart: cozy-keycloak
  namespace: cozy-keycloak
  dependsOn: [cilium]
{{- end }}
`;

const base = { "bundle-name": "test", "root-host": "example.org", "ipv4-pod-cidr": "10.244.0.0/16" };
const hr = (objs: ReturnType<typeof installedObjects>, name: string) => objs.helmReleases.find((h) => h.metadata.name === name);

describe("installedObjects (CozyStack v0.37.10 platform chart semantics)", () => {
  it("renders HelmReleases as helmreleases.yaml does", () => {
    const objs = installedObjects(bundle, base);
    expect(objs.installed).toEqual(["cilium", "kubeovn", "cozy-proxy"]);
    const proxy = hr(objs, "cozy-proxy")!;
    expect(proxy.metadata).toEqual({
      name: "cozy-proxy",
      namespace: "cozy-system",
      labels: { "cozystack.io/repository": "system", "cozystack.io/system-app": "true" },
    });
    expect(proxy.spec.releaseName).toBe("cozystack");
    expect(proxy.spec.interval).toBe("5m");
    expect(proxy.spec.install).toEqual({ crds: "CreateReplace", remediation: { retries: -1 } });
    expect(proxy.spec.chart.spec).toEqual({
      chart: "cozy-cozy-proxy",
      reconcileStrategy: "Revision",
      sourceRef: { kind: "HelmRepository", name: "cozystack-system", namespace: "cozy-system" },
      version: ">= 0.0.0-0",
    });
    expect(hr(objs, "cilium")!.spec.chart.spec.valuesFiles).toEqual(["values.yaml", "values-talos.yaml"]);
    expect(hr(objs, "cilium")!.spec.dependsOn).toBeUndefined();
  });

  it("maps dependsOn to namespaces: unknown targets get no namespace, optional ones are kept, disabled ones dropped", () => {
    const objs = installedObjects(bundle, base);
    expect(hr(objs, "cozy-proxy")!.spec.dependsOn).toEqual([
      { name: "cilium", namespace: "cozy-cilium" },
      { name: "kubeovn", namespace: "cozy-kubeovn" },
      { name: "velero", namespace: "cozy-velero" },
      { name: "nosuch", namespace: null },
    ]);
    const disabled = installedObjects(bundle, { ...base, "bundle-disable": "kubeovn,velero" });
    expect(disabled.installed).not.toContain("kubeovn");
    expect(hr(disabled, "cozy-proxy")!.spec.dependsOn!.map((d) => d.name)).toEqual(["cilium", "nosuch"]);
  });

  it("installs optional releases only when enabled and keycloak only with oidc-enabled=true", () => {
    expect(installedObjects(bundle, { ...base, "bundle-enable": "velero" }).installed).toContain("velero");
    // oidc-enabled "false" is a non-empty string: the bundle lists keycloak, the platform chart skips it.
    const off = installedObjects(bundle, { ...base, "oidc-enabled": "false" });
    expect(off.releases.map((r) => r.name)).toContain("keycloak");
    expect(off.installed).not.toContain("keycloak");
    expect(installedObjects(bundle, { ...base, "oidc-enabled": "true" }).installed).toContain("keycloak");
  });

  it("deep-merges values-<name> over the bundle's values, replacing lists", () => {
    const objs = installedObjects(bundle, {
      ...base,
      "values-kubeovn": "kube-ovn:\n  ipv4:\n    JOIN_CIDR: 100.64.0.0/16\n  list: [c]\nextra: true\n",
      "values-cilium": "k8sServicePort: 7445",
    });
    expect(hr(objs, "kubeovn")!.spec.values).toEqual({
      cozystack: { nodesHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      "kube-ovn": { ipv4: { POD_CIDR: "10.244.0.0/16", JOIN_CIDR: "100.64.0.0/16" }, list: ["c"] },
      extra: true,
    });
    expect(hr(objs, "cilium")!.spec.values).toEqual({ k8sServicePort: 7445 });
  });

  it("hashes the InternalIPs of control-plane nodes into nodesHash", () => {
    const node = (name: string, ip: string, cp: boolean): KubeObject => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: cp ? { "node-role.kubernetes.io/control-plane": "" } : {} },
      status: { addresses: [{ type: "Hostname", address: name }, { type: "InternalIP", address: ip }] },
    });
    const hash = (objects: KubeObject[]) => {
      const v = hr(installedObjects(bundle, base, { objects }), "kubeovn")!.spec.values as { cozystack: { nodesHash: string } };
      return v.cozystack.nodesHash;
    };
    const empty = hash([]);
    expect(empty).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); // sha256("")
    const two = hash([node("a", "10.0.0.1", true), node("b", "10.0.0.2", true), node("w", "10.0.0.9", false)]);
    expect(two).not.toBe(empty);
    expect(hash([node("a", "10.0.0.1", true), node("b", "10.0.0.2", true)])).toBe(two);
  });

  it("creates namespaces with privileged labels, including the disabled-privileged quirk", () => {
    const objs = installedObjects(bundle, { ...base, "bundle-disable": "kubeovn" });
    const ns = Object.fromEntries(objs.namespaces.map((n) => [n.metadata.name, n.metadata.labels?.["pod-security.kubernetes.io/enforce"] ?? "-"]));
    // cozy-velero: velero is optional and not enabled, but privileged, so the namespace still appears.
    // cozy-kubeovn: kubeovn is disabled and not privileged, so it does not.
    expect(ns).toEqual({
      "cozy-cilium": "privileged",
      "cozy-public": "-",
      "cozy-system": "privileged",
      "cozy-velero": "privileged",
      "tenant-root": "-",
    });
    expect(objs.namespaces[0]!.metadata.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
  });

  it("renders tenant-root waiting for cilium and kubeovn, with root-host", () => {
    const objs = installedObjects(bundle, base);
    const root = hr(objs, "tenant-root")!;
    expect(root.spec.dependsOn).toEqual([
      { name: "cilium", namespace: "cozy-cilium" },
      { name: "kubeovn", namespace: "cozy-kubeovn" },
    ]);
    expect(root.spec.values).toEqual({ host: "example.org" });
    expect(objs.helmRepositories.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([
      "cozy-system/cozystack-system",
      "cozy-public/cozystack-apps",
      "cozy-public/cozystack-extra",
    ]);
  });

  it("marks releases that are no longer installed for deletion when their HelmRelease exists", () => {
    const existing: KubeObject = { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: "velero", namespace: "cozy-velero" } };
    const objs = installedObjects(bundle, base, { objects: [existing], apiVersions: ["helm.toolkit.fluxcd.io/v2"] });
    expect(objs.installed).not.toContain("velero");
    expect(hr(objs, "velero")!.metadata.labels["cozystack.io/marked-for-deletion"]).toBe("true");
    // Without the Flux API in .Capabilities the platform chart cannot look it up.
    expect(hr(installedObjects(bundle, base, { objects: [existing] }), "velero")).toBeUndefined();
  });

  it("fails like the bundle header when root-host is missing", () => {
    const { "root-host": _, ...noHost } = base;
    expect(() => installedObjects(bundle, noHost)).toThrow(TemplateFailure);
    expect(() => installedObjects(bundle, noHost)).toThrow("ERROR need root-host in cozystack ConfigMap");
  });

  it("refuses a bundle that renders to invalid YAML instead of installing nothing", () => {
    expect(() => installedObjects(`${header}\nreleases:\n- name: a\n  chart: [unclosed\n`, base)).toThrow(/not valid YAML/);
    expect(() => installedObjects(`${header}\nfoo: bar\n`, base)).toThrow(/no releases: list/);
  });
});
