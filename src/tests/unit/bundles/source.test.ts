import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BundleError, emitBundle, emitRelease, loadPaasFull, paasFullPath, parseBundleSource } from "../../../bundles/index.js";
import { installedObjects } from "../../../cozystack/index.js";

const data = {
  "bundle-name": "paas-full",
  "root-host": "example.org",
  "api-server-endpoint": "https://10.0.0.10:6443",
  "ipv4-pod-cidr": "10.244.0.0/16",
  "ipv4-pod-gateway": "10.244.0.1",
  "ipv4-svc-cidr": "10.96.0.0/16",
  "ipv4-join-cidr": "100.64.0.0/16",
};

describe("bundle source and emitter", () => {
  it("reads paas-full into its header and 58 releases, keycloak behind the $oidcEnabled guard", () => {
    const src = loadPaasFull();
    expect(src.header).toContain('{{- fail "ERROR need root-host in cozystack ConfigMap" }}');
    expect(src.header).toContain('{{- fail "ERROR need api-server-endpoint in cozystack ConfigMap" }}');
    expect(src.entries).toHaveLength(58);
    expect(src.entries.filter((e) => e.guards.length > 0).map((e) => [e.name, e.guards])).toEqual([
      ["keycloak", ["$oidcEnabled"]],
      ["keycloak-operator", ["$oidcEnabled"]],
      ["keycloak-configure", ["$oidcEnabled"]],
    ]);
    expect(src.entries.find((e) => e.name === "dashboard")!.text).toContain('{{- if eq $oidcEnabled "true" }}');
  });

  it("re-emits paas-full so that the platform chart installs exactly what the original gives", () => {
    const original = readFileSync(paasFullPath(), "utf8");
    const src = loadPaasFull();
    const again = emitBundle(src.header, src.entries);
    const variants: Record<string, string>[] = [{}, { "oidc-enabled": "true", "bundle-enable": "velero,gpu-operator", "telemetry-enabled": "false" }];
    for (const extra of variants) {
      expect(installedObjects(again, { ...data, ...extra })).toEqual(installedObjects(original, { ...data, ...extra }));
    }
  });

  it("emits typed releases in upstream's field order and refuses template text in values", () => {
    const text = emitRelease({
      name: "x",
      releaseName: "x-rel",
      chart: "cozy-x",
      namespace: "cozy-x",
      privileged: true,
      optional: true,
      dependsOn: ["a", "b"],
      values: { b: 1, a: { z: [1, 2] } },
      valuesFiles: ["values.yaml"],
    });
    expect(text).toBe(
      [
        "- name: x",
        "  releaseName: x-rel",
        "  chart: cozy-x",
        "  namespace: cozy-x",
        "  privileged: true",
        "  optional: true",
        "  dependsOn: [a,b]",
        "  values:",
        "    a:",
        "      z:",
        "        - 1",
        "        - 2",
        "    b: 1",
        "  valuesFiles:",
        "  - values.yaml",
      ].join("\n"),
    );
    const bad = () =>
      emitRelease({ name: "x", releaseName: "x", chart: "c", namespace: "n", privileged: false, optional: false, dependsOn: [], values: { a: "{{ .Values }}" } });
    expect(bad).toThrow(BundleError);
    expect(bad).toThrow(/release x: values\.a: .* contains "\{\{"/);
  });

  it("rejects bundle files it cannot read safely", () => {
    expect(() => parseBundleSource("foo: 1\n")).toThrow(/no top-level releases/);
    expect(() => parseBundleSource("releases:\n{{- if $x }}\n- name: a\n  chart: c\n")).toThrow(/never closed/);
    expect(() => parseBundleSource("releases:\n{{- end }}\n")).toThrow(/without a top-level/);
    expect(() => parseBundleSource("releases:\nstray: 1\n")).toThrow(/unexpected top-level line/);
  });
});
