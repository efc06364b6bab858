/**
 * `npm run bootstrap` end to end against a real kube-apiserver: preflight, exactly the
 * expected objects, idempotence (resourceVersions unchanged), a dry run that matches what
 * the real run then does, the installer manifest, the wait for system HelmReleases (whose
 * status the test writes, since no controller runs), and no secret in any output.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { stringify } from "yaml";
import { renderBundle } from "../../../bundles/index.js";
import { credentialsSecretName } from "../../../capi/index.js";
import { defaultConfig, defaultTenant, printConfig, validateConfig, type PlatformConfig } from "../../../config/index.js";
import { capmoxConfigSecret, cozystackConfigMapData, proxmoxCcmValues, proxmoxCsiValues } from "../../../cozystack/index.js";
import { KubeClient, describeRef, refOf, type KubeObject, type ObjectRef } from "../../../kube/index.js";
import { BootstrapError, bootstrap, bootstrapFieldManager, bootstrapObjects, loadInstallerManifest, systemHelmReleases, type BootstrapInput } from "../../../kube/bootstrap/index.js";
import { startLab, type LabHandle } from "../../../lab/index.js";
import { repoRoot } from "../../../paths.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";
import { renderPlatformChart } from "../../support/platform-chart.js";

// A value no other part of any output could contain by chance.
const tokenSecret = "5f0c9a7e-6b1d-4c3e-9f2a-b00751ec2e7d";
const secretForms = [tokenSecret, Buffer.from(tokenSecret).toString("base64")];

/** The default platform with a second tenant cluster (a valid config: the test checks). */
const twoTenants = (): PlatformConfig => {
  const base = defaultConfig();
  const first = { ...base.tenants[0]!, addressRanges: [{ start: "10.0.0.100", end: "10.0.0.149" }] };
  const second = { ...defaultTenant("team-b", "v1.33.0"), addressRanges: [{ start: "10.0.0.150", end: "10.0.0.199" }] };
  const config = { ...base, tenants: [first, second] };
  expect(validateConfig(config)).toEqual([]);
  return config;
};

