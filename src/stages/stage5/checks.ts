/**
 * Stage 5's judgements, pure functions of what the Kubernetes and Proxmox APIs return:
 * the CSI plugin's workloads, CSINodes, topology labels, the StorageClass, the bound PV and
 * its volume handle, the test pods, and the disk in Proxmox storage and VM config.
 */
import type { KubeObject } from "../../kube/index.js";
import type { QemuConfig, StorageVolume } from "../../proxmox/index.js";
import { fail, pass, type CheckOutcome } from "../model.js";
import { podState } from "../tenant/pods.js";
import { labelOf, regionLabel, zoneLabel } from "../tenant/vms.js";

/** The Proxmox CSI plugin's driver name (provisioner of its StorageClasses). */
export const csiProvisioner = "csi.proxmox.sinextra.dev";
/** Namespaces the plugin is installed in: this project's tenant add-on, and upstream's chart default. */
export const csiNamespaces: readonly string[] = ["cozy-proxmox-csi", "csi-proxmox"];

interface PodTemplate {
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: ReadonlyArray<{ readonly image?: string }> } } };
}

const images = (o: KubeObject): string[] => ((o as unknown as PodTemplate).spec?.template?.spec?.containers ?? []).map((c) => c.image ?? "");
const ref = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** The plugin's workloads among all Deployments/DaemonSets: by image, else by name in its namespaces. */
export function pluginWorkloads(objects: readonly KubeObject[], image: RegExp, name: RegExp): KubeObject[] {
  return objects.filter((o) => images(o).some((i) => image.test(i)) || (csiNamespaces.includes(o.metadata.namespace ?? "") && name.test(o.metadata.name)));
}

