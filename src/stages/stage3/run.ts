/**
 * Stage 3's test tenant from apply to delete: the objects synth generates go into the
 * management cluster, the real controllers turn them into VMs, and this watches (never
 * sleeps on) the Cluster API objects, then reads the VMs back from Proxmox.
 *
 * Whatever happens (a failed check, a timeout, Ctrl-C), `cleanup` deletes the tenant and
 * waits for its VMs and ISOs to go; what is still there afterwards is reported by name.
 */
import { conditionsOf, KubeApiError, type KubeClient, type KubeObject, waitFor, waitForList, WaitTimeoutError } from "../../kube/index.js";
import type { ClusterResource, ProxmoxApi } from "../../proxmox/index.js";
import { newRunId, runTag, splitTags } from "../../ownership/index.js";
import type { ManagementInput } from "../input.js";
import { freeAddresses, testTenant, testTenantObjects, withAddresses, type CapmoxCredentials, type TestTenant } from "./tenant.js";

export const stage3FieldManager = "cozy-proxmox-stage3";
const capi = "cluster.x-k8s.io/v1beta1";
const infra = "infrastructure.cluster.x-k8s.io/v1alpha1";

/** A Machine of the test tenant with what capmox made of it. */
export interface ProvisionedMachine {
  readonly machine: KubeObject;
  readonly proxmoxMachine: KubeObject | undefined;
  /** `proxmox://<uuid>` */
  readonly providerId: string;
}

/** What is left of the test tenant in Proxmox. */
export interface Leftovers {
  readonly vms: readonly string[];
  readonly isos: readonly string[];
}

export function machinePhase(machine: KubeObject): string {
  return ((machine["status"] as { phase?: string } | undefined)?.phase ?? "Pending") as string;
}

export function providerIdOf(machine: KubeObject): string | undefined {
  return (machine["spec"] as { providerID?: string } | undefined)?.providerID;
}

const provisioned = (m: KubeObject): boolean => ["Provisioned", "Running"].includes(machinePhase(m)) && providerIdOf(m) !== undefined;

/** One line per Machine, with capmox's view of it, for timeouts and failures. */
export function describeMachines(machines: readonly KubeObject[], proxmoxMachines: readonly KubeObject[] = []): string {
  if (machines.length === 0) return "no Machines yet";
  return machines
    .map((m) => {
      const pm = proxmoxMachines.find((p) => p.metadata.name === proxmoxMachineName(m));
      return `Machine ${m.metadata.name} ${machinePhase(m)}${pm ? ` (${describeProxmoxMachine(pm)})` : ""}`;
    })
    .join("; ");
}

function proxmoxMachineName(machine: KubeObject): string | undefined {
  return (machine["spec"] as { infrastructureRef?: { name?: string } } | undefined)?.infrastructureRef?.name;
}

/** capmox's VMProvisioned condition and failure fields: `VMProvisioned=False (CloningFailed: …)`. */
export function describeProxmoxMachine(pm: KubeObject): string {
  const status = (pm["status"] as { failureReason?: string; failureMessage?: string } | undefined) ?? {};
  const condition = conditionsOf(pm).find((c) => c.type === "VMProvisioned");
  const parts = [
    condition ? `VMProvisioned=${condition.status}${condition.reason ? ` (${condition.reason}${condition.message ? `: ${condition.message}` : ""})` : ""}` : "no VMProvisioned condition",
    ...(status.failureReason ? [`failure ${status.failureReason}: ${status.failureMessage ?? ""}`] : []),
  ];
  return parts.join(", ");
}

/** How many addresses the test tenant needs: one VM, then three. */
const testAddresses = 3;

export class Stage3Run {
  #tenant: TestTenant;
  /** VMIDs the run's VMs had (for the ISO check after they are gone). */
  readonly vmids = new Set<number>();
  private applied = false;
  private deleted = false;

  constructor(
    readonly management: ManagementInput,
    config: Parameters<typeof testTenant>[0],
    /** Replicas of the test tenant's node group at apply. @default 1 */
    replicas = 1,
    /** The stage the tenant is for (its namespace and node group are named after it). @default 3 */
    stage = 3,
  ) {
    this.#tenant = testTenant(config, management.runId ?? newRunId(), replicas, stage);
  }

  get tenant(): TestTenant {
    return this.#tenant;
  }