describeKube("npm run bootstrap (real kube-apiserver)", () => {
  const env = useKubeEnv();
  const config = twoTenants();
  const bundleText = renderBundle(config);
  let tmp: string;
  const lines: string[] = [];

  const input = (overrides: Partial<BootstrapInput> = {}): BootstrapInput => ({
    client: env().client,
    config,
    bundle: () => bundleText,
    credentials: { tokenSecret },
    log: (line) => lines.push(line),
    ...overrides,
  });

  const expectedRefs = (c: PlatformConfig = config): string[] => bootstrapObjects(c, renderBundle(c), { tokenSecret }).map((o) => describeRef(refOf(o)));

  const resourceVersions = async (refs: readonly ObjectRef[]): Promise<Map<string, string | undefined>> => {
    const client = env().client;
    return new Map(await Promise.all(refs.map(async (ref) => [describeRef(ref), (await client.get(ref))?.metadata.resourceVersion] as const)));
  };

  let manifest: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "bootstrap-test-"));
    manifest = join(tmp, "installer.yaml");
    writeFileSync(manifest, installerManifestText());
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("a failing preflight stops before anything is created, naming every failed check", async () => {
    // The same credentials, but a port nothing listens on.
    const kc = new KubeConfig();
    kc.loadFromString(env().kubeconfig.exportConfig());
    kc.loadFromOptions({ ...kc, clusters: kc.clusters.map((c) => ({ ...c, server: "https://127.0.0.1:9" })) });
    const error = await bootstrap(
      input({
        client: new KubeClient(kc),
        proxmoxPreflight: async () => ({ ok: false, failures: ["API token authenticates: 401 authentication failure"] }),
        bundle: () => {
          throw new Error("bundle: release foo depends on missing bar");
        },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapError);
    expect((error as BootstrapError).failed).toEqual(["config", "cluster reachable", "proxmox"]);
    expect((error as Error).message).toContain("401 authentication failure");
    expect((error as Error).message).toContain("missing bar");
    expect(await env().client.get({ apiVersion: "v1", kind: "Namespace", name: "cozy-system" })).toBeUndefined();
  });

  test("dry run plans exactly what the real run then does, and changes nothing itself", async () => {
    const client = env().client;
    const installer = await loadInstallerManifest(manifest);
    const plan = await bootstrap(input({ installer, dryRun: true, proxmoxPreflight: async () => ({ ok: true, failures: [] }) }));
    expect(plan.preflight.map((r) => `${r.name}:${r.status}`)).toEqual(["config:passed", "cluster reachable:passed", "cluster version:passed", "proxmox:passed"]);
    expect(plan.changes.map((c) => `${c.action} ${describeRef(c.ref)}`)).toEqual([
      ...expectedRefs().map((r) => `create ${r}`),
      // The installer's own Namespace object: the one bootstrap creates gains the installer's field manager.
      "update Namespace cozy-system",
      "create ServiceAccount cozy-system/cozystack",
      "create ClusterRoleBinding cozystack",
      "create Deployment cozy-system/cozystack",
    ]);
    expect(await client.get({ apiVersion: "v1", kind: "Namespace", name: "cozy-system" })).toBeUndefined();

    const done = await bootstrap(input({ installer }));
    expect(done.changes).toEqual(plan.changes);
    const again = await bootstrap(input({ installer, dryRun: true }));
    expect(again.changes.every((c) => c.action === "unchanged")).toBe(true);
  });

  test("creates exactly the expected objects with the expected content", async () => {
    const client = env().client;
    const cm = await client.get({ apiVersion: "v1", kind: "ConfigMap", name: "cozystack", namespace: "cozy-system" });
    expect(cm?.["data"]).toEqual(cozystackConfigMapData(config));
    expect((cm?.["data"] as Record<string, string>)["bundle-name"]).toBe("paas-proxmox");

    const decode = (s: KubeObject | undefined): Record<string, string> =>
      Object.fromEntries(Object.entries((s?.["data"] as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
    for (const tenant of config.tenants) {
      const s = await client.get({ apiVersion: "v1", kind: "Secret", name: credentialsSecretName(tenant.name), namespace: tenant.namespace });
      expect(decode(s)).toEqual({ url: "https://127.0.0.1:8006", token: "root@pam!cozy", secret: tokenSecret, insecure: "false" });
    }
    // Where the overlay charts look: capmox's configSecret, the CSI/CCM token files.
    const capmox = decode(await client.get({ apiVersion: "v1", kind: "Secret", name: capmoxConfigSecret, namespace: "cozy-cluster-api" }));
    expect(capmox).toEqual({ PROXMOX_URL: "https://127.0.0.1:8006", PROXMOX_TOKEN: "root@pam!cozy", PROXMOX_SECRET: tokenSecret, PROXMOX_INSECURE: "false" });
    for (const [values, namespace] of [
      [proxmoxCsiValues(config), "cozy-proxmox-csi"],
      [proxmoxCcmValues(config), "cozy-proxmox-ccm"],
    ] as const) {
      const secretName = JSON.stringify(values).match(/"secretName":"([^"]+)"/)?.[1];
      expect(secretName).toBeDefined();
      const files = decode(await client.get({ apiVersion: "v1", kind: "Secret", name: secretName!, namespace }));
      expect(files).toEqual({ token_id: "root@pam!cozy", token_secret: tokenSecret });
      // The chart reads exactly these files.
      expect(JSON.stringify(values)).toContain('"token_secret_file":"/run/secrets/proxmox/token_secret"');
    }
    // Namespaces as the platform chart makes them (privileged where its releases are).
    const ns = await client.get({ apiVersion: "v1", kind: "Namespace", name: "cozy-system" });
    expect(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");

    // Nothing else carries bootstrap's field manager.
    const managed: string[] = [];
    for (const kind of ["Namespace", "ConfigMap", "Secret"]) {
      for (const item of (await client.list("v1", kind)).items) {
        const managers = (item.metadata["managedFields"] as Array<{ manager: string }> | undefined) ?? [];
        if (managers.some((m) => m.manager === bootstrapFieldManager)) managed.push(describeRef(refOf(item)));
      }
    }
    expect(managed.sort()).toEqual(expectedRefs().sort());
  });

  test("a second run changes nothing: every resourceVersion stays the same", async () => {
    const refs = bootstrapObjects(config, bundleText, { tokenSecret }).map(refOf);
    const before = await resourceVersions(refs);
    const again = await bootstrap(input());
    expect(again.changes.map((c) => c.action)).toEqual(refs.map(() => "unchanged"));
    expect(await resourceVersions(refs)).toEqual(before);
  });

  test("a changed config: the dry run names the one object that changes, the real run changes only it", async () => {
    const changed: PlatformConfig = { ...config, cozystack: { ...config.cozystack, rootHost: "cozy.example.net" } };
    const refs = bootstrapObjects(changed, bundleText, { tokenSecret }).map(refOf);
    const before = await resourceVersions(refs);
    const plan = await bootstrap(input({ config: changed, dryRun: true }));
    expect(plan.changes.filter((c) => c.action !== "unchanged").map((c) => `${c.action} ${describeRef(c.ref)}`)).toEqual([
      "update ConfigMap cozy-system/cozystack",
    ]);
    expect(await resourceVersions(refs)).toEqual(before);
    const done = await bootstrap(input({ config: changed }));
    expect(done.changes).toEqual(plan.changes);
    const after = await resourceVersions(refs);
    expect([...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k)).toEqual(["ConfigMap cozy-system/cozystack"]);
    await bootstrap(input());
  });

  test("applies the installer manifest, then waits for the system HelmReleases and names those not Ready", async () => {
    const client = env().client;
    const installer = await loadInstallerManifest(manifest);
    const releases = systemHelmReleases(config, bundleText);
    expect(releases.length).toBeGreaterThan(20);

    // Nothing runs the installer here: the test plays Flux, and applies what CozyStack's real
    // platform chart renders against this cluster, with the ConfigMap bootstrap wrote.
    const platform = await renderPlatformChart(env(), bundleText);
    const systemApps = platform.filter((o) => o.kind === "HelmRelease" && o.metadata.labels?.["cozystack.io/system-app"] === "true");
    expect(systemApps.map((o) => refOf(o))).toEqual(releases);
    for (const ns of platform.filter((o) => o.kind === "Namespace")) await client.apply(ns, { fieldManager: "test-platform" });
    for (const hr of platform.filter((o) => o.kind === "HelmRelease")) await client.apply(hr, { fieldManager: "test-platform" });
    const notReady = releases.slice(-2);
    for (const ref of releases.slice(0, -2)) await setReady(client, ref, "True");
    await setReady(client, notReady[0]!, "False");

    lines.length = 0;
    const error = await bootstrap(input({ installer, waitTimeoutMs: 3_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapError);
    expect((error as BootstrapError).failed).toEqual(notReady.map(describeRef));
    expect((error as Error).message).toContain(`2 of ${releases.length} system HelmReleases not Ready`);
    expect(lines).toContain(`  unchanged    Deployment cozy-system/cozystack`);
    expect(lines.some((l) => l.includes(`${describeRef(notReady[0]!)}: Ready=False (Progressing: installing)`))).toBe(true);
    expect(await client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "cozystack", namespace: "cozy-system" })).toBeDefined();

    // Now the last two become Ready while bootstrap waits: the watch sees them. Bootstrap says
    // when it has listed them (a progress line each); its watch starts from that list.
    lines.length = 0;
    let listed: () => void = () => {};
    const waitStarted = new Promise<void>((resolve) => (listed = resolve));
    const pending = notReady.map((ref) => `] ${describeRef(ref)}: `);
    const log = (line: string): void => {
      lines.push(line);
      if (pending.every((p) => lines.some((l) => l.includes(p)))) listed();
    };
    const waiting = bootstrap(input({ installer, waitTimeoutMs: 60_000, log }));
    await Promise.race([waitStarted, waiting]);
    expect(lines.some((l) => l.startsWith(`  [${releases.length - 2}/${releases.length}] `))).toBe(true);
    for (const ref of notReady) await setReady(client, ref, "True");
    const result = await waiting;
    expect(result.releases).toEqual(releases);
    expect(result.changes.every((c) => c.action === "unchanged")).toBe(true);
    expect(lines).toContain(`all ${releases.length} system HelmReleases are Ready`);
    expect(lines.some((l) => l.startsWith(`  [${releases.length}/${releases.length}] `))).toBe(true);
  });

  test("no secret in anything bootstrap logs or throws", () => {
    // `lines` holds everything of the previous tests' runs (the last one); check the whole trail too.
    const all = lines.join("\n");
    for (const form of secretForms) expect(all).not.toContain(form);
  });

  test("the CLI: dry run, real run, wait failure, bad input — no secret on stdout or stderr", async () => {
    const configFile = join(tmp, "platform.yaml");
    writeFileSync(configFile, printConfig(config));
    const base = ["--config", configFile, "--kubeconfig", env().kubeconfigPath, "--skip-proxmox-checks"];

    const dry = await runCli([...base, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain("plan (dry run");
    expect(dry.output).toContain(`unchanged    Secret cozy-cluster-api/${capmoxConfigSecret} (values hidden)`);
    expect(dry.output).toContain("dry run done: nothing was changed");

    const real = await runCli(base);
    expect(real.code).toBe(0);
    expect(real.output).toContain("created 0, updated 0, unchanged");

    // A release that is not Ready: exit 1, its name in the message.
    const hr = systemHelmReleases(config, bundleText)[0]!;
    await setReady(env().client, hr, "False");
    const wait = await runCli([...base, "--installer", manifest, "--wait", "2s"]);
    expect(wait.code).toBe(1);
    expect(wait.output).toContain(`1 of `);
    expect(wait.output).toContain(describeRef(hr));
    await setReady(env().client, hr, "True");

    const badUrl = await runCli([...base, "--installer", "http://example.invalid/installer.yaml"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.output).toContain("is not an https URL");

    const badWait = await runCli([...base, "--wait", "soon"]);
    expect(badWait.code).toBe(2);
    expect(badWait.output).toContain('--wait: "soon" is not a duration');

    for (const run of [dry, real, wait, badUrl, badWait]) {
      for (const form of secretForms) expect(run.output).not.toContain(form);
    }
  });
});

/** The lab (a Proxmox VE emulator on 127.0.0.1) as the Proxmox the CLI's stage-1 preflight talks to. */
describeKube("npm run bootstrap: stage 1 against Proxmox as preflight", () => {
  const env = useKubeEnv({ crdsForProfile: undefined });
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => lab?.stop());

  test("passes against a reachable Proxmox with a valid token; a wrong token stops bootstrap before any change", async () => {
    const labEnv = { PROXMOX_URL: lab.url, PROXMOX_TOKEN: lab.tokens.admin.id, PROXMOX_FINGERPRINT: lab.fingerprint! };
    const ok = await runCli(["--kubeconfig", env().kubeconfigPath, "--dry-run"], { ...labEnv, PROXMOX_SECRET: lab.tokens.admin.secret });
    expect(ok.output).toMatch(/passed\s+proxmox: stage 1 \(Proxmox API connection\) passed/);
    expect(ok.code).toBe(0);
    expect(ok.output).not.toContain(lab.tokens.admin.secret);

    const wrong = await runCli(["--kubeconfig", env().kubeconfigPath], { ...labEnv, PROXMOX_SECRET: tokenSecret });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toMatch(/failed\s+proxmox: /);
    expect(wrong.output).toContain("preflight failed");
    for (const form of secretForms) expect(wrong.output).not.toContain(form);
    expect(await env().client.get({ apiVersion: "v1", kind: "Namespace", name: "cozy-system" })).toBeUndefined();
  });

  test("a tenant with its own token: refused naming its secret source when unset, else its token in its credentials Secret, never printed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bootstrap-tenant-token-"));
    try {
      const base = defaultConfig();
      const config: PlatformConfig = {
        ...base,
        tenants: [{ ...defaultTenant("alpha", "v1.32.6"), addressRanges: base.network.addressRanges, proxmox: { pool: "cozy-alpha", tokenId: "cozy-alpha@pve!capmox", secret: { env: "ALPHA_SECRET" } } }],
      };
      const file = join(dir, "platform.yaml");
      writeFileSync(file, printConfig(config));
      const args = ["--config", file, "--kubeconfig", env().kubeconfigPath, "--skip-proxmox-checks"];
      const unset = await runCli(args);
      expect(unset.code).toBe(2);
      expect(unset.output).toContain('tenants[0].proxmox.secret.env: "ALPHA_SECRET": names an environment variable that is not set');
      expect(await env().client.get({ apiVersion: "v1", kind: "Namespace", name: "cozy-system" })).toBeUndefined();

      const alphaSecret = "9a8b7c6d-1234-4e5f-8a9b-0c1d2e3f4a5b";
      const ok = await runCli(args, { ALPHA_SECRET: alphaSecret });
      expect(ok.code, ok.output).toBe(0);
      expect(ok.output).not.toContain(alphaSecret);
      const secret = await env().client.get({ apiVersion: "v1", kind: "Secret", name: credentialsSecretName("alpha"), namespace: "tenant-alpha" });
      const data = Object.fromEntries(Object.entries((secret?.["data"] as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
      expect([data["token"], data["secret"]]).toEqual(["cozy-alpha@pve!capmox", alphaSecret]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** What the CozyStack installer manifest holds, in substance (namespace, account, RBAC, the installer Deployment). */
function installerManifestText(): string {
  const docs: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "cozy-system", labels: { "cozystack.io/system": "true", "pod-security.kubernetes.io/enforce": "privileged" } } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "cozystack", namespace: "cozy-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "cozystack" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "cozystack", namespace: "cozy-system" }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cozystack", namespace: "cozy-system" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "cozystack" } },
        strategy: { type: "Recreate" },
        template: {
          metadata: { labels: { app: "cozystack" } },
          spec: {
            hostNetwork: true,
            serviceAccountName: "cozystack",
            containers: [{ name: "cozystack", image: "ghcr.io/cozystack/cozystack/installer:v0.37.10", env: [{ name: "KUBERNETES_SERVICE_HOST", value: "localhost" }] }],
          },
        },
      },
    },
  ];
  // The Deployment first: applyOrder must still put Namespace, ServiceAccount and RBAC before it.
  return [docs[3], docs[0], docs[1], docs[2]].map((d) => `---\n${stringify(d)}`).join("");
}

/** Writes a HelmRelease's Ready condition through the status subresource (what helm-controller would do). */
async function setReady(client: KubeClient, ref: ObjectRef, status: "True" | "False"): Promise<void> {
  const condition =
    status === "True"
      ? { type: "Ready", status, reason: "InstallSucceeded", message: "Helm install succeeded" }
      : { type: "Ready", status, reason: "Progressing", message: "installing" };
  await client.apply(
    {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
      status: { conditions: [{ ...condition, lastTransitionTime: "2026-01-01T00:00:00Z" }] },
    },
    { fieldManager: "test-helm-controller", subresource: "status" },
  );
}

/** Runs `scripts/bootstrap.ts` with the secret in the environment; stdout and stderr together. */
function runCli(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "scripts/bootstrap.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, PROXMOX_SECRET: tokenSecret, NO_COLOR: "1", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}
