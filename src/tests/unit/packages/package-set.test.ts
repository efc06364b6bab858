/**
 * The v1.6 package set synth writes: ours plus what CozyStack v1.6.2's platform chart
 * installs under our platform Package (the model; the integration test holds it against the
 * real helm), checked as one graph.
 */
import { mkdtempSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runSynth } from "../../../cli/synth.js";
import { toUserForm } from "../../../config/index.js";
import {
  applicationDefinition,
  checkPackages,
  loadPlatformSources,
  packageSet,
  PackagesError,
  renderPackages,
  type PackageSourceDef,
} from "../../../packages/index.js";
import { testV16Config } from "../../fixtures/platform-config-v16.js";

const names = (objects: readonly { metadata?: unknown }[]): string[] => objects.map((o) => (o.metadata as { name: string }).name);

describe("the cozystack-v1.6 package set", () => {
  const set = packageSet(testV16Config());

  it("installs no KubeVirt package and disables exactly the ones the platform chart would install", () => {
    expect(set.platform.packages.map((p) => p.name).filter((n) => /kubevirt/.test(n))).toEqual([]);
    expect(set.platform.packages.filter((p) => p.variant === "kubevirt")).toEqual([]);
    expect(set.kubevirtDisabled).toEqual([
      "cozystack.capi-provider-infra-kubevirt",
      "cozystack.kubernetes-application",
      "cozystack.kubevirt",
      "cozystack.kubevirt-cdi",
      "cozystack.virtualprivatecloud-application",
      "cozystack.vm-disk-application",
      "cozystack.vm-instance-application",
    ]);
    const values = (set.platformPackage.spec as { components: { platform: { values: { bundles: Record<string, unknown> } } } }).components.platform.values;
    expect(values.bundles).toMatchObject({ iaas: { enabled: true }, disabledPackages: set.kubevirtDisabled });
  });

  it("keeps the Cluster API stack the Proxmox packages depend on", () => {
    const installed = new Set(set.platform.packages.map((p) => p.name));
    for (const p of ["cozystack.kamaji", "cozystack.capi-operator", "cozystack.capi-provider-core", "cozystack.capi-provider-bootstrap-kubeadm", "cozystack.capi-provider-cp-kamaji", "cozystack.cozystack-engine", "cozystack.networking"]) {
      expect(installed, p).toContain(p);
    }
    const deps = set.packageSources.flatMap((s) => (s.spec as { variants: { dependsOn?: string[] }[] }).variants.flatMap((v) => v.dependsOn ?? []));
    const ours = new Set(names(set.packageSources));
    expect(deps.filter((d) => !installed.has(d) && !ours.has(d))).toEqual([]);
  });

  it("has a Package per PackageSource of ours, the application's in variant proxmox", () => {
    expect(names(set.packages)).toEqual(names(set.packageSources));
    expect(set.packages.map((p) => (p.spec as { variant: string }).variant)).toEqual(["default", "default", "default", "default", "proxmox"]);
    expect(names(set.packageSources).filter((n) => loadPlatformSources().some((s) => s.name === n))).toEqual([]);
  });

  it("points the ApplicationDefinition at the ExternalArtifact of the application's chart component", () => {
    const def = applicationDefinition(testV16Config()) as { kind: string; spec: { release: Record<string, unknown>; application: { kind: string } } };
    expect(def.kind).toBe("ApplicationDefinition");
    expect(def.spec.application.kind).toBe("Kubernetes");
    expect(def.spec.release.chartRef).toEqual({ kind: "ExternalArtifact", name: "cozy-proxmox-kubernetes-application-proxmox-kubernetes", namespace: "cozy-system" });
    expect(def.spec.release).not.toHaveProperty("chart");
    expect(def.spec.release.labels).toEqual({ "cozystack.io/ui": "true", "sharding.fluxcd.io/key": "tenants" });
  });

  it("gives the same bytes for the same config", () => {
    const a = renderPackages(testV16Config());
    const b = renderPackages(testV16Config());
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect(Buffer.compare(Buffer.from(v), Buffer.from(b.get(k)!)), k).toBe(0);
    expect([...a.keys()]).toEqual(expect.arrayContaining(["manifests/flux-source.yaml", "manifests/platform.yaml", "packages/apps/kubernetes-proxmox/Chart.yaml", "packages/system/kubernetes-proxmox-rd/cozyrds/kubernetes.yaml"]));
  });

  it("a GitRepository source with a branch", () => {
    const s = packageSet(testV16Config({ source: { kind: "GitRepository", url: "https://git.example.org/ops/cozy.git", branch: "main", path: "dist/cozystack-v1.6/packages" } }));
    expect(s.fluxSource).toMatchObject({ kind: "GitRepository", spec: { url: "https://git.example.org/ops/cozy.git", ref: { branch: "main" } } });
    expect((s.packageSources[0]!.spec as { sourceRef: unknown }).sourceRef).toEqual({ kind: "GitRepository", name: "cozy-proxmox-packages", namespace: "cozy-system", path: "dist/cozystack-v1.6/packages" });
  });
});

