/**
 * What several VM endpoints share: runtime figures (cpus, memory, disk sizes, uptime), the
 * `/cluster/resources`-style entry, lock checks, NIC MAC assignment, and the privilege each
 * config key needs (qemu-server's check_vm_modify_config_perm).
 */
import type { Access } from "../access.js";
import { businessError, permissionError } from "../errors.js";
import { newMac } from "../ids.js";
import { getProperty, parsePropertyString, parseSize, printPropertyString, type PropertyList } from "../property-string.js";
import { driveVolume, isCdrom, isDriveKey, type LabState, type LabVm } from "../state.js";

const NIC_MODELS = new Set([
  "e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b", "i82559er",
  "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3",
]);

/** `agent` config value → enabled? (`1`, `enabled=1,...`). */
export function agentEnabled(vm: LabVm): boolean {
  const value = vm.config["agent"];
  if (value === undefined) return false;
  const list = parsePropertyString(value);
  const enabled = getProperty(list, "") ?? getProperty(list, "enabled");
  return enabled === "1";
}

/** Whether the VM is a template. */
export function isTemplate(vm: LabVm): boolean {
  return vm.config["template"] === "1";
}

/** Memory in MiB from `memory` (`4096` or `current=4096`); PVE's default is 512. */
export function memoryMiB(vm: LabVm): number {
  const value = vm.config["memory"];
  if (value === undefined) return 512;
  const list = parsePropertyString(value);
  return Number(getProperty(list, "") ?? getProperty(list, "current") ?? 512);
}

/** Virtual CPUs: `vcpus` or sockets × cores. */
export function cpuCount(vm: LabVm): number {
  const vcpus = vm.config["vcpus"];
  if (vcpus !== undefined) return Number(vcpus);
  return Number(vm.config["sockets"] ?? 1) * Number(vm.config["cores"] ?? 1);
}

/** Size in bytes of the boot disk (first disk in the boot order, else the first disk). */
export function bootDiskSize(vm: LabVm): number {
  const order = /order=([^,]+)/.exec(vm.config["boot"] ?? "")?.[1]?.split(";") ?? [];
  const keys = [...order, ...Object.keys(vm.config)];
  for (const key of keys) {
    const value = vm.config[key];
    if (value === undefined || !isDriveKey(key) || key.startsWith("unused") || isCdrom(value)) continue;
    const size = getProperty(parsePropertyString(value), "size");
    if (size !== undefined) return parseSize(size) ?? 0;
  }
  return 0;
}

/** Seconds since start, 0 when stopped. */
export function uptime(vm: LabVm): number {
  return vm.status === "running" && vm.startedAt !== undefined ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0;
}

/** Runtime counters of a VM as status/current and the listings show them. */
export function vmStats(vm: LabVm): Record<string, number> {
  const maxmem = memoryMiB(vm) * 1024 * 1024;
  const running = vm.status === "running";
  const up = uptime(vm);
  return {
    cpus: cpuCount(vm),
    maxmem,
    mem: running ? Math.round(maxmem * 0.38) : 0,
    maxdisk: bootDiskSize(vm),
    disk: 0,
    cpu: running ? 0.0123 : 0,
    uptime: up,
    netin: running ? 1000 * up + 4096 : 0,
    netout: running ? 500 * up + 2048 : 0,
    diskread: running ? 300_000 * Math.min(up, 600) : 0,
    diskwrite: running ? 100_000 * Math.min(up, 600) : 0,
  };
}

/** The `/cluster/resources` entry of a VM (also pool members). */
export function vmResource(state: LabState, vm: LabVm): Record<string, unknown> {
  const nodeOnline = state.node(vm.node)?.online ?? false;
  const stats = vmStats(vm);
  const entry: Record<string, unknown> = {
    id: `qemu/${vm.vmid}`,
    type: "qemu",
    vmid: vm.vmid,
    node: vm.node,
    name: vm.config["name"] ?? `VM ${vm.vmid}`,
    status: nodeOnline ? vm.status : "unknown",
    template: isTemplate(vm) ? 1 : 0,
  };
  if (nodeOnline) {
    Object.assign(entry, {
      maxcpu: stats["cpus"],
      cpu: stats["cpu"],
      maxmem: stats["maxmem"],
      mem: stats["mem"],
      memhost: stats["mem"],
      maxdisk: stats["maxdisk"],
      disk: 0,
      diskread: stats["diskread"],
      diskwrite: stats["diskwrite"],
      netin: stats["netin"],
      netout: stats["netout"],
      uptime: stats["uptime"],
    });
  }
  if (vm.config["lock"] !== undefined) entry["lock"] = vm.config["lock"];
  if (vm.config["tags"] !== undefined) entry["tags"] = vm.config["tags"];
  if (vm.pool !== undefined) entry["pool"] = vm.pool;
  return entry;
}

/** PVE's check_lock: 500 `VM is locked (<lock>)` unless skiplock. */
export function checkLock(vm: LabVm, skiplock = false): void {
  const lock = vm.config["lock"];
  if (lock !== undefined && !skiplock) throw businessError(`VM is locked (${lock})`);
}

