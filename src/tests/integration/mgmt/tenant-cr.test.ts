/**
 * A tenant cluster as a CozyStack user makes one: `kubectl apply -f dist/apps/demo.yaml`
 * (the `Kubernetes` object synth writes) on the management environment. The cozystack-api
 * stand-in turns it into the HelmRelease `kubernetes-demo`; Flux's real helm-controller
 * fetches the app chart from the source-controller stand-in's artifact and installs it into
 * the management API server; the real CAPI, kubeadm bootstrap and capmox controllers make
 * the lab's VMs, which join the tenant control plane as Ready Nodes. The API server refuses
 * bad values naming the field, and `kubectl delete kubernetes demo` removes everything down
 * to the VMs and their cloud-init ISOs.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, afterEach, expect, test } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { tenantObjects } from "../../../capi/index.js";
import { defaultConfig, type PlatformConfig } from "../../../config/index.js";
import { renderTenantResources } from "../../../cozystack/app/index.js";
import { conditionIs, conditionsOf, describeCondition, waitFor, waitForList, type KubeObject } from "../../../kube/index.js";
import type { MgmtEnv } from "../../../mgmt/index.js";
import { kubectlPath } from "../../../tools/helm.js";
import { describeMgmt, useMgmtEnv } from "../../support/mgmt-env.js";

const run = promisify(execFile);
const capi = "cluster.x-k8s.io/v1beta1";
const helmV2 = "helm.toolkit.fluxcd.io/v2";
const namespace = "tenant-demo";
const scratch = mkdtempSync(join(tmpdir(), "tenant-cr-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function labConfig(env: MgmtEnv): PlatformConfig {
  const base = defaultConfig();
  return { ...base, proxmox: { ...base.proxmox, url: env.lab.url, tokenId: env.labCredentials.tokenId, tls: { insecure: false, fingerprint: env.labCredentials.fingerprint } } };
}

/** The real kubectl against the environment; rejects with kubectl's stderr. */
async function kubectl(env: MgmtEnv, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(kubectlPath(), [`--kubeconfig=${env.kube.kubeconfigPath}`, ...args]);
    return stdout;
  } catch (error) {
    throw new Error((error as { stderr?: string }).stderr?.trim() || (error as Error).message, { cause: error });
  }
}

/** Writes a YAML file into the scratch folder and returns its path. */
function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

const identity = (o: KubeObject): string => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const createdVms = (env: MgmtEnv) => [...env.lab.state.vms.values()].filter((vm) => vm.config["template"] !== "1");
const isos = (env: MgmtEnv): string[] => env.lab.state.volumes.filter((v) => /user-data-\d+\.iso$/.test(v.volname)).map((v) => `${v.storage}:${v.volname}`);
const machineRunning = (m: KubeObject): boolean => (m["status"] as { phase?: string } | undefined)?.phase === "Running" && Boolean((m["status"] as { nodeRef?: unknown }).nodeRef);
const names = (items: readonly KubeObject[]): string => items.map((o) => `${o.kind ?? ""} ${o.metadata.name}`).join(", ") || "none";

/** The objects of the Helm release's latest revision, from Helm's own storage Secret. */
async function releaseManifest(env: MgmtEnv, release: string): Promise<KubeObject[]> {
  const secrets = await env.kube.client.list("v1", "Secret", { namespace, labelSelector: `owner=helm,name=${release},status=deployed` });
  const secret = secrets.items[0];
  if (!secret) throw new Error(`no deployed Helm release ${release} in ${namespace}`);
  const encoded = Buffer.from((secret["data"] as { release: string }).release, "base64").toString();
  const decoded = JSON.parse(gunzipSync(Buffer.from(encoded, "base64")).toString()) as { manifest: string };
  return parseAllDocuments(decoded.manifest)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } }));
}

/** Ready=False because Helm's install failed with a message matching `pattern`. */
function installFailedNaming(pattern: RegExp): (o: KubeObject | undefined) => boolean {
  return (o) => {
    const ready = conditionsOf(o).find((c) => c.type === "Ready");
    return ready?.status === "False" && ready.reason === "InstallFailed" && pattern.test(ready.message ?? "");
  };
}

