/**
 * The platform model on CozyStack v1.6.2's own chart files, and on small charts that use
 * the same helpers, for what it must refuse rather than guess.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mergeValues, platformChartDir, platformPackages, platformValues } from "../../../packages/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A chart folder with v1.6.2's _helpers.tpl and one bundle file. */
function chartWith(bundle: string): string {
  const dir = mkdtempSync(join(tmpdir(), "platform-model-"));
  dirs.push(dir);
  mkdirSync(join(dir, "templates", "bundles"), { recursive: true });
  copyFileSync(platformChartDir("templates", "_helpers.tpl"), join(dir, "templates", "_helpers.tpl"));
  writeFileSync(join(dir, "templates", "bundles", "test.yaml"), bundle);
  return dir;
}

describe("the v1.6.2 platform chart's Packages, read from its templates", () => {
  it("merges values as Helm does: maps key by key, lists replaced", () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });

  it("isp-full with iaas brings KubeVirt; the optional ones only when enabled, disabled wins", () => {
    const names = (values: Record<string, unknown>) => platformPackages(platformValues("isp-full", values)).packages.map((p) => p.name);
    expect(names({})).toEqual(expect.arrayContaining(["cozystack.kubevirt", "cozystack.kamaji", "cozystack.networking"]));
    expect(names({})).not.toContain("cozystack.external-dns");
    expect(names({ bundles: { enabledPackages: ["cozystack.external-dns"] } })).toContain("cozystack.external-dns");
    expect(names({ bundles: { enabledPackages: ["cozystack.external-dns"], disabledPackages: ["cozystack.external-dns", "cozystack.kubevirt"] } })).not.toEqual(
      expect.arrayContaining(["cozystack.external-dns"]),
    );
    expect(names({ bundles: { iaas: { enabled: false } } })).not.toContain("cozystack.kamaji");
  });

  it("follows else branches and the variant's networking", () => {
    const pkgs = platformPackages(platformValues("isp-full-generic", { authentication: { oidc: { enabled: true } } })).packages;
    expect(pkgs.find((p) => p.name === "cozystack.cozystack-engine")?.variant).toBe("oidc");
    expect(pkgs.find((p) => p.name === "cozystack.networking")?.variant).toBe("kubeovn-cilium-generic");
    expect(pkgs.map((p) => p.name)).toContain("cozystack.keycloak");
  });

  it("reads else-if chains branch by branch", () => {
    const dir = chartWith(
      '{{- if eq .Values.v "a" }}\n{{include "cozystack.platform.package.default" (list "cozystack.a" $) }}\n' +
        '{{- else if eq .Values.v "b" }}\n{{include "cozystack.platform.package.default" (list "cozystack.b" $) }}\n' +
        '{{- else }}\n{{include "cozystack.platform.package.default" (list "cozystack.c" $) }}\n{{- end }}\n',
    );
    const names = (v: string) => platformPackages({ v, bundles: {} }, dir).packages.map((p) => p.name);
    expect(names("a")).toEqual(["cozystack.a"]);
    expect(names("b")).toEqual(["cozystack.b"]);
    expect(names("z")).toEqual(["cozystack.c"]);
  });

  it("refuses a guard it cannot read around a Package, naming the file and the package", () => {
    const dir = chartWith('{{- if lookup "v1" "Secret" "a" "b" }}\n{{include "cozystack.platform.package.default" (list "cozystack.x" $) }}\n{{- end }}\n');
    expect(() => platformPackages({ bundles: {} }, dir)).toThrow(/templates\/bundles\/test\.yaml: \{\{ if lookup "v1" "Secret" "a" "b" \}\} around Package cozystack\.x: the platform model cannot read it/);
  });

  it("refuses a variant it cannot read, and ignores unreadable guards around no Package", () => {
    const dir = chartWith('{{- if lookup "v1" "Secret" "a" "b" }}\n{{- $x := 1 }}\n{{- end }}\n{{include "cozystack.platform.package" (list "cozystack.y" $v $) }}\n');
    expect(() => platformPackages({ bundles: {} }, dir)).toThrow(/Package cozystack\.y gets its variant from \$v/);
  });
});
