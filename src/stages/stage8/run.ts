/**
 * Stage 8's test tenant, made the way a CozyStack user makes one: a `Kubernetes` object
 * (apps.cozystack.io) in a namespace holding capmox's credentials Secret. cozystack-api
 * turns it into the HelmRelease `kubernetes-<name>`, helm-controller installs the app chart,
 * CAPI and capmox make the VMs; deleting the object takes all of it away. Names, tags and
 * VM names are stage 3's (the VM test's ownership and run tags), so `npm run vm-test --
 * --sweep` finds whatever an interrupted run left behind.
 *
 * Whatever happens (a failed check, a timeout, Ctrl-C), `cleanup` removes the PVC workload,
 * deletes the object and, if that does not take the tenant away in time, its HelmRelease
 * and Cluster directly (stage 3's cleanup); anything still in Proxmox is named.
 */
import { applicationKind, appsApiVersion, releaseName, tenantResource } from "../../cozystack/app/index.js";
import { defaults, type PlatformConfig } from "../../config/index.js";
import { describeCondition, waitFor, waitForList, type KubeClient, type KubeObject, type ObjectRef } from "../../kube/index.js";
import type { ProxmoxApi } from "../../proxmox/index.js";
import type { ManagementInput } from "../input.js";
import { Stage3Run, testTenantNamespace, type TestTenant } from "../stage3/index.js";
import { Stage4Run } from "../stage4/index.js";
import type { Stage5Run } from "../stage5/index.js";
import { runLabel, stageLabel } from "../workloads/index.js";
import { releaseDeployed, releaseStalled, type Remains } from "./judge.js";

export const stage8FieldManager = "cozy-proxmox-stage8";
const helmReleaseApi = "helm.toolkit.fluxcd.io/v2";
const capi = "cluster.x-k8s.io/v1beta1";
const infra = "infrastructure.cluster.x-k8s.io/v1alpha1";

/** The kinds of the tenant's objects in the management cluster that must go with it, in the order they go. */
export const tenantKinds: ReadonlyArray<readonly [apiVersion: string, kind: string]> = [
  [capi, "Cluster"],
  [capi, "MachineDeployment"],
  [capi, "Machine"],
  [infra, "ProxmoxMachine"],
  [infra, "ProxmoxCluster"],
  ["controlplane.cluster.x-k8s.io/v1alpha1", "KamajiControlPlane"],
];

/** Workers of the test tenant: the first node group of the config's first tenant, else the default (at least one). */
export function stage8Workers(config: PlatformConfig): number {
  return Math.max(1, config.tenants[0]?.nodeGroups[0]?.replicas ?? defaults.nodeGroupReplicas);
}

/** Times of a delete, from the delete call. */
export interface DeleteTimes {
  readonly releaseGoneMs: number;
  readonly capiGoneMs: number;
}

export class Stage8Run {
  readonly tenantRun: Stage3Run;
  readonly workers: number;
  /** `performance.now()` when the object was applied. */
  appliedAt: number | undefined;
  /** The PVC workload, once `lifecycle.workload` started it (cleanup removes it before the tenant). */
  workload: Stage5Run | undefined;
  private applied = false;
  private deleteRequested = false;
  private deleted = false;

  constructor(
    readonly management: ManagementInput,
    config: PlatformConfig,
    /** Image of the PVC workload's pods. @default stage 5's (busybox) */
    readonly probeImage?: string,
  ) {
    this.workers = stage8Workers(config);
    this.tenantRun = new Stage3Run(management, config, this.workers, 8);
  }

  get tenant(): TestTenant {
    return this.tenantRun.tenant;
  }

  get client(): KubeClient {
    return this.management.client;
  }

  get appRef(): ObjectRef {
    return { apiVersion: appsApiVersion, kind: applicationKind, namespace: this.tenant.namespace, name: this.tenant.name };
  }

  get releaseRef(): ObjectRef {
    return { apiVersion: helmReleaseApi, kind: "HelmRelease", namespace: this.tenant.namespace, name: releaseName(this.tenant.tenant) };
  }

  /**
   * The `Kubernetes` object: the tenant's values as `npm run synth` writes them into
   * `dist/apps/`, labelled with the run. A fixed control-plane address of the model tenant
   * is left out: the test tenant must not take a real tenant's address.
   */
  application(): KubeObject {
    const t = this.tenant;
    const { address: _address, ...controlPlane } = t.tenant.controlPlane;
    const tenant = { ...t.tenant, controlPlane };
    const object = tenantResource({ ...t.config, tenants: [tenant] }, tenant) as unknown as KubeObject;
    return { ...object, metadata: { ...object.metadata, labels: { [runLabel]: t.runId, [stageLabel]: "8" } } };
  }