/** Deletes every `Kubernetes` object in the namespace and waits until its HelmRelease, Cluster and VMs are gone. */
async function removeApplications(env: MgmtEnv): Promise<void> {
  const apps = await env.kube.client.list("apps.cozystack.io/v1alpha1", "Kubernetes", { namespace }).catch(() => ({ items: [] as KubeObject[] }));
  if (apps.items.length === 0) return;
  await kubectl(env, "delete", "kubernetes", "--all", "-n", namespace, "--wait=false");
  for (const [apiVersion, kind] of [
    [helmV2, "HelmRelease"],
    [capi, "Cluster"],
    [capi, "Machine"],
  ] as const) {
    await waitForList(env.kube.client, apiVersion, kind, { namespace }, (items) => items.length === 0, { timeoutMs: 240_000, describe: names });
  }
}

describeMgmt("a tenant by `kubectl apply` of its Kubernetes object, through Flux's real helm-controller", () => {
  const env = useMgmtEnv({ flux: true });
  // Whatever a test leaves (it failed half-way), the next one starts from an empty namespace.
  afterEach(() => removeApplications(env()), 300_000);

  test("bad values are refused by the API server, naming the field, and nothing is made of them", async () => {
    await env().prepareTenants(labConfig(env()));
    const bad = (spec: Record<string, unknown>): string =>
      stringify({ apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", metadata: { name: "bad", namespace }, spec }, { version: "1.1" });
    await expect(kubectl(env(), "apply", "-f", file("bad-replicas.yaml", bad({ nodeGroups: { workers: { replicas: -1 } } })))).rejects.toThrow(
      /spec\.nodeGroups\.workers\.replicas: Invalid value: -1: .*greater than or equal to 0/,
    );
    await expect(kubectl(env(), "apply", "-f", file("bad-version.yaml", bad({ version: "1.32" })))).rejects.toThrow(/spec\.version: Invalid value: "1\.32"/);
    // KubeVirt's `host` field means nothing here: unknown fields are refused, not dropped.
    await expect(kubectl(env(), "apply", "-f", file("bad-field.yaml", bad({ host: "x" })))).rejects.toThrow(/unknown field "spec\.host"/);
    await expect(kubectl(env(), "apply", "-f", file("bad-template.yaml", bad({ proxmox: { template: { kind: "id" } } })))).rejects.toThrow(
      /spec\.proxmox\.template: Invalid value: .*when kind is "id", templateId, sourceNode must be set/,
    );
    expect((await env().kube.client.list(helmV2, "HelmRelease", { namespace })).items).toEqual([]);
  }, 120_000);

  test("a node group key the CRD cannot check is refused by Helm's check of the chart's schema, naming it", async () => {
    const e = env();
    const app = { apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", metadata: { name: "badkey", namespace }, spec: { nodeGroups: { Bad_Group: { replicas: 0 } } } };
    await kubectl(e, "apply", "-f", file("bad-key.yaml", stringify(app, { version: "1.1" })));
    const ref = { apiVersion: helmV2, kind: "HelmRelease", namespace, name: "kubernetes-badkey" };
    // Ready=False also stands for "the HelmChart is not ready yet" (SourceNotReady) while the
    // source side catches up; only the install failure that names the key is the answer.
    const failed = await waitFor(e.kube.client, [ref], installFailedNaming(/Bad_Group/), { timeoutMs: 60_000, describe: (o) => describeCondition(o, "Ready") });
    expect(describeCondition([...failed.values()][0], "Ready")).toMatch(/^Ready=False \(InstallFailed: .*schema.*Bad_Group/s);
    await kubectl(e, "delete", "kubernetes", "badkey", "-n", namespace);
    await waitFor(e.kube.client, [ref], (o) => o === undefined, { timeoutMs: 60_000, describe: (o) => describeCondition(o, "Ready") });
    expect((await e.kube.client.list(capi, "Cluster", { namespace })).items).toEqual([]);
  }, 180_000);

  test("apply → HelmRelease Ready → the synth tenant's objects → VMs → Ready Nodes; delete → nothing left", async () => {
    const e = env();
    const config = labConfig(e);
    await e.prepareTenants(config);
    const demo = renderTenantResources(config).get("demo.yaml");
    expect(demo, "synth writes apps/demo.yaml").toBeDefined();
    const started = performance.now();
    expect(await kubectl(e, "apply", "-f", file("demo.yaml", demo ?? ""))).toMatch(/kubernetes\.apps\.cozystack\.io\/demo created/);

    const releaseRef = { apiVersion: helmV2, kind: "HelmRelease", namespace, name: "kubernetes-demo" };
    const deployed = (o: KubeObject | undefined): boolean => conditionIs("Ready")(o) && (o?.["status"] as { history?: Array<{ status?: string }> } | undefined)?.history?.[0]?.status === "deployed";
    await waitFor(e.kube.client, [releaseRef], deployed, { timeoutMs: 180_000, describe: (o) => describeCondition(o, "Ready") });
    const readyS = (performance.now() - started) / 1000;
    const release = await e.kube.client.get(releaseRef);
    const history = (release?.["status"] as { history?: Array<{ chartName: string; chartVersion: string; status: string }> }).history ?? [];
    expect(history[0]).toMatchObject({ chartName: "kubernetes-proxmox", status: "deployed" });
    // The chart helm-controller installed is the one the source-controller stand-in served.
    const served = e.flux?.source.packaged.get("cozy-public/cozystack-apps/kubernetes-proxmox");
    expect(history[0]?.chartVersion).toBe(served?.version);
    const chart = await e.kube.client.get({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmChart", namespace: "cozy-public", name: "tenant-demo-kubernetes-demo" });
    expect((chart?.["status"] as { artifact?: { digest?: string } }).artifact?.digest).toBe(served?.digest);

    // The same objects as dist/tenants/demo.yaml, installed by Helm (plus the chart's addons),
    // with the two labels helm-controller puts on everything it installs.
    const synth = (tenantObjects(config).get("demo.yaml") ?? []) as unknown as KubeObject[];
    const manifest = new Map((await releaseManifest(e, "kubernetes-demo")).map((o) => [identity(o), o]));
    const fluxLabels = { "helm.toolkit.fluxcd.io/name": "kubernetes-demo", "helm.toolkit.fluxcd.io/namespace": namespace };
    for (const object of synth) {
      expect(manifest.get(identity(object)), identity(object)).toEqual({ ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...fluxLabels } } });
    }
    const extra = [...manifest.values()].filter((o) => !synth.some((s) => identity(s) === identity(o)));
    expect(extra.map((o) => o.kind).sort()).toEqual(["ConfigMap", "HelmRelease", "HelmRelease", "HelmRelease"]);
    for (const object of synth) {
      const live = await e.kube.client.get({ apiVersion: object.apiVersion, kind: object.kind, namespace, name: object.metadata.name });
      expect(live?.metadata.annotations?.["meta.helm.sh/release-name"], identity(object)).toBe("kubernetes-demo");
    }

    // The VMs join as Ready Nodes of the tenant cluster.
    await waitForList(e.kube.client, capi, "Machine", { namespace }, (items) => items.length === 2 && items.every(machineRunning), { timeoutMs: 300_000, describe: names });
    const joinedS = (performance.now() - started) / 1000;
    expect(createdVms(e)).toHaveLength(2);
    const tenant = e.kamaji.controlPlanes.find((t) => t.cluster === "demo");
    const nodes = (await tenant!.env.client.list("v1", "Node")).items;
    expect(nodes.map((n) => describeCondition(n, "Ready"))).toEqual([expect.stringMatching(/^Ready=True/), expect.stringMatching(/^Ready=True/)]);
    // cozystack-api reports the application's state from its HelmRelease.
    await waitFor(e.kube.client, [{ apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", namespace, name: "demo" }], conditionIs("Ready"), {
      timeoutMs: 30_000,
      describe: (o) => describeCondition(o, "Ready"),
    });
    console.log(`[tenant-cr] HelmRelease Ready after ${readyS.toFixed(0)} s, 2 Nodes Ready after ${joinedS.toFixed(0)} s`);

    // Delete: the HelmRelease goes with its owner, Helm uninstalls, CAPI and capmox delete the VMs.
    const deleting = performance.now();
    await kubectl(e, "delete", "kubernetes", "demo", "-n", namespace, "--wait=false");
    for (const [apiVersion, kind] of [
      [helmV2, "HelmRelease"],
      [capi, "Cluster"],
      [capi, "Machine"],
      ["infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxMachine"],
      ["infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxCluster"],
      ["controlplane.cluster.x-k8s.io/v1alpha1", "KamajiControlPlane"],
    ] as const) {
      await waitForList(e.kube.client, apiVersion, kind, { namespace }, (items) => items.length === 0, { timeoutMs: 300_000, describe: names });
    }
    console.log(`[tenant-cr] deleted in ${((performance.now() - deleting) / 1000).toFixed(0)} s`);
    expect((await e.kube.client.list("source.toolkit.fluxcd.io/v1", "HelmChart", { namespace: "cozy-public" })).items.map((o) => o.metadata.name)).not.toContain("tenant-demo-kubernetes-demo");
    expect(createdVms(e)).toEqual([]);
    expect(isos(e)).toEqual([]);
  }, 900_000);
});
