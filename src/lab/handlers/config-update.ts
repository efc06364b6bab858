/**
 * Applying a VM config change (POST async / PUT sync): synchronous pre-checks (lock, digest,
 * privileges) and the change itself: new MACs for NICs without one, disk allocation
 * (`<storage>:<GiB>`), cloud-init drives, CD-ROM ISOs that must exist, detached disks
 * becoming `unusedN`.
 */
import type { HandlerContext } from "../context.js";
import { businessError } from "../errors.js";
import { sha1 } from "../ids.js";
import { parsePropertyString } from "../property-string.js";
import { driveVolume, isCdrom, isDriveKey, type LabState, type LabVm } from "../state.js";
import { allocateCloudinit, allocateDisk, isCloudinitDrive, withVolume } from "./disks.js";
import { checkConfigPermissions, checkLock, normalizeNic } from "./vm-common.js";

/** Parameters of the config endpoints that are not config keys. */
const CONTROL = new Set(["node", "vmid", "delete", "digest", "skiplock", "revert", "force", "background_delay"]);

/** A VM config's digest (sha1 of the config as PVE writes it). */
export function configDigest(config: Readonly<Record<string, string>>): string {
  const text = Object.keys(config)
    .sort()
    .map((k) => `${k}: ${config[k] ?? ""}`)
    .join("\n");
  return sha1(`${text}\n`);
}

/** The requested change. */
export interface ConfigChange {
  readonly set: Record<string, string>;
  readonly del: string[];
}

/** Splits validated params into keys to set and keys to delete. */
export function changeFromParams(params: Readonly<Record<string, unknown>>): ConfigChange {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!CONTROL.has(k)) set[k] = String(v);
  const del = (params["delete"] === undefined ? "" : String(params["delete"])).split(/[,;\s]+/).filter(Boolean);
  return { set, del };
}

/** Synchronous checks before a config change (as PVE does before forking). */
export function precheckConfigChange(ctx: HandlerContext, vm: LabVm, change: ConfigChange): void {
  ctx.rootOnly("skiplock");
  const both = change.del.find((k) => change.set[k] !== undefined);
  if (both !== undefined) throw businessError(`unable to delete '${both}' - option is also set`);
  if (change.del.length === 0 && Object.keys(change.set).length === 0 && ctx.params["revert"] === undefined) {
    throw businessError("no options specified");
  }
  if (ctx.params["force"] !== undefined && change.del.length === 0) {
    throw businessError("missing parameter 'delete' with 'force'");
  }
  checkLock(vm, ctx.flag("skiplock") ?? false);
  const digest = ctx.str("digest");
  if (digest !== undefined && digest !== configDigest(vm.config)) {
    throw businessError("detected modified configuration - file changed by other user? Try again.");
  }
  checkConfigPermissions(ctx.access, ctx.auth.authid, vm, change.set, change.del);
  for (const [key, value] of Object.entries(change.set)) {
    if (!isDriveKey(key)) continue;
    const first = parsePropertyString(value)[0]?.[1] ?? "";
    const alloc = /^([^:]+):(\d+(?:\.\d+)?|cloudinit)$/.exec(first);
    if (alloc) ctx.access.check(ctx.auth.authid, `/storage/${alloc[1]}`, ["Datastore.AllocateSpace"]);
  }
}

function firstFreeUnused(config: Readonly<Record<string, string>>): string {
  for (let n = 0; ; n++) if (config[`unused${n}`] === undefined) return `unused${n}`;
}

/** The new value of a drive key; allocates volumes as PVE does. */
function resolveDrive(state: LabState, vm: LabVm, value: string): string {
  const list = parsePropertyString(value);
  const first = list[0]?.[0] === "" ? (list[0]?.[1] ?? "") : "";
  const alloc = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(first);
  if (alloc) {
    const size = Math.round(Number(alloc[2]) * 1024 ** 3);
    const format = list.find(([k]) => k === "format")?.[1];
    const volid = allocateDisk(state, { storage: alloc[1] ?? "", node: vm.node, vmid: vm.vmid, size, ...(format ? { format } : {}) });
    return withVolume(value, volid, size);
  }
  const ci = /^([^:]+):cloudinit$/.exec(first);
  if (ci) {
    // PVE writes cloud-init drives as CD-ROMs.
    const drive = withVolume(value, allocateCloudinit(state, ci[1] ?? "", vm.node, vm.vmid));
    return isCdrom(drive) ? drive : `${drive},media=cdrom`;
  }
  const volid = driveVolume(value);
  if (volid !== undefined) {
    const vol = state.findVolume(volid, vm.node);
    if (!vol) throw new Error(`volume '${volid}' does not exist`);
    if (!isCdrom(value) && !/(^|,)size=/.test(value)) return withVolume(value, volid, vol.size);
  }
  return value;
}

/**
 * Tags as PVE stores them: split on `;`, `,` and spaces, empties and duplicates dropped,
 * sorted (the default `tag-style` ordering), joined with `;`.
 */
export function normalizeTags(value: string): string {
  const tags = [...new Set(value.split(/[;, ]+/).filter((t) => t !== ""))];
  return tags.sort().join(";");
}

/** Applies a change to a VM's config (throws on problems PVE finds while applying). */
export function applyConfigChange(state: LabState, vm: LabVm, change: ConfigChange): void {
  const config = { ...vm.config };
  for (const key of change.del) {
    const value = config[key];
    if (value === undefined) continue;
    delete config[key];
    if (isDriveKey(key) && !key.startsWith("unused") && !isCdrom(value) && driveVolume(value)) {
      config[firstFreeUnused(config)] = driveVolume(value) ?? value;
    } else if (isDriveKey(key) && isCloudinitDrive(value)) {
      const vol = state.findVolume(driveVolume(value) ?? "", vm.node);
      if (vol) state.removeVolume(vol);
    }
  }
  for (const [key, value] of Object.entries(change.set)) {
    if (/^net\d+$/.test(key)) {
      config[key] = normalizeNic(state, value);
    } else if (isDriveKey(key)) {
      const next = resolveDrive(state, vm, value);
      const old = config[key];
      const oldVol = old === undefined || isCdrom(old) ? undefined : driveVolume(old);
      if (oldVol !== undefined && oldVol !== driveVolume(next)) config[firstFreeUnused(config)] = oldVol;
      config[key] = next;
    } else if (key === "tags") {
      config[key] = normalizeTags(value);
    } else {
      config[key] = value;
    }
  }
  vm.config = config;
}
