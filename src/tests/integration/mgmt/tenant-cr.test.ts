/**
 * A tenant cluster as a CozyStack user makes one: `kubectl apply -f dist/apps/demo.yaml`
 * (the `Kubernetes` object synth writes) on the management environment. The cozystack-api
 * stand-in turns it into the HelmRelease `kubernetes-demo`; Flux's real helm-controller
 * fetches the app chart from the artifact Flux's real source-controller made of the
 * HelmRepository (a real Helm repository on 127.0.0.1) and installs it into
 * the management API server; the real CAPI, kubeadm bootstrap and capmox controllers make
 * the lab's VMs, which join the tenant control plane as Ready Nodes. The API server refuses
 * bad values naming the field, and `kubectl delete kubernetes demo` removes everything down
 * to the VMs and their cloud-init ISOs.
 *
 * Then, in the same environment, the upgrade to CozyStack v1.6 as a platform upgrade does it
 * (the app chart as our v1.6 package publishes it, a new chart version, and v1.6's
 * ApplicationDefinition): a tenant made under v0.37 keeps every Machine and VM through the
 * real helm-controller's upgrade and a later edit to v1.6's value names; and, on the
 * upgraded platform, the `Kubernetes` object synth writes for profile cozystack-v1.6 (v1.6's
 * value names) becomes VMs and Ready Nodes, KubeVirt-only fields are refused with the reason.
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
import type { PlatformConfig } from "../../../config/index.js";
import { renderTenantResources } from "../../../cozystack/app/index.js";
import { clientFromKubeconfig, conditionIs, conditionsOf, describeCondition, waitFor, waitForList, type KubeObject } from "../../../kube/index.js";
import { listAndWatch } from "../../../kube/list-watch.js";
import type { MgmtEnv } from "../../../mgmt/index.js";
import { resolveTimeouts } from "../../../stages/index.js";
import { kubectlPath } from "../../../tools/helm.js";
import { destroyOwnedVm } from "../../../vmtest/cleanup.js";
import { describeMgmt, labApi, labConfig, useMgmtEnv } from "../../support/mgmt-env.js";

const run = promisify(execFile);
const capi = "cluster.x-k8s.io/v1beta1";
const helmV2 = "helm.toolkit.fluxcd.io/v2";
const namespace = "tenant-demo";
const scratch = mkdtempSync(join(tmpdir(), "tenant-cr-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The same lab platform under profile cozystack-v1.6; its tenant at v1.33.13, the chart's patch of v1.33. */
function labConfigV16(env: MgmtEnv): PlatformConfig {
  const base = labConfig(env);
  return { ...base, profile: "cozystack-v1.6", tenants: base.tenants.map((t) => ({ ...t, version: "v1.33.13" })) };
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

const vmText = (vm: { vmid: number; node: string; config: Record<string, string> }): string => `${vm.vmid} ${vm.config["name"] ?? "?"} on ${vm.node}`;

/**
 * One VM per ProxmoxMachine, under the VMID and name it records; returns those VMIDs.
 * A VM that carries a live ProxmoxMachine's name under another VMID is capmox v0.7.0 cloning
 * twice: a reconcile that reads the ProxmoxMachine from an informer cache that does not hold
 * the first clone's VMID yet clones again and records the second. That is our reading of
 * the one CI run (2026-12-06, under load) that found three VMs for two Machines; the listing
 * in the failure message tells for sure. Cluster API never owns that VM: it is reported and
 * removed the way vm-test removes its own (checked by name). Any other VM fails the test.
 */
async function expectOneVmPerMachine(env: MgmtEnv, count: number): Promise<number[]> {
  const machines = (await env.kube.client.list("infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxMachine", { namespace })).items;
  const vmidOf = (m: KubeObject): number | undefined => (m["spec"] as { virtualMachineID?: number }).virtualMachineID;
  const recorded = new Map(machines.map((m) => [vmidOf(m), m.metadata.name]));
  const vms = createdVms(env);
  const listing = `VMs: ${vms.map(vmText).join("; ") || "none"}; ProxmoxMachines: ${machines.map((m) => `${m.metadata.name} → VM ${vmidOf(m) ?? "none"}`).join("; ") || "none"}`;
  const owned = vms.filter((vm) => recorded.get(vm.vmid) === vm.config["name"]);
  const doubles = vms.filter((vm) => !owned.includes(vm) && [...recorded.values()].includes(vm.config["name"] ?? ""));
  expect(owned.map((vm) => vm.vmid), listing).toHaveLength(count);
  expect(vms.filter((vm) => !owned.includes(vm) && !doubles.includes(vm)).map(vmText), listing).toEqual([]);
  for (const vm of doubles) {
    console.warn(`[tenant-cr] capmox cloned ${vm.config["name"] ?? "?"} twice: VM ${vmText(vm)} is no Machine's; removing it`);
    await removeStrayVm(env, vm);
  }
  return owned.map((vm) => vm.vmid).sort();
}

/** Removes a VM no Machine owns through PVE's API, as vm-test removes its own (checked by name). */
async function removeStrayVm(env: MgmtEnv, vm: { vmid: number; node: string; config: Record<string, string> }): Promise<void> {
  const api = labApi(env);
  try {
    const result = await destroyOwnedVm({ vmid: vm.vmid, name: vm.config["name"] ?? "", node: vm.node }, { api, timeouts: resolveTimeouts({}) });
    expect(result.status, result.detail).toBe("gone");
  } finally {
    api.close();
  }
}

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

/** What a tenant's HelmRelease makes in its namespace, in the order it goes on delete. */
const tenantKinds = [
  [helmV2, "HelmRelease"],
  [capi, "Cluster"],
  [capi, "Machine"],
  ["infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxMachine"],
  ["infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxCluster"],
  ["controlplane.cluster.x-k8s.io/v1alpha1", "KamajiControlPlane"],
] as const;

/** Waits, by watching, until no object of these kinds is left in the namespace. */
async function untilGone(env: MgmtEnv, kinds: readonly (readonly [string, string])[], timeoutMs: number): Promise<void> {
  for (const [apiVersion, kind] of kinds) {
    await waitForList(env.kube.client, apiVersion, kind, { namespace }, (items) => items.length === 0, { timeoutMs, describe: names });
  }
}

/** Deletes every `Kubernetes` object in the namespace, waits until its HelmRelease, Cluster and Machines are gone, and leaves no VM. */
async function removeApplications(env: MgmtEnv): Promise<void> {
  const apps = await env.kube.client.list("apps.cozystack.io/v1alpha1", "Kubernetes", { namespace }).catch(() => ({ items: [] as KubeObject[] }));
  if (apps.items.length > 0) {
    await kubectl(env, "delete", "kubernetes", "--all", "-n", namespace, "--wait=false");
    await untilGone(env, tenantKinds.slice(0, 3), 240_000);
  }
  // A VM left without its Machine would spoil the next test's count: remove it, and say so.
  const strays = createdVms(env);
  for (const vm of strays) await removeStrayVm(env, vm);
  if (strays.length > 0) throw new Error(`VMs left after every Machine went: ${strays.map(vmText).join("; ")} (removed)`);
}

/** Helm's release deployed with this chart version, and Ready. */
function deployedWith(chartVersion: string): (o: KubeObject | undefined) => boolean {
  return (o) => {
    const latest = (o?.["status"] as { history?: Array<{ status?: string; chartVersion?: string }> } | undefined)?.history?.[0];
    return conditionIs("Ready")(o) && latest?.status === "deployed" && latest.chartVersion === chartVersion;
  };
}

/** A Secret's `value` (Kamaji's kubeconfig Secrets), decoded. */
async function secretValue(env: MgmtEnv, name: string): Promise<string> {
  const secret = await env.kube.client.get({ apiVersion: "v1", kind: "Secret", namespace, name });
  const value = (secret?.["data"] as Record<string, string> | undefined)?.["value"];
  if (!value) throw new Error(`Secret ${namespace}/${name} has no value`);
  return Buffer.from(value, "base64").toString();
}

/** What an upgrade must keep: each Machine (name, uid) with its ProxmoxMachine's providerID and VMID. */
async function fleet(env: MgmtEnv): Promise<string[]> {
  const machines = (await env.kube.client.list(capi, "Machine", { namespace })).items;
  const proxmox = (await env.kube.client.list("infrastructure.cluster.x-k8s.io/v1alpha1", "ProxmoxMachine", { namespace })).items;
  return machines
    .map((m) => {
      const infra = (m["spec"] as { infrastructureRef: { name: string } }).infrastructureRef.name;
      const spec = proxmox.find((p) => p.metadata.name === infra)?.["spec"] as { providerID?: string; virtualMachineID?: number } | undefined;
      return `${m.metadata.name} uid=${String(m.metadata["uid"])} providerID=${spec?.providerID} vmid=${spec?.virtualMachineID}`;
    })
    .sort();
}

/** Watches the tenant's Nodes until stopped: the fewest Ready ever seen, and how many changes it saw. */
function watchReadyNodes(client: ReturnType<typeof clientFromKubeconfig>): { stop(): Promise<{ minReady: number; changes: number }> } {
  const ready = new Map<string, boolean>();
  let minReady = Number.POSITIVE_INFINITY;
  let changes = 0;
  const count = (): void => void (minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length));
  const isReady = (node: KubeObject): boolean => describeCondition(node, "Ready").startsWith("Ready=True");
  const controller = new AbortController();
  const loop = listAndWatch(
    client,
    "v1",
    "Node",
    {},
    {
      listed: (items) => {
        ready.clear();
        for (const node of items) ready.set(node.metadata.name, isReady(node));
        count();
      },
      changed: (node, deleted) => {
        if (deleted) ready.delete(node.metadata.name);
        else ready.set(node.metadata.name, isReady(node));
        changes++;
        count();
      },
    },
    { signal: controller.signal },
  );
  return {
    stop: async () => {
      controller.abort();
      await loop;
      return { minReady, changes };
    },
  };
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
    // The chart helm-controller installed is the package the Helm repository serves, byte for
    // byte: source-controller stored it as its artifact.
    const served = e.flux?.repository.packaged.get("kubernetes-proxmox");
    expect(served).toBeDefined();
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
    await expectOneVmPerMachine(e, 2);
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
    await untilGone(e, tenantKinds, 300_000);
    console.log(`[tenant-cr] deleted in ${((performance.now() - deleting) / 1000).toFixed(0)} s`);
    expect((await e.kube.client.list("source.toolkit.fluxcd.io/v1", "HelmChart", { namespace: "cozy-public" })).items.map((o) => o.metadata.name)).not.toContain("tenant-demo-kubernetes-demo");
    expect(createdVms(e)).toEqual([]);
    expect(isos(e)).toEqual([]);
  }, 900_000);

  // ---- the upgrade to CozyStack v1.6, then v1.6's objects on the upgraded platform ----
  // The tests below run in this order: the first upgrades the environment's platform.

  test("upgrade v0.37 → v1.6: the same HelmRelease moves to the v1.6 chart and definition; every Machine and VM is kept, Nodes stay Ready, the kubeconfig keeps working", async () => {
    const e = env();
    const config = labConfig(e);
    await e.prepareTenants(config);
    const started = performance.now();
    await kubectl(e, "apply", "-f", file("upgrade-demo.yaml", renderTenantResources(config).get("demo.yaml") ?? ""));
    const releaseRef = { apiVersion: helmV2, kind: "HelmRelease", namespace, name: "kubernetes-demo" };
    await waitForList(e.kube.client, capi, "Machine", { namespace }, (items) => items.length === 2 && items.every(machineRunning), { timeoutMs: 300_000, describe: names });
    console.log(`[tenant-cr upgrade] v0.37 tenant: 2 Nodes Ready ${((performance.now() - started) / 1000).toFixed(0)} s after apply`);

    const tenantKubeconfig = file("demo-tenant.kubeconfig", await secretValue(e, "demo-kubeconfig"));
    const tenantClient = clientFromKubeconfig(tenantKubeconfig);
    const before = await fleet(e);
    const vmsBefore = await expectOneVmPerMachine(e, 2);
    const mdBefore = await e.kube.client.get({ apiVersion: capi, kind: "MachineDeployment", namespace, name: "demo-workers" });
    expect(before).toHaveLength(2);

    // Nodes Ready, watched through the tenant's own kubeconfig for the whole upgrade.
    const watch = watchReadyNodes(tenantClient);
    try {
      const upgrading = performance.now();
      await e.flux!.upgradePlatform(labConfigV16(e), "0.2.0");
      const upgraded = await waitFor(e.kube.client, [releaseRef], deployedWith("0.2.0"), { timeoutMs: 180_000, describe: (o) => describeCondition(o, "Ready") });
      const upgradeS = (performance.now() - upgrading) / 1000;
      const release = [...upgraded.values()][0];
      // The v1.6 definition made it again: Flux's tenant shard label, the same values.
      expect(release?.metadata.labels?.["sharding.fluxcd.io/key"]).toBe("tenants");
      expect((release?.["status"] as { history: Array<{ chartVersion: string }> }).history.map((h) => h.chartVersion)).toEqual(["0.2.0", "0.1.0"]);

      // An edit to v1.6's value names (diskSize, no replicas or sockets at their defaults) renders the same objects.
      const app = await e.kube.client.get({ apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", namespace, name: "demo" });
      const spec = app?.["spec"] as { nodeGroups: Record<string, Record<string, unknown>> };
      const { replicas: _r, sockets: _s, ephemeralStorage, ...workers } = spec.nodeGroups["workers"] ?? {};
      const v16Spec = { ...spec, nodeGroups: { workers: { ...workers, diskSize: ephemeralStorage } } };
      const edited = { apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", metadata: { name: "demo", namespace }, spec: v16Spec };
      await kubectl(e, "apply", "-f", file("demo-v16-names.yaml", stringify(edited, { version: "1.1" })));
      await waitFor(e.kube.client, [releaseRef], (o) => deployedWith("0.2.0")(o) && ((o?.["status"] as { history?: unknown[] } | undefined)?.history?.length ?? 0) === 3, {
        timeoutMs: 120_000,
        describe: (o) => describeCondition(o, "Ready"),
      });

      // Nothing rolled: the MachineDeployment's spec did not change, the same Machines and VMs run.
      const mdAfter = await e.kube.client.get({ apiVersion: capi, kind: "MachineDeployment", namespace, name: "demo-workers" });
      expect(mdAfter?.metadata["generation"]).toBe(mdBefore?.metadata["generation"]);
      expect(await fleet(e)).toEqual(before);
      expect(createdVms(e).map((vm) => vm.vmid).sort()).toEqual(vmsBefore);
      const readiness = await watch.stop();
      expect(readiness.minReady, `Ready Nodes seen during the upgrade (${readiness.changes} Node changes watched)`).toBe(2);
      expect((await tenantClient.list("v1", "Node")).items.map((n) => describeCondition(n, "Ready"))).toEqual([expect.stringMatching(/^Ready=True/), expect.stringMatching(/^Ready=True/)]);
      console.log(
        `[tenant-cr upgrade] v0.37 → v1.6: Helm upgrade deployed in ${upgradeS.toFixed(0)} s; 2 of 2 VMs kept (VMIDs ${vmsBefore.join(", ")}), 0 Machines replaced, Ready Nodes never below 2 (watched through the tenant kubeconfig; Node changes seen: ${readiness.changes})`,
      );
    } finally {
      await watch.stop();
    }
  }, 900_000);

  test("v1.6 platform: bad v1.6 values are refused by the API server naming the field, KubeVirt-only fields with the reason", async () => {
    const e = env();
    await e.prepareTenants(labConfigV16(e));
    const bad = (spec: Record<string, unknown>): string =>
      stringify({ apiVersion: "apps.cozystack.io/v1alpha1", kind: "Kubernetes", metadata: { name: "bad16", namespace }, spec }, { version: "1.1" });
    await expect(kubectl(e, "apply", "-f", file("bad16-instancetype.yaml", bad({ nodeGroups: { md0: { minReplicas: 1, maxReplicas: 2, instanceType: "u1.medium" } } })))).rejects.toThrow(
      /spec\.nodeGroups\[md0\]\.instanceType: Invalid value: .*instanceType: KubeVirt only, refused: .*resources\.cpu and resources\.memory/,
    );
    await expect(kubectl(e, "apply", "-f", file("bad16-gpus.yaml", bad({ nodeGroups: { md0: { gpus: [{ name: "nvidia.com/L40S" }] } } })))).rejects.toThrow(
      /spec\.nodeGroups\[md0\]\.gpus: Invalid value: .*gpus: KubeVirt only, refused/,
    );
    await expect(kubectl(e, "apply", "-f", file("bad16-disk.yaml", bad({ nodeGroups: { md0: { diskSize: "20G" } } })))).rejects.toThrow(/spec\.nodeGroups(\.md0|\[md0\])\.diskSize: Invalid value: "20G"/);
    await expect(kubectl(e, "apply", "-f", file("bad16-version.yaml", bad({ version: "v1.30" })))).rejects.toThrow(/spec\.version: Invalid value: "v1\.30"/);
    expect((await e.kube.client.list(helmV2, "HelmRelease", { namespace })).items).toEqual([]);
  }, 120_000);

  test("v1.6 platform: the Kubernetes object synth writes with v1.6's names → the synth tenant's objects → VMs → Ready Nodes; delete → nothing left", async () => {
    const e = env();
    const config = labConfigV16(e);
    await e.prepareTenants(config);
    const demo = renderTenantResources(config).get("demo.yaml") ?? "";
    // v1.6's spelling: the minor (its patch from the chart's table) and diskSize
    const written = parseAllDocuments(demo).map((d) => d.toJS() as KubeObject | null).find((o) => o?.kind === "Kubernetes")?.["spec"] as { version: string; nodeGroups: Record<string, Record<string, unknown>> };
    expect(written.version).toBe("v1.33");
    expect(written.nodeGroups["workers"]).toEqual({ minReplicas: 2, maxReplicas: 2, resources: { cpu: 2, memory: "4Gi" }, diskSize: "20Gi" });
    const started = performance.now();
    await kubectl(e, "apply", "-f", file("demo16.yaml", demo));
    const releaseRef = { apiVersion: helmV2, kind: "HelmRelease", namespace, name: "kubernetes-demo" };
    await waitFor(e.kube.client, [releaseRef], deployedWith("0.2.0"), { timeoutMs: 180_000, describe: (o) => describeCondition(o, "Ready") });
    const synth = (tenantObjects(config).get("demo.yaml") ?? []) as unknown as KubeObject[];
    const manifest = new Map((await releaseManifest(e, "kubernetes-demo")).map((o) => [identity(o), o]));
    const fluxLabels = { "helm.toolkit.fluxcd.io/name": "kubernetes-demo", "helm.toolkit.fluxcd.io/namespace": namespace };
    for (const object of synth) {
      expect(manifest.get(identity(object)), identity(object)).toEqual({ ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...fluxLabels } } });
    }
    await waitForList(e.kube.client, capi, "Machine", { namespace }, (items) => items.length === 2 && items.every(machineRunning), { timeoutMs: 300_000, describe: names });
    const joinedS = (performance.now() - started) / 1000;
    await expectOneVmPerMachine(e, 2);
    const tenant = e.kamaji.controlPlanes.find((t) => t.cluster === "demo");
    const nodes = (await tenant!.env.client.list("v1", "Node")).items;
    expect(nodes.map((n) => describeCondition(n, "Ready"))).toEqual([expect.stringMatching(/^Ready=True/), expect.stringMatching(/^Ready=True/)]);
    expect(nodes.map((n) => (n["status"] as { nodeInfo: { kubeletVersion: string } }).nodeInfo.kubeletVersion)).toEqual(["v1.33.13", "v1.33.13"]);
    console.log(`[tenant-cr v1.6] 2 Nodes Ready ${joinedS.toFixed(0)} s after apply`);

    const deleting = performance.now();
    await kubectl(e, "delete", "kubernetes", "demo", "-n", namespace, "--wait=false");
    await untilGone(e, tenantKinds, 300_000);
    console.log(`[tenant-cr v1.6] deleted in ${((performance.now() - deleting) / 1000).toFixed(0)} s`);
    expect(createdVms(e)).toEqual([]);
    expect(isos(e)).toEqual([]);
  }, 900_000);
});