  /** Applies namespace, credentials Secret and the `Kubernetes` object, the pool narrowed to free addresses. */
  async apply(api: ProxmoxApi): Promise<void> {
    await this.tenantRun.reserveAddresses(api, this.workers);
    const objects = [...testTenantNamespace(this.tenant, this.tenantRun.credentials), this.application()];
    this.applied = true;
    this.appliedAt = performance.now();
    await this.tenantRun.applyObjects(objects, stage8FieldManager);
  }

  /** Waits (by watch) until the HelmRelease is installed or stalled; returns it as last seen (undefined: never made). */
  async waitRelease(timeoutMs: number, signal: AbortSignal): Promise<KubeObject | undefined> {
    try {
      const seen = await waitFor(this.client, [this.releaseRef], (o) => releaseDeployed(o) || releaseStalled(o), {
        timeoutMs,
        signal,
        describe: (o) => describeCondition(o, "Ready"),
      });
      return [...seen.values()][0];
    } catch (error) {
      if (signal.aborted) throw error;
      return this.client.get(this.releaseRef);
    }
  }

  /** A client for the tenant cluster from the `<cluster>-kubeconfig` Secret its control plane writes (as stage 4 reads it). */
  tenantClient(): Promise<KubeClient> {
    return new Stage4Run(this.tenantRun).tenantClient();
  }

  /**
   * Deletes the `Kubernetes` object and waits (by watch) until the object and its HelmRelease
   * are gone, then the Cluster API objects, then deletes the namespace (which held the
   * credentials capmox needed until its VMs were gone) and waits for it.
   */
  async deleteApp(timeoutMs: number, signal?: AbortSignal): Promise<DeleteTimes> {
    const started = performance.now();
    const left = (): number => Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
    const abort = signal ? { signal } : {};
    this.deleteRequested = true;
    await this.client.delete(this.appRef);
    await waitFor(this.client, [this.appRef, this.releaseRef], (o) => o === undefined, { timeoutMs: left(), ...abort, describe: (o) => describeCondition(o, "Ready") });
    const releaseGoneMs = Math.round(performance.now() - started);
    for (const [apiVersion, kind] of tenantKinds) {
      const describe = (items: readonly KubeObject[]): string => items.map((o) => `${kind} ${o.metadata.name}`).join(", ");
      await waitForList(this.client, apiVersion, kind, { namespace: this.tenant.namespace }, (items) => items.length === 0, { timeoutMs: left(), ...abort, describe });
    }
    const capiGoneMs = Math.round(performance.now() - started);
    const namespace: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: this.tenant.namespace };
    await this.client.delete(namespace);
    await waitFor(this.client, [namespace], (o) => o === undefined, { timeoutMs: left(), ...abort });
    this.deleted = true;
    return { releaseGoneMs, capiGoneMs };
  }

  /** What is left of the tenant: objects in the management cluster (its namespace included), VMs and ISOs in Proxmox. */
  async remains(api: ProxmoxApi, isoStorage: string, nodes: readonly string[]): Promise<Remains> {
    const ns = this.tenant.namespace;
    const objects: string[] = [];
    for (const [apiVersion, kind] of [[appsApiVersion, applicationKind], [helmReleaseApi, "HelmRelease"], ...tenantKinds] as const) {
      const items = await this.client.list(apiVersion, kind, { namespace: ns }).catch(() => ({ items: [] as KubeObject[] }));
      objects.push(...items.items.map((o) => `${kind} ${ns}/${o.metadata.name}`));
    }
    if (await this.client.get({ apiVersion: "v1", kind: "Namespace", name: ns })) objects.push(`Namespace ${ns}`);
    const left = await this.tenantRun.leftovers(api, isoStorage, nodes);
    return { objects, vms: left.vms, isos: left.isos };
  }

  /**
   * For the finally of the stage: removes the PVC workload, then the tenant by its
   * `Kubernetes` object; when that did not work, deletes its HelmRelease and Cluster
   * directly. Returns problems, empty when nothing is left.
   */
  async cleanup(api: ProxmoxApi, isoStorage: string, nodes: readonly string[], limits: { readonly workloadMs: number; readonly deleteMs: number }): Promise<string[]> {
    const problems = this.workload ? await this.workload.cleanup(api, limits.workloadMs) : [];
    if (!this.applied) return problems;
    if (!this.deleteRequested) {
      try {
        await this.deleteApp(limits.deleteMs);
      } catch (error) {
        problems.push(`deleting Kubernetes ${this.tenant.namespace}/${this.tenant.name} did not remove the test tenant (${(error as Error).message}); its HelmRelease and Cluster were deleted directly`);
      }
    }
    // Without its HelmRelease, helm-controller cannot make the Cluster again while it is deleted.
    if (!this.deleted) await this.client.delete(this.releaseRef).catch(() => false);
    problems.push(...(await this.tenantRun.cleanup(api, isoStorage, nodes, limits.deleteMs)));
    return problems;
  }
}