describe("mistakes are named with their path, and nothing is written", () => {
  const problems = (f: () => unknown): string[] => {
    try {
      f();
    } catch (e) {
      if (e instanceof PackagesError) return [...e.problems];
      throw e;
    }
    return [];
  };

  it("a disabled package ours depend on", () => {
    expect(problems(() => packageSet(testV16Config({ disabledPackages: ["cozystack.kamaji"] })))).toEqual([
      "PackageSource cozystack.capi-provider-cp-kamaji (CozyStack v1.6.2 sources/capi-provider-cp-kamaji.yaml): spec.variants[0] (default).dependsOn[2]: cozystack.kamaji, which is in bundles.disabledPackages",
      "PackageSource cozy-proxmox.kubernetes-application (ours): spec.variants[0] (proxmox).dependsOn[5]: cozystack.kamaji, which is in bundles.disabledPackages",
    ]);
  });

  it("a name that is no package of v1.6.2", () => {
    expect(problems(() => packageSet(testV16Config({ enabledPackages: ["cozystack.velero", "cozystack.nope"] })))).toEqual([
      'cozystackV1.enabledPackages[1]: "cozystack.nope" is no package of CozyStack v1.6.2 (platform chart sources/)',
    ]);
  });

  it("an optional package enabled whose dependency is left out names the platform chart's PackageSource", () => {
    const found = problems(() => packageSet(testV16Config({ disabledPackages: ["cozystack.cert-manager"] })));
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^PackageSource cozystack\.capi-operator \(CozyStack v1\.6\.2 sources\/capi-operator\.yaml\): spec\.variants\[0\] \(default\)\.dependsOn\[1\]: cozystack\.cert-manager, which is in bundles\.disabledPackages$/)]));
  });

  const src = (name: string, dependsOn: string[], path = `system/${name}`): PackageSourceDef => ({
    name,
    origin: "test",
    sourceRef: { kind: "OCIRepository", name: "s", namespace: "cozy-system" },
    variants: [{ name: "default", dependsOn, components: [{ name: "c", path, install: { namespace: "ns" } }] }],
  });
  const pkg = (name: string) => ({ name, variant: "default", from: "test" });

  it("a duplicate name, a KubeVirt package, a missing variant and a dangling component dependency", () => {
    const sources = [src("a", ["b"]), src("b", []), src("b", []), src("x", [], "system/kubevirt-csi-node")];
    const withBadComponent: PackageSourceDef = { ...src("y", []), variants: [{ name: "default", components: [{ name: "c", path: "system/y", install: { dependsOn: ["z"] } }] }] };
    const installed = [pkg("a"), pkg("b"), pkg("x"), { name: "y", variant: "other", from: "test" }, pkg("y")];
    expect(checkPackages([...sources, withBadComponent], installed, () => undefined)).toEqual([
      "PackageSource b: defined by test and again by test",
      "Package y: defined by test and again by test",
      "Package x (test): installs KubeVirt (component c (system/kubevirt-csi-node)), which Proxmox platforms leave out",
      'Package y (test): spec.variant "other" is no variant of its PackageSource (default)',
      'PackageSource y (test): spec.variants[0] (default).components[0].install.dependsOn[0]: "z" is no installed component of this variant',
    ]);
  });

  it("a cycle, and a dependency nobody defines", () => {
    expect(checkPackages([src("a", ["b"]), src("b", ["c"]), src("c", ["a", "ghost"])], [pkg("c"), pkg("b"), pkg("a")], () => undefined)).toEqual([
      "PackageSource c (test): spec.variants[0] (default).dependsOn[1]: ghost, which is no PackageSource of CozyStack v1.6.2 or ours",
      "dependency cycle: a -> b -> c -> a",
    ]);
  });

  it("synth writes dist/cozystack-v1.6 and neither the bundle nor the v0.37 overlay", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synth-v16-"));
    try {
      const file = join(dir, "platform.yaml");
      writeFileSync(file, stringify(toUserForm(testV16Config())));
      const out: string[] = [];
      const code = await runSynth(["--config", file, "--out", join(dir, "out"), "--bundle", join(dir, "bundle.yaml"), "--check"], { cwd: dir, stdout: (t) => out.push(t), stderr: () => {} });
      expect(code, out.join("")).toBe(0);
      for (const f of ["manifests/platform.yaml", "manifests/package-sources.yaml", "packages/apps/kubernetes-proxmox/values.schema.json", "README.md"]) {
        expect(existsSync(join(dir, "out", "cozystack-v1.6", f)), f).toBe(true);
      }
      expect(existsSync(join(dir, "out", "cozystack"))).toBe(false);
      expect(existsSync(join(dir, "bundle.yaml"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("synth refuses the config and writes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synth-v16-"));
    try {
      const config = testV16Config({ disabledPackages: ["cozystack.kamaji"] });
      const file = join(dir, "platform.yaml");
      writeFileSync(file, stringify(toUserForm(config)));
      const err: string[] = [];
      const code = await runSynth(["--config", file, "--out", join(dir, "out")], { cwd: dir, stdout: () => {}, stderr: (t) => err.push(t) });
      expect(code).toBe(1);
      expect(err.join("")).toMatch(/nothing written: .*cozy-proxmox\.kubernetes-application.*dependsOn\[5\]: cozystack\.kamaji, which is in bundles\.disabledPackages/s);
      expect(existsSync(join(dir, "out"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