/** Controller: the CSIDriver is registered and the controller Deployment has all replicas available. */
export function judgeController(driver: KubeObject | undefined, deployments: readonly KubeObject[]): CheckOutcome {
  const fix = `look at the proxmox-csi HelmRelease of the tenant and its pods (kubectl -n ${csiNamespaces[0]} get pods; logs of the controller's proxmox-csi-plugin-controller container)`;
  if (!driver) return fail(`no CSIDriver ${csiProvisioner} in the tenant cluster: the Proxmox CSI plugin is not installed`, fix);
  const controllers = pluginWorkloads(deployments, /proxmox-csi-controller/, /controller/);
  if (controllers.length === 0) return fail(`CSIDriver ${csiProvisioner} exists, but no controller Deployment of the plugin was found (namespaces ${csiNamespaces.join(", ")})`, fix);
  const problems: string[] = [];
  for (const d of controllers) {
    const want = Math.max(1, (d["spec"] as { replicas?: number } | undefined)?.replicas ?? 1);
    const available = (d["status"] as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0;
    if (available < want) problems.push(`Deployment ${ref(d)} has ${available} of ${want} replicas available`);
  }
  if (problems.length > 0) return fail(problems.join("; "), fix);
  return pass(`CSIDriver ${csiProvisioner} registered; controller ${controllers.map(ref).join(", ")} available`);
}

/** Node plugin: its DaemonSet is ready on every node it targets, and every Node's CSINode lists the driver. */
export function judgeNodePlugin(daemonSets: readonly KubeObject[], nodes: readonly KubeObject[], csiNodes: readonly KubeObject[]): CheckOutcome {
  const fix = `look at the node plugin's pods (kubectl -n ${csiNamespaces[0]} get pods -o wide) and their registrar logs; the plugin exits when a Node lacks the topology labels`;
  const plugins = pluginWorkloads(daemonSets, /proxmox-csi-node/, /node/);
  if (plugins.length === 0) return fail(`no node plugin DaemonSet of the Proxmox CSI plugin (namespaces ${csiNamespaces.join(", ")})`, fix);
  const problems: string[] = [];
  for (const ds of plugins) {
    const s = (ds["status"] as { desiredNumberScheduled?: number; numberReady?: number } | undefined) ?? {};
    const desired = s.desiredNumberScheduled ?? 0;
    if (desired === 0) problems.push(`DaemonSet ${ref(ds)} is scheduled on no node`);
    else if ((s.numberReady ?? 0) < desired) problems.push(`DaemonSet ${ref(ds)} has ${s.numberReady ?? 0} of ${desired} pods ready`);
  }
  const registered = new Set(
    csiNodes.filter((c) => ((c["spec"] as { drivers?: Array<{ name: string }> } | undefined)?.drivers ?? []).some((d) => d.name === csiProvisioner)).map((c) => c.metadata.name),
  );
  const missing = nodes.filter((n) => !(n["spec"] as { unschedulable?: boolean } | undefined)?.unschedulable).map((n) => n.metadata.name).filter((n) => !registered.has(n));
  if (missing.length > 0) problems.push(`the driver is not registered on Node(s) ${missing.join(", ")} (their CSINode does not list ${csiProvisioner})`);
  if (problems.length > 0) return fail(problems.join("; "), fix);
  return pass(`node plugin ready; ${csiProvisioner} registered on ${registered.size} Node(s)`);
}

/** Every Node carries the region of this Proxmox cluster and a zone that is one of its nodes. */
export function judgeTopology(nodes: readonly KubeObject[], region: string, pveNodes: readonly string[]): CheckOutcome {
  if (nodes.length === 0) return fail("the tenant cluster has no Nodes", "add workers (a node group with replicas) and rerun");
  const problems: string[] = [];
  for (const n of nodes) {
    const r = labelOf(n, regionLabel);
    const z = labelOf(n, zoneLabel);
    if (!r || !z) problems.push(`Node ${n.metadata.name} lacks ${[!r ? regionLabel : "", !z ? zoneLabel : ""].filter(Boolean).join(" and ")}`);
    else {
      if (r !== region) problems.push(`Node ${n.metadata.name} has region ${r}, the CSI plugin's region is ${region}`);
      if (!pveNodes.includes(z)) problems.push(`Node ${n.metadata.name} has zone ${z}, which is not a Proxmox node (${pveNodes.join(", ")})`);
    }
  }
  if (problems.length > 0) {
    return fail(problems.join("; "), "the Proxmox CCM sets these labels: check that it runs in the tenant (its logs), that kubelets run with --cloud-provider=external, and that its region equals proxmox.region");
  }
  const zones = [...new Set(nodes.map((n) => labelOf(n, zoneLabel)))].sort();
  return pass(`${nodes.length} Node(s) in region ${region}, zones ${zones.join(", ")}`);
}

/** The StorageClass exists, is the plugin's, and names a Proxmox storage that holds disk images. */
export function judgeStorageClass(sc: KubeObject | undefined, name: string, imageStorages: readonly string[]): CheckOutcome {
  if (!sc) return fail(`no StorageClass ${name} in the tenant cluster`, `check the proxmox-csi HelmRelease's storageClass values; or set TENANT_STORAGE_CLASS to the class the plugin created`);
  const provisioner = sc["provisioner"] as string | undefined;
  if (provisioner !== csiProvisioner) return fail(`StorageClass ${name} uses provisioner ${provisioner ?? "none"}, not ${csiProvisioner}`, "name the Proxmox CSI plugin's class in TENANT_STORAGE_CLASS");
  const storage = (sc["parameters"] as Record<string, string> | undefined)?.["storage"];
  if (!storage) return fail(`StorageClass ${name} has no parameters.storage (the Proxmox storage its disks go to)`, "set storage in the plugin's storageClass values");
  if (!imageStorages.includes(storage)) return fail(`StorageClass ${name} puts disks on Proxmox storage ${storage}, which does not exist or does not hold disk images (storages with images: ${imageStorages.join(", ") || "none"})`, "point the class at a storage with content type images (stage 2 checks the configured one)");
  const binding = (sc["volumeBindingMode"] as string | undefined) ?? "Immediate";
  return pass(`StorageClass ${name}: ${csiProvisioner} on storage ${storage} (${binding})`);
}

/** `<region>/<zone>/<storage>/<disk>`; the zone is empty for shared storage. */
export interface VolumeHandle {
  readonly region: string;
  readonly zone: string;
  readonly storage: string;
  readonly disk: string;
}

export function parseVolumeHandle(handle: string | undefined): VolumeHandle | undefined {
  const parts = (handle ?? "").split("/");
  if (parts.length !== 4) return undefined;
  const [region, zone, storage, disk] = parts as [string, string, string, string];
  if (!region || !storage || !disk) return undefined;
  return { region, zone, storage, disk };
}

/** The PVC is Bound to a PV of the plugin whose handle names this region. */
export function judgeBound(pvc: KubeObject | undefined, pv: KubeObject | undefined, region: string): { outcome: CheckOutcome; handle?: VolumeHandle } {
  const phase = (pvc?.["status"] as { phase?: string } | undefined)?.phase ?? "missing";
  if (!pvc || phase !== "Bound") return { outcome: fail(`the test PVC is ${phase}`, "kubectl describe pvc in the test namespace: the provisioner's events say why (often token privileges or storage)") };
  if (!pv) return { outcome: fail(`the test PVC is Bound to PV ${(pvc["spec"] as { volumeName?: string }).volumeName ?? "?"}, which does not exist`, "look at the provisioner's log") };
  const csi = (pv["spec"] as { csi?: { driver?: string; volumeHandle?: string } } | undefined)?.csi;
  if (csi?.driver !== csiProvisioner) return { outcome: fail(`PV ${pv.metadata.name} belongs to driver ${csi?.driver ?? "none"}, not ${csiProvisioner}`, "the StorageClass is served by another driver") };
  const handle = parseVolumeHandle(csi.volumeHandle);
  if (!handle) return { outcome: fail(`PV ${pv.metadata.name} has volume handle ${JSON.stringify(csi.volumeHandle)}, not <region>/<zone>/<storage>/<disk>`, "report it with the plugin version: this tool does not know that handle format") };
  if (handle.region !== region) return { outcome: fail(`PV ${pv.metadata.name} is in region ${handle.region}, the platform's region is ${region}`, "set the plugin's clusters[].region to proxmox.region") };
  return { outcome: pass(`PVC Bound to ${pv.metadata.name}: disk ${handle.disk} on ${handle.storage}${handle.zone ? ` (node ${handle.zone})` : " (shared storage)"}`), handle };
}

/** The writer wrote `token` and ended, the reader (a new pod) read it back and is Ready. */
export function judgeWriteRead(writer: KubeObject | undefined, reader: KubeObject | undefined, token: string): CheckOutcome {
  const w = podState(writer);
  if (w.phase !== "Succeeded" || w.exitCode !== 0) {
    return fail(`the writer pod did not write the volume: ${w.phase}${w.exitCode !== undefined ? ` exit ${w.exitCode}` : ""}${w.message ? ` (${w.message})` : w.waitingReason ? ` (${w.waitingReason})` : ""}`, "kubectl describe pod stage5-writer in the test namespace: attach or mount errors come from the CSI node plugin");
  }
  if (w.message !== token) return fail(`the writer read back ${JSON.stringify(w.message ?? "")} right after writing, not the token`, "the file system on the volume is not reliable: look at the node plugin's log");
  const r = podState(reader);
  if (r.exitCode === 3) return fail(`a new pod on the volume read ${JSON.stringify((r.message ?? "").replace(/^read: /, ""))}, not what the writer wrote`, "the volume lost its data between pods: look at the CSI node plugin (unstage/stage) and the disk in Proxmox");
  if (!r.ready) return fail(`the reader pod is ${r.phase}${r.waitingReason ? ` (${r.waitingReason})` : ""}${r.unschedulable ? ` (${r.unschedulable})` : ""}, not Ready`, "kubectl describe pod stage5-reader: attach or mount errors come from the CSI plugin");
  return pass(`a pod wrote ${token.length} bytes; a second pod${r.nodeName ? ` on ${r.nodeName}` : ""} read them back`);
}

/** Config keys that attach a disk (`scsi1`, `virtio0`, …) and detached ones (`unused0`). */
const diskKey = /^(scsi|virtio|sata|ide|unused)\d+$/;

/** The config keys of a VM whose volume is `<storage>:<disk>`. */
export function diskKeysOf(config: QemuConfig, storage: string, disk: string): string[] {
  const volid = `${storage}:${disk}`;
  return Object.entries(config)
    .filter(([k, v]) => diskKey.test(k) && typeof v === "string" && v.split(",")[0] === volid)
    .map(([k]) => k)
    .sort();
}

/** The disk exists in the storage and is attached (not `unused`) to the VM of the pod's Node. */
export function judgeAttached(handle: VolumeHandle, vm: { vmid: number; pveNode: string; config: QemuConfig }, volumes: readonly StorageVolume[], nodeName: string): CheckOutcome {
  const volid = `${handle.storage}:${handle.disk}`;
  const problems: string[] = [];
  if (!volumes.some((v) => v.volid === volid)) problems.push(`Proxmox storage ${handle.storage} on ${handle.zone || vm.pveNode} has no volume ${volid}`);
  const keys = diskKeysOf(vm.config, handle.storage, handle.disk).filter((k) => !k.startsWith("unused"));
  if (keys.length === 0) problems.push(`VM ${vm.vmid} (Node ${nodeName}) has no disk ${volid} attached`);
  if (handle.zone && handle.zone !== vm.pveNode) problems.push(`the volume is on Proxmox node ${handle.zone}, the VM runs on ${vm.pveNode}`);
  if (problems.length > 0) return fail(problems.join("; "), "look at the CSI controller's attacher log and the VM's hardware in Proxmox");
  const size = volumes.find((v) => v.volid === volid)?.size;
  return pass(`${volid} exists${size ? ` (${Math.round(size / 2 ** 20)} MiB)` : ""} and is ${keys.join(", ")} of VM ${vm.vmid} on ${vm.pveNode}`, { vmid: vm.vmid });
}

/** After the PVC is deleted: the disk is in no storage listing and no VM config. */
export function judgeDiskGone(handle: VolumeHandle, volumes: readonly StorageVolume[], configs: ReadonlyArray<{ vmid: number; config: QemuConfig }>): CheckOutcome {
  const volid = `${handle.storage}:${handle.disk}`;
  const problems: string[] = [];
  if (volumes.some((v) => v.volid === volid)) problems.push(`volume ${volid} is still in Proxmox storage ${handle.storage}`);
  for (const c of configs) {
    const keys = diskKeysOf(c.config, handle.storage, handle.disk);
    if (keys.length > 0) problems.push(`VM ${c.vmid} still references it as ${keys.join(", ")}`);
  }
  if (problems.length > 0) return fail(problems.join("; "), `remove it by hand (pvesm free ${volid}) and look at the CSI controller's log for the failed DeleteVolume`);
  return pass(`${volid} is gone from storage ${handle.storage} and from every VM`);
}
