/**
 * Volume operations behind VM config changes, clones and deletes: allocating
 * `vm-<id>-disk-N`, linked clones of base volumes, cloud-init drives, freeing a VM's disks.
 */
import { businessError } from "../errors.js";
import { getProperty, parsePropertyString, printPropertyString, setProperty, formatSize } from "../property-string.js";
import { driveVolume, isCdrom, isDriveKey, type LabState, type LabStorage, type LabVolume } from "../state.js";

const FILE_TYPES = new Set(["dir", "nfs", "cifs", "cephfs"]);

/** Whether volumes on this storage are files (qcow2 possible) or block devices (raw). */
export function isFileStorage(st: LabStorage): boolean {
  return FILE_TYPES.has(st.type);
}

/** The storage, checked to exist on the node and to hold VM images. */
export function imageStorage(state: LabState, storage: string, node: string): LabStorage {
  const st = state.storageOn(storage, node);
  if (!st) throw businessError(`storage '${storage}' does not exist`);
  if (!st.content.includes("images")) throw businessError(`storage '${storage}' does not support vm images`);
  return st;
}

function nextDiskName(state: LabState, st: LabStorage, node: string, vmid: number, suffix: string): string {
  const taken = new Set(state.volumesOf(st.id, node).map((v) => v.volname.split("/").pop() ?? ""));
  for (let n = 0; ; n++) {
    const name = `vm-${vmid}-disk-${n}${suffix}`;
    if (!taken.has(name)) return name;
  }
}

/** Allocates a new disk volume for a VM; returns its volid. */
export function allocateDisk(
  state: LabState,
  opts: { storage: string; node: string; vmid: number; size: number; format?: string; parent?: string; baseName?: string },
): string {
  const st = imageStorage(state, opts.storage, opts.node);
  const file = isFileStorage(st);
  const format = file ? (opts.format === "raw" || opts.format === "vmdk" ? opts.format : "qcow2") : "raw";
  const disk = nextDiskName(state, st, opts.node, opts.vmid, file ? `.${format}` : "");
  const own = file ? `${opts.vmid}/${disk}` : disk;
  const volname = opts.baseName ? `${opts.baseName}/${own}` : own;
  state.addVolume({
    storage: st.id,
    ...(st.shared ? {} : { node: opts.node }),
    volname,
    content: "images",
    format,
    size: opts.size,
    vmid: opts.vmid,
    ctime: Math.floor(Date.now() / 1000),
    ...(opts.parent ? { parent: opts.parent } : {}),
  });
  return `${st.id}:${volname}`;
}

/** Allocates `vm-<id>-cloudinit` on a storage. */
export function allocateCloudinit(state: LabState, storage: string, node: string, vmid: number): string {
  const st = imageStorage(state, storage, node);
  const volname = isFileStorage(st) ? `${vmid}/vm-${vmid}-cloudinit.qcow2` : `vm-${vmid}-cloudinit`;
  if (!state.findVolume(`${st.id}:${volname}`, node)) {
    state.addVolume({
      storage: st.id,
      ...(st.shared ? {} : { node }),
      volname,
      content: "images",
      format: isFileStorage(st) ? "qcow2" : "raw",
      size: 4 * 1024 * 1024,
      vmid,
      ctime: Math.floor(Date.now() / 1000),
    });
  }
  return `${st.id}:${volname}`;
}

/** Whether a drive is a cloud-init drive. */
export function isCloudinitDrive(value: string): boolean {
  return /cloudinit/.test(driveVolume(value) ?? "");
}

/** Replaces the volume of a drive value, keeping its options. */
export function withVolume(value: string, volid: string, size?: number): string {
  let list = parsePropertyString(value);
  list = list.length > 0 && (list[0]?.[0] === "" || list[0]?.[0] === "file") ? [["", volid], ...list.slice(1)] : [["", volid], ...list];
  if (size !== undefined) list = setProperty(list, "size", formatSize(size));
  return printPropertyString(list);
}

/** Volumes a VM owns by name (`vm-<id>-*`, `base-<id>-*`), referenced or not. */
export function ownedVolumes(state: LabState, vmid: number): LabVolume[] {
  return state.volumes.filter((v) => v.vmid === vmid && v.content === "images");
}

/** Frees the volumes referenced by a config (and, with `unreferenced`, every other owned volume). */
export function freeVmVolumes(state: LabState, vmid: number, node: string, config: Readonly<Record<string, string>>, unreferenced: boolean): string[] {
  const log: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!isDriveKey(key)) continue;
    if (isCdrom(value) && !isCloudinitDrive(value)) continue;
    const volid = driveVolume(value);
    const vol = volid ? state.findVolume(volid, node) : undefined;
    if (vol && vol.vmid === vmid) {
      state.removeVolume(vol);
      log.push(`  Logical volume "${vol.volname.split("/").pop() ?? vol.volname}" successfully removed.`);
    }
  }
  if (unreferenced) {
    for (const vol of ownedVolumes(state, vmid)) {
      state.removeVolume(vol);
      log.push(`  Logical volume "${vol.volname.split("/").pop() ?? vol.volname}" successfully removed.`);
    }
  }
  return log;
}

/** The `size=` of a drive in bytes. */
export function driveSize(value: string): number | undefined {
  const size = getProperty(parsePropertyString(value), "size");
  if (size === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(size);
  if (!m) return undefined;
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] ?? ""] ?? 1;
  return Math.round(Number(m[1]) * mult);
}
