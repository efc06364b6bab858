/**
 * Whether a Cluster API Machine still owns a VM, so that `vm-test --sweep` never destroys a
 * VM behind Cluster API's back (the Machine would stay Running with the providerID of a VM
 * that no longer exists, and its MachineHealthCheck would clone a new one). Stage 3, 4 and 8
 * VMs carry the VM test's ownership marks, and capmox's tags besides.
 *
 * With the management cluster (`--kubeconfig`): a VM is owned when a Machine's providerID
 * is `proxmox://<its SMBIOS uuid>`, or a ProxmoxMachine names its VMID (capmox sets that
 * before the Machine has a providerID). A VM no Machine owns any more may be swept.
 * Without it, the sweep cannot tell, and refuses every VM that carries the tags capmox gives
 * its VMs (the node group's `capi-<cluster>-<group>` tag, `ip_net<N>_<address>`).
 */
import { clusterNameLabel } from "../capi/names.js";
import type { KubeObject } from "../kube/index.js";
import { splitTags } from "../ownership/index.js";

/** The Cluster API objects of the management cluster that can own a VM. */
export interface CapiView {
  readonly machines: readonly KubeObject[];
  readonly proxmoxMachines: readonly KubeObject[];
}

/** Who owns a VM, and how that is known. */
export interface CapiOwner {
  /** `<namespace>/<cluster>`, or a description when unknown. */
  readonly cluster: string;
  readonly namespace?: string;
  readonly name?: string;
  /** `Machine ns/name has providerID proxmox://…`. */
  readonly how: string;
}

export interface VmFacts {
  readonly vmid: number;
  readonly tags?: string;
  /** From the VM's `smbios1`. */
  readonly uuid?: string;
}

function owner(object: KubeObject, how: string): CapiOwner {
  const namespace = object.metadata.namespace ?? "default";
  const name = object.metadata.labels?.[clusterNameLabel] ?? (object["spec"] as { clusterName?: string } | undefined)?.clusterName;
  return name ? { cluster: `${namespace}/${name}`, namespace, name, how } : { cluster: `(unnamed) in namespace ${namespace}`, namespace, how };
}

/** capmox's tags on a VM: the node group tag (`capi-<cluster>-<group>`) and its addresses (`ip_net<N>_…`). */
export function capmoxTags(tags: string | undefined): string[] {
  return splitTags(tags).filter((t) => t.startsWith("capi-") || /^ip_net\d+_/.test(t));
}

/** A test tenant's Cluster from its node group tag (`capi-cozy-vmtest-<run>-s<N>`): its namespace is `cozy-stage<N>-<run>`. */
function testTenantCluster(tags: readonly string[]): CapiOwner | undefined {
  for (const tag of tags) {
    const m = /^capi-(cozy-vmtest-(\d{8}t\d{6}-[0-9a-f]{4}))-s(\d+)$/.exec(tag);
    if (m) {
      const namespace = `cozy-stage${m[3]}-${m[2]}`;
      return { cluster: `${namespace}/${m[1]}`, namespace, name: m[1] as string, how: "" };
    }
  }
  return undefined;
}

/**
 * The Cluster whose Machine owns the VM; undefined when the VM may be swept. `view`
 * undefined: the management cluster is not known, and any VM with capmox's tags is refused.
 */
export function capiOwnerOf(vm: VmFacts, view: CapiView | undefined): CapiOwner | undefined {
  if (view) {
    const providerId = vm.uuid ? `proxmox://${vm.uuid.toLowerCase()}` : undefined;
    const machine = providerId ? view.machines.find((m) => (m["spec"] as { providerID?: string } | undefined)?.providerID?.toLowerCase() === providerId) : undefined;
    if (machine) return owner(machine, `Machine ${machine.metadata.namespace}/${machine.metadata.name} has providerID ${providerId}`);
    const pm = view.proxmoxMachines.find((p) => (p["spec"] as { virtualMachineID?: number } | undefined)?.virtualMachineID === vm.vmid);
    if (pm) return owner(pm, `ProxmoxMachine ${pm.metadata.namespace}/${pm.metadata.name} has VMID ${vm.vmid}`);
    return undefined;
  }
  const tags = capmoxTags(vm.tags);
  if (tags.length === 0) return undefined;
  const how = `it carries capmox's tags (${tags.join(", ")}) and without the management cluster (--kubeconfig or KUBECONFIG) the sweep cannot tell whether a Machine still owns it`;
  const known = testTenantCluster(tags);
  return known ? { ...known, how } : { cluster: "the Cluster its tags name", how };
}

/** What to do instead of sweeping an owned VM. */
export function ownerRemedy(o: CapiOwner): string {
  if (o.namespace && /^cozy-stage\d-/.test(o.namespace)) return "`npm run test:stage -- --sweep --yes` deletes that test tenant's Cluster, and capmox then destroys the VM";
  if (o.namespace && o.name) return `delete the Cluster (\`kubectl -n ${o.namespace} delete cluster ${o.name}\`), and capmox destroys the VM`;
  return "delete its Cluster, and capmox destroys the VM";
}