  get client(): KubeClient {
    return this.management.client;
  }

  /**
   * Addresses in use: the `ip_net0_<address>` tags capmox puts on VMs, and every IPAddress
   * an IPAM provider handed out in the management cluster.
   */
  async usedAddresses(api: ProxmoxApi): Promise<Set<string>> {
    const used = new Set<string>();
    for (const vm of await api.clusterResources("vm")) {
      for (const tag of splitTags(vm.tags)) if (/^ip_net\d+_/.test(tag)) used.add(tag.replace(/^ip_net\d+_/, ""));
    }
    const claimed = await this.client.list("ipam.cluster.x-k8s.io/v1beta1", "IPAddress").catch(() => ({ items: [] as KubeObject[] }));
    for (const a of claimed.items) {
      const address = (a["spec"] as { address?: string } | undefined)?.address;
      if (address) used.add(address);
    }
    return used;
  }

  /** Narrows the test tenant's pool to `count` addresses nothing uses (before anything is applied). */
  async reserveAddresses(api: ProxmoxApi, count = testAddresses): Promise<void> {
    const ranges = this.#tenant.tenant.addressRanges ?? this.#tenant.config.network.addressRanges;
    const free = freeAddresses(ranges, await this.usedAddresses(api), count);
    if (!free) throw new Error(`fewer than ${count} free addresses in ${ranges.map((r) => `${r.start}-${r.end}`).join(", ")} for the test tenant`);
    this.#tenant = withAddresses(this.#tenant, free);
  }

  /** What capmox's credentials Secret of the test tenant is made of. */
  get credentials(): CapmoxCredentials {
    const own = this.#tenant.model === undefined ? undefined : this.management.tenantTokenSecrets?.[this.#tenant.model];
    return { tokenSecret: this.management.tokenSecret, ...(own === undefined ? {} : { tenantTokenSecret: own }), ...(this.management.caPem ? { caPem: this.management.caPem } : {}) };
  }

  /**
   * Applies objects of the test tenant (server-side, strict); from the first one on, `delete`
   * and `cleanup` act on the tenant, whatever made its Cluster API objects.
   */
  async applyObjects(objects: readonly KubeObject[], fieldManager = stage3FieldManager): Promise<void> {
    this.applied = true;
    for (const object of objects) await this.client.apply(object, { fieldManager });
  }

  /**
   * Takes over a test tenant an earlier run applied (its run id is this run's): `delete`,
   * `cleanup` and `leftovers` then act on it as if this run had applied it.
   */
  adopt(): this {
    this.applied = true;
    return this;
  }

  /** Applies namespace, credentials Secret and the tenant's objects (server-side, strict), on free addresses. */
  async apply(api: ProxmoxApi): Promise<number> {
    await this.reserveAddresses(api);
    const objects = testTenantObjects(this.tenant, this.credentials);
    await this.applyObjects(objects);
    return objects.length;
  }

  /** The test tenant's Machines, as listed now. */
  async machines(): Promise<KubeObject[]> {
    return (await this.client.list(capi, "Machine", { namespace: this.tenant.namespace })).items;
  }

  async proxmoxMachines(): Promise<KubeObject[]> {
    return (await this.client.list(infra, "ProxmoxMachine", { namespace: this.tenant.namespace })).items;
  }

  /** Waits (by watch) until `count` Machines of the tenant are Provisioned with a providerID (or, with `running`, Running with a nodeRef). */
  async waitProvisioned(count: number, timeoutMs: number, signal: AbortSignal, running = false): Promise<ProvisionedMachine[]> {
    const ready = running ? (m: KubeObject) => machinePhase(m) === "Running" && Boolean((m["status"] as { nodeRef?: unknown } | undefined)?.nodeRef) : provisioned;
    try {
      const machines = await waitForList(
        this.client,
        capi,
        "Machine",
        { namespace: this.tenant.namespace, labelSelector: `cluster.x-k8s.io/deployment-name=${this.tenant.machineDeployment}` },
        (items) => items.length === count && items.every(ready),
        { timeoutMs, signal, describe: (items) => describeMachines(items) },
      );
      const pms = await this.proxmoxMachines();
      return machines.map((machine) => ({ machine, proxmoxMachine: pms.find((p) => p.metadata.name === proxmoxMachineName(machine)), providerId: providerIdOf(machine) ?? "" }));
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw new WaitTimeoutError(`${error.message.replace(/:.*$/s, "")}: ${describeMachines(await this.machines(), await this.proxmoxMachines())}`, error.pending);
      throw error;
    }
  }

