/**
 * Removing the test tenants earlier runs left behind (see leftovers.ts), the Kubernetes way:
 * for stage 8 its `Kubernetes` object and HelmRelease first (so helm-controller does not make
 * the Cluster again), then the Cluster: Cluster API deletes its Machines and capmox destroys
 * their VMs and cloud-init ISOs; the Cluster is gone only once they are. Then the namespace,
 * which held the credentials capmox needed until then. VMs are never deleted directly.
 *
 * Used before stages 3, 4 and 8 start (`tenant.leftovers`) and by `test:stage --sweep`.
 */
import type { PlatformConfig } from "../../config/index.js";
import { applicationKind, appsApiVersion } from "../../cozystack/app/names.js";
import type { KubeClient, KubeObject } from "../../kube/index.js";
import type { ProxmoxApi } from "../../proxmox/index.js";
import type { Timeouts } from "../timeouts.js";
import { findLeftoverTenants, type LeftoverTenant } from "./leftovers.js";
import { describeMachines, Stage3Run } from "./run.js";

export interface TenantSweepOptions {
  readonly client: KubeClient;
  readonly api: ProxmoxApi;
  readonly config: PlatformConfig;
  readonly timeouts: Timeouts;
  /** Remove them (`--yes`); otherwise only find and describe. */
  readonly remove: boolean;
  /** Replaces each stage's maximum run time (`--min-age`). */
  readonly minAgeMs?: number;
  /** The caller's own run, never swept. */
  readonly excludeRunId?: string;
  /** How long the removal may take. @default timeouts["capi.delete"] */
  readonly limitMs?: number;
  readonly now?: Date;
}

/** A leftover test tenant with what it still holds. */
export interface FoundTenant extends LeftoverTenant {
  /** `Cluster cozy-vmtest-…; Machine … Running (…)`. */
  readonly holds: string;
  /** Its VMs in Proxmox, by its run tag. */
  readonly vms: readonly string[];
}

export interface TenantSweepResult {
  /** Left behind: removed with `remove`, else what would be. */
  readonly found: readonly FoundTenant[];
  /** Of runs that may still be under way: never touched. */
  readonly leftAlone: readonly LeftoverTenant[];
  readonly removed: readonly FoundTenant[];
  readonly failed: readonly { readonly tenant: FoundTenant; readonly problems: readonly string[] }[];
}

const helmReleaseApi = "helm.toolkit.fluxcd.io/v2";

function adopted(options: TenantSweepOptions, t: LeftoverTenant): Stage3Run {
  return new Stage3Run({ client: options.client, tokenSecret: "", runId: t.runId }, options.config, 1, t.stage).adopt();
}

/** Items of a kind in a namespace; none when the cluster does not serve the kind (no Flux, no cozystack-api). */
async function listed(client: KubeClient, apiVersion: string, kind: string, namespace: string): Promise<KubeObject[]> {
  try {
    return (await client.list(apiVersion, kind, { namespace })).items;
  } catch (error) {
    if (/does not serve kind/.test((error as Error).message)) return [];
    throw error;
  }
}

async function inspect(options: TenantSweepOptions, t: LeftoverTenant): Promise<FoundTenant> {
  const run = adopted(options, t);
  const clusters = await listed(options.client, "cluster.x-k8s.io/v1beta1", "Cluster", t.namespace);
  const machines = clusters.length > 0 ? describeMachines(await run.machines(), await run.proxmoxMachines()) : "";
  const vms = (await run.vms(options.api)).map((vm) => ["VM", vm.vmid, vm.name, "on", vm.node ?? "?"].filter((part) => part !== undefined && part !== "").join(" "));
  const holds = [clusters.length > 0 ? `Cluster ${clusters.map((c) => c.metadata.name).join(", ")}: ${machines}` : "no Cluster", `${vms.length} VM(s)`].join("; ");
  return { ...t, holds, vms };
}

/** Deletes one leftover tenant the Kubernetes way and waits; returns what is still left. */
async function removeTenant(options: TenantSweepOptions, t: LeftoverTenant, limitMs: number): Promise<string[]> {
  const run = adopted(options, t);
  if (t.stage === 8) {
    for (const [apiVersion, kind] of [[appsApiVersion, applicationKind], [helmReleaseApi, "HelmRelease"]] as const) {
      for (const o of await listed(options.client, apiVersion, kind, t.namespace)) await options.client.delete({ apiVersion, kind, namespace: t.namespace, name: o.metadata.name });
    }
  }
  const p = options.config.proxmox;
  // Remembers the VMIDs first: the ISO check looks for `user-data-<vmid>.iso` after the VMs are gone.
  await run.vms(options.api);
  return run.cleanup(options.api, p.isoStorage, p.allowedNodes, limitMs);
}

/** Finds the leftover test tenants and, with `remove`, removes them all at once, each the Kubernetes way. */
export async function sweepTenants(options: TenantSweepOptions): Promise<TenantSweepResult> {
  const all = await findLeftoverTenants(options.client, {
    now: options.now ?? new Date(),
    timeouts: options.timeouts,
    ...(options.minAgeMs !== undefined ? { minAgeMs: options.minAgeMs } : {}),
    ...(options.excludeRunId ? { excludeRunId: options.excludeRunId } : {}),
  });
  const leftAlone = all.filter((t) => t.state === "maybe-running");
  const found = await Promise.all(all.filter((t) => t.state !== "maybe-running").map((t) => inspect(options, t)));
  if (!options.remove) return { found, leftAlone, removed: [], failed: [] };
  const limitMs = options.limitMs ?? options.timeouts["capi.delete"];
  const outcomes = await Promise.all(found.map(async (tenant) => ({ tenant, problems: await removeTenant(options, tenant, limitMs).catch((e: unknown) => [(e as Error).message]) })));
  return {
    found,
    leftAlone,
    removed: outcomes.filter((o) => o.problems.length === 0).map((o) => o.tenant),
    failed: outcomes.filter((o) => o.problems.length > 0),
  };
}

/** `namespace cozy-stage3-… (stage 3, run …: its process 4242 on this host is gone)`. */
export function describeLeftover(t: LeftoverTenant): string {
  return `namespace ${t.namespace} (stage ${t.stage}, run ${t.runId}: ${t.why})`;
}
