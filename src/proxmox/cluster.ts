/** Cluster and node operations: version, nodes, node status, cluster status/resources/nextid, pools, node network. */
import { ProxmoxApiError } from "./errors.js";
import { apiPath, requireId, requireNode, requireVmid, type Requester } from "./requester.js";
import type {
  ClusterResource,
  ClusterResourceType,
  ClusterStatusEntry,
  NetworkInterface,
  NetworkInterfaceType,
  NodeStatus,
  NodeSummary,
  PoolSummary,
  PveVersion,
} from "./types.js";

export function version(r: Requester): Promise<PveVersion> {
  return r.request("GET", "/version");
}

export function nodes(r: Requester): Promise<NodeSummary[]> {
  return r.request("GET", "/nodes");
}

export function nodeStatus(r: Requester, node: string): Promise<NodeStatus> {
  return r.request("GET", apiPath`/nodes/${requireNode(node)}/status`);
}

export function clusterStatus(r: Requester): Promise<ClusterStatusEntry[]> {
  return r.request("GET", "/cluster/status");
}

export function clusterResources(r: Requester, type?: ClusterResourceType): Promise<ClusterResource[]> {
  return r.request("GET", "/cluster/resources", { type });
}

/** PVE returns the id as a JSON string (`"103"`); callers get a number. */
export async function nextId(r: Requester, vmid?: number): Promise<number> {
  const data = await r.request<string | number>("GET", "/cluster/nextid", {
    vmid: vmid === undefined ? undefined : requireVmid(vmid),
  });
  const id = typeof data === "number" ? data : Number.parseInt(String(data), 10);
  if (!Number.isInteger(id)) {
    throw new ProxmoxApiError({ kind: "protocol", method: "GET", path: "/cluster/nextid", hint: `not a VM id: ${JSON.stringify(data)}` });
  }
  return id;
}

/** `nextid?vmid=N` answers 400 `{vmid: "VM N already exists"}` for a taken id. */
export async function isVmidFree(r: Requester, vmid: number): Promise<boolean> {
  try {
    await nextId(r, vmid);
    return true;
  } catch (error) {
    if (error instanceof ProxmoxApiError && error.kind === "parameter" && /already exists/.test(error.errors?.vmid ?? "")) return false;
    throw error;
  }
}

export function pools(r: Requester, poolid?: string): Promise<PoolSummary[]> {
  return r.request("GET", "/pools", { poolid: poolid === undefined ? undefined : requireId(poolid, "poolid") });
}

export function nodeNetwork(r: Requester, node: string, type?: NetworkInterfaceType): Promise<NetworkInterface[]> {
  return r.request("GET", apiPath`/nodes/${requireNode(node)}/network`, { type });
}