  /** Sets the MachineDeployment's replicas (a field of its own manager, as `kubectl scale` would). */
  async scale(replicas: number): Promise<void> {
    await this.client.apply(
      { apiVersion: capi, kind: "MachineDeployment", metadata: { name: this.tenant.machineDeployment, namespace: this.tenant.namespace }, spec: { replicas } } as KubeObject,
      { fieldManager: `${stage3FieldManager}-scale` },
    );
  }

  /** The run's VMs in Proxmox (by its run tag), remembering their VMIDs. */
  async vms(api: ProxmoxApi): Promise<ClusterResource[]> {
    const tag = runTag(this.tenant.runId);
    const vms = (await api.clusterResources("vm")).filter((r) => r.template !== 1 && splitTags(r.tags).includes(tag));
    for (const vm of vms) if (vm.vmid !== undefined) this.vmids.add(vm.vmid);
    return vms;
  }

  /**
   * Deletes the Cluster (Cluster API deletes its Machines, capmox their VMs and ISOs) and
   * then the namespace; waits, by watch, until both are gone.
   */
  async delete(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.applied) return;
    const deadline = Date.now() + timeoutMs;
    const cluster = { apiVersion: capi, kind: "Cluster", namespace: this.tenant.namespace, name: this.tenant.name };
    const namespace = { apiVersion: "v1", kind: "Namespace", name: this.tenant.namespace };
    await this.client.delete(cluster);
    await waitFor(this.client, [cluster], (o) => o === undefined, { timeoutMs: Math.max(1, deadline - Date.now()), ...(signal ? { signal } : {}) }).catch(async (error: unknown) => {
      if (error instanceof WaitTimeoutError) {
        throw new WaitTimeoutError(`the test tenant's Cluster was not deleted in time: ${describeMachines(await this.machines(), await this.proxmoxMachines())}`, error.pending);
      }
      throw error;
    });
    await this.client.delete(namespace);
    await waitFor(this.client, [namespace], (o) => o === undefined, { timeoutMs: Math.max(1, deadline - Date.now()), ...(signal ? { signal } : {}) });
    this.deleted = true;
  }

  /** VMs (by run tag) and cloud-init ISOs (`user-data-<vmid>.iso` of the run's VMIDs) still in Proxmox. */
  async leftovers(api: ProxmoxApi, isoStorage: string, nodes: readonly string[]): Promise<Leftovers> {
    const vms = (await this.vms(api)).map((vm) => `VM ${vm.vmid} ${vm.name ?? ""} on ${vm.node ?? "?"}`.trim());
    const isos: string[] = [];
    const names = new Set([...this.vmids].map((id) => `user-data-${id}.iso`));
    for (const node of nodes) {
      const content = await api.storageContent(node, isoStorage, { content: "iso" }).catch(() => []);
      for (const volume of content) if (names.has(volume.volid.replace(/^.*iso\//, ""))) isos.push(`${volume.volid} on ${node}`);
    }
    return { vms, isos: [...new Set(isos)] };
  }

  /** For the finally of a run: deletes what is left of the tenant; returns problems, empty when clean. */
  async cleanup(api: ProxmoxApi, isoStorage: string, nodes: readonly string[], timeoutMs: number): Promise<string[]> {
    if (!this.applied) return [];
    const problems: string[] = [];
    if (!this.deleted) {
      try {
        await this.delete(timeoutMs);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 404)) problems.push(`deleting the test tenant: ${(error as Error).message}`);
      }
    }
    const left = await this.leftovers(api, isoStorage, nodes);
    if (left.vms.length > 0) {
      problems.push(
        `VMs left in Proxmox: ${left.vms.join(", ")} (\`npm run test:stage -- --sweep --yes\` deletes the tenant's Cluster so that capmox destroys them; \`npm run vm-test -- --sweep --yes\` removes those no Machine owns any more)`,
      );
    }
    if (left.isos.length > 0) problems.push(`cloud-init ISOs left in Proxmox: ${left.isos.join(", ")}`);
    return problems;
  }
}