/** The bridge of a `netN` value. */
export function nicBridge(value: string): string | undefined {
  return getProperty(parsePropertyString(value), "bridge");
}

/** The MAC of a `netN` value (`virtio=MAC` or `macaddr=MAC`). */
export function nicMac(value: string): string | undefined {
  const list = parsePropertyString(value);
  const model = list.find(([k]) => NIC_MODELS.has(k));
  return model?.[1] ?? getProperty(list, "macaddr");
}

/**
 * Normalizes a `netN` value as PVE prints it: `model=MAC` first (a new MAC when none is
 * given or when `regenerate`), then the other keys in alphabetical order.
 */
export function normalizeNic(state: LabState, value: string, regenerate = false): string {
  const list = parsePropertyString(value);
  let model: string | undefined;
  let mac: string | undefined;
  const rest: PropertyList = [];
  for (const [k, v] of list) {
    if (k === "" && NIC_MODELS.has(v)) model = v;
    else if (NIC_MODELS.has(k)) [model, mac] = [k, v];
    else if (k === "model") model = v;
    else if (k === "macaddr") mac = v;
    else rest.push([k, v]);
  }
  const finalMac = regenerate || mac === undefined ? newMac(state.random) : mac.toUpperCase();
  rest.sort(([a], [b]) => a.localeCompare(b));
  return printPropertyString([[model ?? "virtio", finalMac], ...rest]);
}

/** Sets `uuid=` in an smbios1 value (added when absent). */
export function withSmbiosUuid(value: string | undefined, uuid: string): string {
  const list = parsePropertyString(value ?? "").filter(([k]) => k !== "uuid");
  return printPropertyString([...list, ["uuid", uuid]]);
}

const CPU_OPTIONS = new Set(["cores", "cpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus", "affinity"]);
const MEMORY_OPTIONS = new Set(["memory", "balloon", "shares"]);
const HWTYPE_OPTIONS = new Set(["acpi", "hotplug", "kvm", "machine", "scsihw", "smbios1", "tablet", "vga", "watchdog", "audio0", "rng0", "vmgenid"]);
const GENERAL_OPTIONS = new Set([
  "agent", "autostart", "bios", "description", "keyboard", "localtime", "migrate_downtime", "migrate_speed",
  "name", "onboot", "ostype", "protection", "reboot", "startdate", "startup", "tdf", "template", "tags", "meta",
]);
const DISK_OPTIONS = new Set(["boot", "bootdisk", "vmstatestorage"]);
const CLOUDINIT_OPTIONS = new Set(["cicustom", "cipassword", "citype", "ciupgrade", "ciuser", "nameserver", "searchdomain", "sshkeys"]);

/** The privilege a config key needs (`value` tells CD-ROMs from disks). */
export function configKeyPrivilege(key: string, value: string | undefined): string | undefined {
  if (CPU_OPTIONS.has(key)) return "VM.Config.CPU";
  if (MEMORY_OPTIONS.has(key)) return "VM.Config.Memory";
  if (HWTYPE_OPTIONS.has(key) || /^(serial|parallel|usb|hostpci|virtiofs|numa)\d+$/.test(key)) return "VM.Config.HWType";
  if (GENERAL_OPTIONS.has(key)) return "VM.Config.Options";
  if (DISK_OPTIONS.has(key)) return "VM.Config.Disk";
  if (CLOUDINIT_OPTIONS.has(key) || /^ipconfig\d+$/.test(key)) return "VM.Config.Cloudinit";
  if (/^net\d+$/.test(key)) return "VM.Config.Network";
  if (isDriveKey(key)) return value !== undefined && isCdrom(value) ? "VM.Config.CDROM" : "VM.Config.Disk";
  return undefined;
}

/** Checks the privileges for setting `set` and deleting `del` keys (403 naming the first missing one). */
export function checkConfigPermissions(
  access: Access,
  authid: string,
  vm: { vmid: number; config: Record<string, string> },
  set: Readonly<Record<string, string>>,
  del: readonly string[],
): void {
  const path = `/vms/${vm.vmid}`;
  for (const [key, value] of [...Object.entries(set), ...del.map((k) => [k, vm.config[k]] as const)]) {
    const priv = configKeyPrivilege(key, value);
    if (priv === undefined) {
      if (authid !== "root@pam") throw permissionError("user != root@pam");
      continue;
    }
    access.check(authid, path, [priv]);
    if (/^net\d+$/.test(key) && value !== undefined) {
      const bridge = nicBridge(value);
      if (bridge !== undefined) access.check(authid, `/sdn/zones/localnetwork/${bridge}`, ["SDN.Use"]);
    }
  }
}

/** Drive keys of a config that hold real volumes (not CD-ROMs), with their volid. */
export function diskVolumes(config: Readonly<Record<string, string>>): Array<{ key: string; volid: string }> {
  const out: Array<{ key: string; volid: string }> = [];
  for (const [key, value] of Object.entries(config)) {
    if (!isDriveKey(key) || isCdrom(value)) continue;
    const volid = driveVolume(value);
    if (volid) out.push({ key, volid });
  }
  return out;
}

/** The storage part of a volid. */
export function volidStorage(volid: string): string {
  return volid.slice(0, volid.indexOf(":"));
}
