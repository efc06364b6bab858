/**
 * What the operation modules (cluster.ts, qemu.ts, …) need from the client, plus path and
 * argument helpers shared by them.
 */
import type { HttpMethod, Params, RequestOptions } from "./api.js";
import type { MultipartBody } from "./http.js";

/** A PVE response body beyond `data` (e.g. `total` of a task log). */
export interface Envelope<T> {
  readonly data: T;
  readonly total?: number;
}

export interface Requester {
  request<T>(method: HttpMethod, path: string, params?: Params, options?: RequestOptions): Promise<T>;
  requestEnvelope<T>(method: HttpMethod, path: string, params?: Params, options?: RequestOptions): Promise<Envelope<T>>;
  upload<T>(path: string, body: MultipartBody, options?: RequestOptions): Promise<T>;
}

/** Tagged template that percent-encodes every interpolated path segment. */
export function apiPath(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += encodeURIComponent(String(value)) + (strings[i + 1] ?? "");
  });
  return out;
}

/** A VMID as PVE accepts it (100..999999999); throws naming the field and the value. */
export function requireVmid(vmid: number, field = "vmid"): number {
  if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999) {
    throw new RangeError(`${field}: expected a VM id (integer 100..999999999), got ${JSON.stringify(vmid)}`);
  }
  return vmid;
}

/** A node name (PVE's pve-node format: letters, digits, dashes). */
export function requireNode(node: string, field = "node"): string {
  if (typeof node !== "string" || !/^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(node)) {
    throw new RangeError(`${field}: expected a node name, got ${JSON.stringify(node)}`);
  }
  return node;
}

/** A non-empty identifier (storage, pool, disk key) without path separators. */
export function requireId(value: string, field: string): string {
  if (typeof value !== "string" || value === "" || /[/\s]/.test(value)) {
    throw new RangeError(`${field}: expected an identifier, got ${JSON.stringify(value)}`);
  }
  return value;
}
