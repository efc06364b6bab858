/** Storage operations: configuration, per-node status, content listing, upload. */
import type { RequestOptions } from "./api.js";
import { apiPath, requireId, requireNode, requireVmid, type Requester } from "./requester.js";
import type { NodeStorage, NodeStorageFilter, StorageConfig, StorageVolume, UploadInput, Upid } from "./types.js";
import { buildUploadBody } from "./upload.js";

export function storages(r: Requester): Promise<StorageConfig[]> {
  return r.request("GET", "/storage");
}

export function nodeStorages(r: Requester, node: string, filter: NodeStorageFilter = {}): Promise<NodeStorage[]> {
  return r.request("GET", apiPath`/nodes/${requireNode(node)}/storage`, { ...filter });
}

export function storageContent(
  r: Requester,
  node: string,
  storage: string,
  filter: { readonly content?: string; readonly vmid?: number } = {},
): Promise<StorageVolume[]> {
  return r.request("GET", apiPath`/nodes/${requireNode(node)}/storage/${requireId(storage, "storage")}/content`, {
    content: filter.content,
    vmid: filter.vmid === undefined ? undefined : requireVmid(filter.vmid),
  });
}

/** Uploads need far longer than API calls: 30 minutes per attempt unless told otherwise. */
export const uploadTimeoutMs = 30 * 60_000;

export function uploadFile(r: Requester, node: string, storage: string, input: UploadInput, options: RequestOptions = {}): Promise<Upid> {
  const body = buildUploadBody(input);
  return r.upload(apiPath`/nodes/${requireNode(node)}/storage/${requireId(storage, "storage")}/upload`, body, {
    timeoutMs: uploadTimeoutMs,
    ...options,
  });
}
