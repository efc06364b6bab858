/**
 * Removing a VM the VM test created: find where it lives now, confirm it is still ours (by
 * its unique name), wait out a clone lock, stop it, destroy it with its disks, and confirm it
 * is gone. Transient API failures are retried until the cleanup time limit; the user's
 * Ctrl-C does not cut it short (that is when it matters most).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isNotFound, type ProxmoxApi } from "../proxmox/index.js";
import type { Timeouts } from "../stages/index.js";

/** A VM this run created (or may have created: a clone call whose answer was lost). */
export interface OwnedVm {
  readonly vmid: number;
  /** The unique name the clone gave it: the ownership proof. */
  readonly name: string;
  /** The node it was cloned to. */
  readonly node: string;
}

export type CleanupResult =
  | { readonly status: "gone"; readonly detail: string }
  | { readonly status: "not-ours"; readonly detail: string }
  | { readonly status: "failed"; readonly detail: string; readonly error?: unknown };

export interface CleanupOptions {
  readonly api: ProxmoxApi;
  readonly timeouts: Timeouts;
  /** Progress lines (`waiting for clone lock on 123`). */
  readonly log?: (line: string) => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Manual removal, for a failure message. */
export function manualRemoval(vm: OwnedVm): string {
  return `on ${vm.node}: qm stop ${vm.vmid}; qm destroy ${vm.vmid} --purge --destroy-unreferenced-disks 1 (only after checking that VM ${vm.vmid} is named ${vm.name}), or run npm run vm-test -- --sweep --yes`;
}

/** Removes `vm` if it exists and is still ours; never touches another VM. */
export async function destroyOwnedVm(vm: OwnedVm, options: CleanupOptions): Promise<CleanupResult> {
  const { api, timeouts } = options;
  const log = options.log ?? (() => undefined);
  const deadline = Date.now() + timeouts["vm.cleanup"];
  const taskWait = (limit: number) => ({ timeoutMs: Math.max(1, Math.min(limit, deadline - Date.now())), pollIntervalMs: timeouts["poll.task"] });
  let lastError: unknown;
  let destroyed = false;
  while (Date.now() < deadline) {
    try {
      const here = (await api.clusterResources("vm")).find((r) => r.vmid === vm.vmid);
      if (!here) return { status: "gone", detail: destroyed ? `VM ${vm.vmid} destroyed` : `VM ${vm.vmid} does not exist (nothing to remove)` };
      if (here.name !== vm.name || here.template === 1 || here.template === true) {
        return { status: "not-ours", detail: `VM ${vm.vmid} is named ${here.name ?? "(none)"}, not ${vm.name}: another VM took the id, left alone` };
      }
      const node = here.node ?? vm.node;
      const status = await api.vmStatus(node, vm.vmid);
      if (status.lock) {
        // A clone (or our own destroy) is still running; PVE removes a failed clone by itself.
        log(`VM ${vm.vmid} is locked (${status.lock}); waiting`);
        await sleep(timeouts["poll.retry"]);
        continue;
      }
      if (status.status === "running") {
        log(`stopping VM ${vm.vmid} on ${node}`);
        await api.waitForTask(await api.stopVm(node, vm.vmid), taskWait(timeouts["vm.stop"]));
      }
      log(`destroying VM ${vm.vmid} on ${node}`);
      await api.waitForTask(await api.deleteVm(node, vm.vmid, { purge: true, "destroy-unreferenced-disks": true }), taskWait(timeouts["vm.destroy"]));
      destroyed = true;
    } catch (error) {
      if (isNotFound(error)) continue;
      lastError = error;
      log(`cleanup of VM ${vm.vmid} hit an error, retrying: ${message(error)}`);
      await sleep(Math.min(timeouts["poll.retry"], Math.max(0, deadline - Date.now())));
    }
  }
  return {
    status: "failed",
    detail: `VM ${vm.vmid} (${vm.name}) could not be removed within the cleanup limit${lastError ? `: ${message(lastError)}` : ""}`,
    ...(lastError ? { error: lastError } : {}),
  };
}
