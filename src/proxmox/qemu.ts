/** QEMU VM operations: list, config (get / async POST / sync PUT), clone, resize, power, delete, status; reading `smbios1`. */
import type { Params } from "./api.js";
import { apiPath, requireId, requireNode, requireVmid, type Requester } from "./requester.js";
import type {
  QemuCloneParams,
  QemuConfig,
  QemuConfigQuery,
  QemuConfigUpdate,
  QemuDeleteOptions,
  QemuShutdownOptions,
  QemuStartOptions,
  QemuStatus,
  QemuStopOptions,
  QemuVmSummary,
  Upid,
} from "./types.js";

/** `uuid=…` of a VM's `smbios1`: the SMBIOS UUID that capmox's providerID names. */
export function smbiosUuid(smbios1: string | undefined): string | undefined {
  return /(?:^|,)uuid=([0-9a-fA-F-]+)/.exec(smbios1 ?? "")?.[1];
}

function vmPath(node: string, vmid: number): string {
  return apiPath`/nodes/${requireNode(node)}/qemu/${requireVmid(vmid)}`;
}

/** `delete` as PVE wants it: one comma-separated string. */
function configParams(changes: QemuConfigUpdate): Params {
  const { delete: del, ...rest } = changes;
  const params: Record<string, Params[string]> = { ...rest };
  if (del !== undefined) params.delete = typeof del === "string" ? del : del.join(",");
  return params;
}

export function listVms(r: Requester, node: string, options: { readonly full?: boolean } = {}): Promise<QemuVmSummary[]> {
  return r.request("GET", apiPath`/nodes/${requireNode(node)}/qemu`, { full: options.full });
}

export function vmConfig(r: Requester, node: string, vmid: number, query: QemuConfigQuery = {}): Promise<QemuConfig> {
  return r.request("GET", `${vmPath(node, vmid)}/config`, { current: query.current, snapshot: query.snapshot });
}

export function updateVmConfig(r: Requester, node: string, vmid: number, changes: QemuConfigUpdate): Promise<Upid> {
  return r.request("POST", `${vmPath(node, vmid)}/config`, configParams(changes));
}

export async function updateVmConfigSync(r: Requester, node: string, vmid: number, changes: QemuConfigUpdate): Promise<void> {
  await r.request("PUT", `${vmPath(node, vmid)}/config`, configParams(changes));
}

export function cloneVm(r: Requester, node: string, vmid: number, params: QemuCloneParams): Promise<Upid> {
  requireVmid(params.newid, "newid");
  return r.request("POST", `${vmPath(node, vmid)}/clone`, { ...params });
}

export function resizeVmDisk(r: Requester, node: string, vmid: number, disk: string, size: string): Promise<Upid> {
  if (!/^\+?\d+(?:\.\d+)?[KMGT]?$/.test(size)) {
    throw new RangeError(`size: expected e.g. '+10G' or '60G', got ${JSON.stringify(size)}`);
  }
  return r.request("PUT", `${vmPath(node, vmid)}/resize`, { disk: requireId(disk, "disk"), size });
}

export function startVm(r: Requester, node: string, vmid: number, options: QemuStartOptions = {}): Promise<Upid> {
  return r.request("POST", `${vmPath(node, vmid)}/status/start`, { ...options });
}

export function stopVm(r: Requester, node: string, vmid: number, options: QemuStopOptions = {}): Promise<Upid> {
  return r.request("POST", `${vmPath(node, vmid)}/status/stop`, { ...options });
}

export function shutdownVm(r: Requester, node: string, vmid: number, options: QemuShutdownOptions = {}): Promise<Upid> {
  return r.request("POST", `${vmPath(node, vmid)}/status/shutdown`, { ...options });
}

export function deleteVm(r: Requester, node: string, vmid: number, options: QemuDeleteOptions = {}): Promise<Upid> {
  return r.request("DELETE", vmPath(node, vmid), { ...options });
}

export function vmStatus(r: Requester, node: string, vmid: number): Promise<QemuStatus> {
  return r.request("GET", `${vmPath(node, vmid)}/status/current`);
}
