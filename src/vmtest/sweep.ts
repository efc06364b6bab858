/**
 * `vm-test --sweep`: finds VMs that earlier, interrupted VM-test runs left behind and, with
 * `--yes`, removes them. A VM counts as a leftover only when its tags (ownership tag plus a
 * run tag) or its name plus description marker say the VM test made it; templates never.
 * A VM a Cluster API Machine still owns (a stage 3, 4 or 8 test tenant's) is refused, naming
 * its Cluster: see capi-owner.ts.
 */
import { isNotFound, smbiosUuid, type ProxmoxApi } from "../proxmox/index.js";
import { capiOwnerOf, type CapiOwner, type CapiView } from "./capi-owner.js";
import type { Timeouts } from "../stages/index.js";
import { type CleanupResult, destroyOwnedVm } from "./cleanup.js";
import { NAME_PREFIX, ownedRunId, runStartedAt } from "../ownership/index.js";

export interface Leftover {
  readonly vmid: number;
  readonly node: string;
  readonly name: string;
  readonly runId: string;
  readonly status: string;
  /** Age of the run in ms (from the run id), if known. */
  readonly ageMs?: number;
  readonly tags?: string;
}

export interface SweepOptions {
  readonly api: ProxmoxApi;
  readonly timeouts: Timeouts;
  /** Only list (the default); removing needs `remove: true` (`--yes`). */
  readonly remove: boolean;
  /** Leave runs younger than this alone (a VM test may still be running). @default 0 */
  readonly minAgeMs?: number;
  /** Never sweep this run (the caller's own). */
  readonly excludeRunId?: string;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  /**
   * The management cluster's Machines and ProxmoxMachines; a VM one of them owns is refused.
   * Undefined: not known, and every VM with capmox's tags is refused.
   */
  readonly capi?: CapiView;
}

export interface SweepResult {
  readonly found: readonly Leftover[];
  /** Leftovers younger than minAge, left alone. */
  readonly tooYoung: readonly Leftover[];
  /** Owned by a Cluster API Machine (or, without the management cluster, possibly): never removed. */
  readonly refused: readonly { readonly vm: Leftover; readonly owner: CapiOwner }[];
  readonly removed: readonly Leftover[];
  readonly failed: readonly { readonly vm: Leftover; readonly detail: string }[];
}

/** Lists the VM test's leftovers in VMID order. */
export async function findLeftovers(api: ProxmoxApi, now: Date): Promise<Leftover[]> {
  const out: Leftover[] = [];
  for (const r of await api.clusterResources("vm")) {
    if (r.type !== "qemu" || r.vmid === undefined || !r.node || r.template === 1 || r.template === true) continue;
    let runId = ownedRunId({ tags: r.tags, name: r.name });
    if (!runId && r.name?.startsWith(NAME_PREFIX)) {
      // Interrupted before tagging: the clone already wrote the description marker.
      const config = await api.vmConfig(r.node, r.vmid).catch(() => undefined);
      runId = config ? ownedRunId({ tags: config.tags, name: config.name, description: config.description }) : undefined;
    }
    if (!runId) continue;
    const started = runStartedAt(runId);
    out.push({
      vmid: r.vmid,
      node: r.node,
      name: r.name ?? "",
      runId,
      status: String(r.status ?? "unknown"),
      ...(r.tags !== undefined ? { tags: r.tags } : {}),
      ...(started ? { ageMs: now.getTime() - started.getTime() } : {}),
    });
  }
  return out.sort((a, b) => a.vmid - b.vmid);
}

export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const now = (options.now ?? (() => new Date()))();
  const all = (await findLeftovers(options.api, now)).filter((l) => l.runId !== options.excludeRunId);
  const minAge = options.minAgeMs ?? 0;
  const tooYoung = all.filter((l) => l.ageMs !== undefined && l.ageMs < minAge);
  const refused: { vm: Leftover; owner: CapiOwner }[] = [];
  const found: Leftover[] = [];
  for (const vm of all.filter((l) => !tooYoung.includes(l))) {
    // The SMBIOS uuid is what a Machine's providerID names; read only when Machines are known.
    let uuid: string | undefined;
    if (options.capi) {
      const config = await options.api.vmConfig(vm.node, vm.vmid).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (!config) continue; // gone since the listing
      uuid = smbiosUuid(config.smbios1);
    }
    const owner = capiOwnerOf({ vmid: vm.vmid, ...(vm.tags !== undefined ? { tags: vm.tags } : {}), ...(uuid ? { uuid } : {}) }, options.capi);
    if (owner) refused.push({ vm, owner });
    else found.push(vm);
  }
  const removed: Leftover[] = [];
  const failed: { vm: Leftover; detail: string }[] = [];
  if (options.remove) {
    for (const vm of found) {
      options.log?.(`removing VM ${vm.vmid} (${vm.name}) on ${vm.node}`);
      const result: CleanupResult = await destroyOwnedVm(
        { vmid: vm.vmid, name: vm.name, node: vm.node },
        { api: options.api, timeouts: options.timeouts, ...(options.log ? { log: options.log } : {}) },
      );
      if (result.status === "failed") failed.push({ vm, detail: result.detail });
      else removed.push(vm);
    }
  }
  return { found, tooYoung, refused, removed, failed };
}
