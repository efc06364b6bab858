import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BundleError, bundleReleases, emitBundle, emitRelease, loadPaasFull, paasFullPath, parseBundleSource, readRelease } from "../../../bundles/index.js";

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

  it("re-emits paas-full with its header and every entry verbatim, so the platform chart installs what the original gives", () => {
    const original = readFileSync(paasFullPath(), "utf8");
    const src = loadPaasFull();
    const again = parseBundleSource(emitBundle(src.header, src.entries));
    expect(again).toEqual(parseBundleSource(original));
    for (const oidcEnabled of [undefined, "false", "true"]) {
      expect(bundleReleases(emitBundle(src.header, src.entries), { oidcEnabled })).toEqual(bundleReleases(original, { oidcEnabled }));
    }
  });

  it("reads each release's graph fields, values skipped, and refuses template text it cannot read", () => {
    const entry = (text: string) => ({ name: "a", text, guards: [] });
    expect(
      readRelease(entry("- name: a\n  chart: cozy-a\n  namespace: ns\n  optional: true\n  values:\n    x: {{ .y }}\n  dependsOn:\n  - b\n  {{- if $oidcEnabled }}\n  - c\n  {{- end }}")),
    ).toEqual({ name: "a", releaseName: "a", chart: "cozy-a", namespace: "ns", privileged: false, optional: true, dependsOn: ["b"] });
    expect(() => readRelease(entry("- name: a\n  chart: cozy-{{ .x }}\n  namespace: ns"))).toThrow(/release a: chart is templated/);
    expect(() => readRelease(entry("- name: a\n  chart: c\n  namespace: ns\n  {{- if .Values.x }}\n  privileged: true\n  {{- end }}"))).toThrow(/privileged is templated/);
    expect(() => readRelease(entry("- name: a\n  chart: c\n  namespace: ns\n  dependsOn:\n  {{- if .Values.x }}\n  - b\n  {{- end }}"))).toThrow(/the release model cannot read it/);
    expect(() => readRelease(entry("- name: a\n  namespace: ns"))).toThrow(/no chart or namespace/);
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
