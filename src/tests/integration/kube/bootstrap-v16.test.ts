/**
 * `npm run bootstrap` for profile cozystack-v1.6 against a real kube-apiserver that serves
 * CozyStack v1.6.2's Package, PackageSource and ApplicationDefinition CRDs and Flux's source
 * CRDs: the dry run plans what the real run then does; the real run applies the namespaces,
 * credential Secrets, the Flux source, our PackageSources, the platform Package and our
 * Packages, exactly as synth writes them; a second run changes nothing; `--wait` waits for
 * our Packages' Ready condition (written here, as no cozystack-operator runs); no secret is
 * ever printed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { defaultTenant, printConfig, validateConfig, type PlatformConfig } from "../../../config/index.js";
import { capmoxConfigSecret } from "../../../cozystack/index.js";
import { describeRef, refOf, type KubeClient, type KubeObject, type ObjectRef } from "../../../kube/index.js";
import { BootstrapError, bootstrap, bootstrapFieldManager, ourPackageRefs, packagesBootstrapObjects, type BootstrapInput } from "../../../kube/bootstrap/index.js";
import { packageSet, renderPackages } from "../../../packages/index.js";
import { repoRoot } from "../../../paths.js";
import { testV16Config } from "../../fixtures/platform-config-v16.js";
import { installV16Crds } from "../../support/cozystack-v16.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";

const tokenSecret = "0d7e4c1a-93b2-4f6e-8a15-c0ffee16b00d";
const secretForms = [tokenSecret, Buffer.from(tokenSecret).toString("base64")];

const withTenant = (): PlatformConfig => {
  const base = testV16Config();
  const config = { ...base, tenants: [{ ...defaultTenant("demo", "v1.33.4"), addressRanges: [{ start: "10.0.0.100", end: "10.0.0.119" }] }] };
  expect(validateConfig(config)).toEqual([]);
  return config;
};

describeKube("npm run bootstrap for CozyStack v1.6 (real kube-apiserver)", () => {
  const env = useKubeEnv({ crdsForProfile: "cozystack-v1.6" });
  const config = withTenant();
  const set = packageSet(config);
  const lines: string[] = [];
  let tmp: string;
  beforeAll(async () => {
    await installV16Crds(env());
    tmp = mkdtempSync(join(tmpdir(), "bootstrap-v16-"));
  }, 30 * 60_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const input = (overrides: Partial<BootstrapInput> = {}): BootstrapInput => ({
    client: env().client,
    config,
    bundle: () => {
      throw new Error("profile cozystack-v1.6 has no bundle");
    },
    credentials: { tokenSecret },
    log: (line) => lines.push(line),
    ...overrides,
  });
  const objects = (): KubeObject[] => packagesBootstrapObjects(config, set, { tokenSecret }) as KubeObject[];
  const versions = async (refs: readonly ObjectRef[]) => new Map(await Promise.all(refs.map(async (r) => [describeRef(r), (await env().client.get(r))?.metadata.resourceVersion] as const)));

  test("the dry run plans exactly what the real run then does, and changes nothing itself", async () => {
    const plan = await bootstrap(input({ dryRun: true }));
    expect(plan.preflight.map((r) => `${r.name}:${r.status}`)).toEqual(["config:passed", "cluster reachable:passed", "cluster version:passed", "proxmox:skipped"]);
    expect(plan.preflight[0]!.detail).toMatch(/the CozyStack v1\.6 package set passes its graph checks/);
    expect(plan.changes.map((c) => `${c.action} ${describeRef(c.ref)}`)).toEqual(objects().map((o) => `create ${describeRef(refOf(o))}`));
    expect(await env().client.get({ apiVersion: "cozystack.io/v1alpha1", kind: "Package", name: "cozystack.cozystack-platform" })).toBeUndefined();
    const done = await bootstrap(input());
    expect(done.changes).toEqual(plan.changes);
  });

  test("the server holds exactly what synth writes: source, PackageSources, Packages, the platform Package; Secrets and namespaces", async () => {
    const client = env().client;
    const files = renderPackages(config);
    const written = ["flux-source", "package-sources", "platform", "packages"].flatMap((m) =>
      parseAllDocuments(String(files.get(`manifests/${m}.yaml`))).map((d) => d.toJS() as KubeObject),
    );
    expect(written.length).toBe(1 + 5 + 1 + 5);
    for (const object of written) {
      const live = await client.get(refOf(object));
      // The server adds its defaults (an OCIRepository's provider and timeout); everything written is there as written.
      expect(live?.["spec"], describeRef(refOf(object))).toMatchObject(object["spec"] as object);
    }
    const capmox = await client.get({ apiVersion: "v1", kind: "Secret", name: capmoxConfigSecret, namespace: "cozy-cluster-api" });
    const decoded = Object.fromEntries(Object.entries(capmox?.["data"] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
    expect(decoded).toEqual({ PROXMOX_URL: config.proxmox.url, PROXMOX_TOKEN: config.proxmox.tokenId, PROXMOX_SECRET: tokenSecret, PROXMOX_INSECURE: "false" });
    for (const ns of ["cozy-cluster-api", "cozy-proxmox-ccm", "cozy-proxmox-csi"]) {
      expect((await client.get({ apiVersion: "v1", kind: "Namespace", name: ns }))?.metadata.labels?.["pod-security.kubernetes.io/enforce"], ns).toBe("privileged");
    }
    const managed: string[] = [];
    for (const [apiVersion, kind] of [["v1", "Namespace"], ["v1", "Secret"], ["cozystack.io/v1alpha1", "Package"], ["cozystack.io/v1alpha1", "PackageSource"], ["source.toolkit.fluxcd.io/v1", "OCIRepository"]] as const) {
      for (const item of (await client.list(apiVersion, kind)).items) {
        const managers = (item.metadata["managedFields"] as { manager: string }[] | undefined) ?? [];
        if (managers.some((m) => m.manager === bootstrapFieldManager)) managed.push(describeRef(refOf(item)));
      }
    }
    expect(managed.sort()).toEqual(objects().map((o) => describeRef(refOf(o))).sort());
  });

  test("a second run changes nothing: every resourceVersion stays the same", async () => {
    // No source-controller runs here. Until one writes the source's status, the API server
    // defaults status.observedGeneration (-1, from Flux's CRD) into every write of it, so each
    // apply of an unreconciled OCIRepository bumps its resourceVersion, whoever applies it.
    // Written once, as source-controller does on its first reconcile:
    await env().client.apply(
      { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "OCIRepository", metadata: { name: "cozy-proxmox-packages", namespace: "cozy-system" }, status: { observedGeneration: 1 } },
      { fieldManager: "test-source-controller", subresource: "status" },
    );
    const refs = objects().map(refOf);
    const before = await versions(refs);
    const again = await bootstrap(input());
    expect(again.changes.map((c) => `${c.action} ${describeRef(c.ref)}`)).toEqual(refs.map((r) => `unchanged ${describeRef(r)}`));
    expect(await versions(refs)).toEqual(before);
  });

  test("--wait waits for our Packages to be Ready and names the ones that are not", async () => {
    const refs = ourPackageRefs(set);
    for (const ref of refs) await setReady(env().client, ref, ref.name.endsWith("proxmox-csi") ? "False" : "True");
    const error = await bootstrap(input({ waitTimeoutMs: 2_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapError);
    expect((error as BootstrapError).failed).toEqual(["Package cozy-proxmox.proxmox-csi"]);
    expect((error as Error).message).toMatch(/^1 of 5 Packages not Ready after 2 s/);
    await setReady(env().client, refs.find((r) => r.name.endsWith("proxmox-csi"))!, "True");
    const ok = await bootstrap(input({ waitTimeoutMs: 10_000 }));
    expect(ok.releases.map((r) => r.name)).toEqual(refs.map((r) => r.name));
    expect(lines).toContain("all 5 Packages are Ready");
  });

  test("the CLI: dry run and real run, a config mistake named by its path; no secret on stdout or stderr", async () => {
    const file = join(tmp, "platform.yaml");
    writeFileSync(file, printConfig(config));
    const base = ["--config", file, "--kubeconfig", env().kubeconfigPath, "--skip-proxmox-checks"];
    const dry = await runCli([...base, "--dry-run"]);
    expect(dry.output).toContain("dry run done: nothing was changed");
    expect(dry.output).toContain(`unchanged    Secret cozy-cluster-api/${capmoxConfigSecret} (values hidden)`);
    expect(dry.output).toContain("unchanged    Package cozystack.cozystack-platform");
    expect(dry.code).toBe(0);
    const real = await runCli(base);
    expect(real.code).toBe(0);
    expect(real.output).toMatch(/created 0, updated 0, unchanged \d+/);

    const broken = join(tmp, "broken.yaml");
    writeFileSync(broken, printConfig({ ...config, cozystackV1: { ...config.cozystackV1!, disabledPackages: ["cozystack.capi-operator"] } }));
    const bad = await runCli(["--config", broken, "--kubeconfig", env().kubeconfigPath, "--skip-proxmox-checks"]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/preflight failed: config \(.*PackageSource cozy-proxmox\.capi-provider-ipam-in-cluster \(ours\): spec\.variants\[0\] \(default\)\.dependsOn\[1\]: cozystack\.capi-operator, which is in bundles\.disabledPackages/s);
    for (const run of [dry, real, bad]) for (const form of secretForms) expect(run.output).not.toContain(form);
    for (const form of secretForms) expect(lines.join("\n")).not.toContain(form);
  });
});

async function setReady(client: KubeClient, ref: ObjectRef, status: "True" | "False"): Promise<void> {
  await client.apply(
    {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name },
      status: { conditions: [{ type: "Ready", status, reason: status === "True" ? "Reconciled" : "DependenciesNotReady", message: "written by the test", lastTransitionTime: "2026-01-01T00:00:00Z" }] },
    },
    { fieldManager: "test-cozystack-operator", subresource: "status" },
  );
}

function runCli(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "scripts/bootstrap.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, PROXMOX_SECRET: tokenSecret, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}
