/**
 * From a tenant Node to its Proxmox VM. capmox's providerID is `proxmox://<SMBIOS uuid>`;
 * the CCM's default format is `proxmox://<region>/<vmid>`. Both are understood.
 */
import type { KubeObject } from "../../kube/index.js";
import { smbiosUuid, type ClusterResource, type ProxmoxApi, type QemuConfig } from "../../proxmox/index.js";

export type ProviderRef = { readonly kind: "uuid"; readonly uuid: string } | { readonly kind: "vmid"; readonly region: string; readonly vmid: number };

export const regionLabel = "topology.kubernetes.io/region";
export const zoneLabel = "topology.kubernetes.io/zone";

/** Parses a Node's `spec.providerID`; undefined when it is not a Proxmox one. */
export function parseProviderId(providerID: string | undefined): ProviderRef | undefined {
  const m = /^proxmox:\/\/(.+)$/.exec(providerID ?? "");
  if (!m) return undefined;
  const rest = m[1] as string;
  const byVmid = /^([^/]+)\/(\d+)$/.exec(rest);
  if (byVmid) return { kind: "vmid", region: byVmid[1] as string, vmid: Number(byVmid[2]) };
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(rest)) return { kind: "uuid", uuid: rest.toLowerCase() };
  return undefined;
}

export function providerIdOf(node: KubeObject): string | undefined {
  return (node["spec"] as { providerID?: string } | undefined)?.providerID;
}

export function labelOf(object: KubeObject, key: string): string | undefined {
  return object.metadata.labels?.[key];
}

/** A tenant Node's VM as Proxmox has it. */
export interface NodeVm {
  readonly vmid: number;
  /** The Proxmox node it runs on. */
  readonly pveNode: string;
  readonly config: QemuConfig;
}

/** Finds the VM of a Node; throws naming the Node when there is none. */
export async function vmOfNode(api: ProxmoxApi, node: KubeObject, vms?: readonly ClusterResource[]): Promise<NodeVm> {
  const ref = parseProviderId(providerIdOf(node));
  if (!ref) throw new Error(`Node ${node.metadata.name} has no Proxmox providerID (got ${providerIdOf(node) ?? "none"})`);
  const guests = (vms ?? (await api.clusterResources("vm"))).filter((r) => r.type === "qemu" && r.template !== 1 && r.vmid !== undefined && r.node);
  if (ref.kind === "vmid") {
    const vm = guests.find((g) => g.vmid === ref.vmid);
    if (!vm) throw new Error(`Node ${node.metadata.name}: no VM ${ref.vmid} in Proxmox`);
    return { vmid: ref.vmid, pveNode: vm.node as string, config: await api.vmConfig(vm.node as string, ref.vmid) };
  }
  // The zone label names the Proxmox node the VM runs on: look there first.
  const zone = labelOf(node, zoneLabel);
  const ordered = [...guests.filter((g) => g.node === zone), ...guests.filter((g) => g.node !== zone)];
  for (const g of ordered) {
    const config = await api.vmConfig(g.node as string, g.vmid as number);
    if (smbiosUuid(config.smbios1)?.toLowerCase() === ref.uuid) return { vmid: g.vmid as number, pveNode: g.node as string, config };
  }
  throw new Error(`Node ${node.metadata.name}: no VM in Proxmox has SMBIOS uuid ${ref.uuid}`);
}
