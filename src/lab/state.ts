/**
 * The lab's in-memory cluster: nodes, storages and their volumes, VMs (config as PVE stores
 * it: a flat key → string map), pools, users, tokens, ACLs and tasks. Tests may edit it
 * directly (take a node offline, remove a bridge, add a cloud-init drive); handlers read and
 * write it on every request, so an edit shows in the next answer.
 */
import { randomUUID } from "node:crypto";
import { businessError, missingVmMessage } from "./errors.js";
import { newUuid, type Random } from "./ids.js";
import { parsePropertyString, parseSize } from "./property-string.js";
import type { Scenario, ScenarioAcl, ScenarioAgentCommand, ScenarioNode, ScenarioPool, ScenarioStorage, ScenarioVm, StorageType } from "./scenario.js";

export interface LabBridge {
  name: string;
  vlanAware: boolean;
  ports: string;
  cidr?: string;
  gateway?: string;
}

export interface LabNode {
  readonly name: string;
  online: boolean;
  readonly ip: string;
  readonly nodeid: number;
  cpus: number;
  memoryBytes: number;
  bridges: LabBridge[];
  /** Epoch seconds the node booted (uptime). */
  readonly bootTime: number;
}

export interface LabStorage {
  readonly id: string;
  readonly type: StorageType;
  content: string[];
  shared: boolean;
  /** Nodes that have the storage; undefined = all. */
  nodes?: string[];
  totalBytes: number;
  enabled: boolean;
}

export interface LabVolume {
  readonly storage: string;
  /** The node holding a local volume; undefined on shared storages. */
  readonly node?: string;
  /** Name after `<storage>:`, e.g. `vm-101-disk-0`, `iso/user-data-101.iso`. */
  readonly volname: string;
  readonly content: string;
  readonly format: string;
  size: number;
  readonly vmid?: number;
  readonly ctime: number;
  readonly parent?: string;
  /** The bytes of an uploaded ISO (the kubelet stand-in reads cloud-init ISOs from them). */
  readonly data?: Buffer;
}

/** A running `agent/exec` process. */
export interface LabExec {
  readonly pid: number;
  readonly doneAt: number;
  readonly exitcode: number;
  readonly out: string;
  readonly err: string;
}

export interface LabVm {
  readonly vmid: number;
  node: string;
  /** PVE's config map; numbers in the scenario become strings here, as in the .conf file. */
  config: Record<string, string>;
  status: "running" | "stopped";
  qmpstatus: "running" | "paused" | "stopped";
  /** Epoch ms of the last start. */
  startedAt?: number;
  /** Epoch ms from which the guest agent answers. */
  agentReadyAt?: number;
  pid?: number;
  pool?: string;
  readonly execs: Map<number, LabExec>;
}

export interface LabPool {
  readonly id: string;
  comment?: string;
  /** Member storages (VMs name their pool themselves, `LabVm.pool`). */
  readonly storages: Set<string>;
}

export interface LabUser {
  readonly id: string;
  enabled: boolean;
  comment?: string;
}

export interface LabTokenState {
  readonly id: string;
  secret: string;
  privsep: boolean;
  comment?: string;
}

export interface LabAclEntry {
  path: string;
  role: string;
  /** `user@realm` or `user@realm!token`. */
  ugid: string;
  kind: "user" | "token";
  propagate: boolean;
}

export interface LabTask {
  readonly upid: string;
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly type: string;
  readonly id: string;
  /** The auth id that started it (`user@realm` or `user@realm!token`). */
  readonly authid: string;
  status: "running" | "stopped";
  exitstatus?: string;
  endtime?: number;
  log: string[];
}

export interface LabTiming {
  taskDurationMs: number;
  taskDurations: Record<string, number>;
  agentBootDelayMs: number;
  authFailureDelayMs: number;
}

export interface LabAgentSettings {
  osinfo: Record<string, string>;
  commands: ScenarioAgentCommand[];
  ipPrefix: string;
}

const DISK_KEY = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/;

/** Whether a config key holds a drive (disk, CD-ROM, cloud-init, EFI/TPM state, unused). */
export function isDriveKey(key: string): boolean {
  return DISK_KEY.test(key);
}

/** The volume id of a drive value, or undefined for `none`, `cdrom` and passthrough. */
export function driveVolume(value: string): string | undefined {
  const first = parsePropertyString(value)[0];
  if (!first) return undefined;
  const vol = first[0] === "" || first[0] === "file" ? first[1] : undefined;
  if (vol === undefined || vol === "none" || vol === "cdrom" || !vol.includes(":")) return undefined;
  return vol;
}

/** Whether a drive value is a CD-ROM (`media=cdrom`). */
export function isCdrom(value: string): boolean {
  return parsePropertyString(value).some(([k, v]) => k === "media" && v === "cdrom");
}

/**
 * What happens to a VM, as the lab tells its subscribers: its config appears (`created`; a
 * clone's as soon as its task starts), its guest starts or stops running (`stopped` also when
 * it crashes or hangs), its config goes (`destroyed`, also when a clone fails).
 */
export interface VmEvent {
  readonly type: "created" | "started" | "stopped" | "destroyed";
  readonly vm: LabVm;
}

/** The cluster. */
export class LabState {
  clusterName: string | undefined;
  version: { version: string; release: string; repoid: string };
  readonly nodes = new Map<string, LabNode>();
  readonly storages = new Map<string, LabStorage>();
  volumes: LabVolume[] = [];
  readonly vms = new Map<number, LabVm>();
  readonly pools = new Map<string, LabPool>();
  readonly users = new Map<string, LabUser>();
  readonly tokens = new Map<string, LabTokenState>();
  acl: LabAclEntry[] = [];
  readonly tasks = new Map<string, LabTask>();
  readonly timing: LabTiming;
  readonly agent: LabAgentSettings;
  /** Lowest VMID `/cluster/nextid` hands out (datacenter.cfg next-id lower). */
  nextIdLower = 100;
  nextIdUpper = 1_000_000;
  readonly random: Random;
  /** SHA-256 fingerprint of the lab's certificate (reported as every node's ssl_fingerprint). */
  sslFingerprint = "";
  private pidCounter = 0x1f300;

  /** Bytes of uploaded files the lab keeps at most (see LabLimits.maxStoredBytes). */
  readonly maxStoredBytes: number;

  constructor(scenario: Scenario, random: Random, overrides: { taskDurationMs?: number; maxStoredBytes?: number } = {}) {
    this.maxStoredBytes = overrides.maxStoredBytes ?? Number.MAX_SAFE_INTEGER;
    this.random = random;
    this.clusterName = scenario.clusterName ?? (scenario.nodes.length > 1 ? "lab" : undefined);
    this.version = scenario.version ?? { version: "9.1.1", release: "9.1", repoid: "42fb6a2a" };
    const now = Math.floor(Date.now() / 1000);
    scenario.nodes.forEach((n, i) => this.nodes.set(n.name, labNode(n, i, now)));
    for (const s of scenario.storages) this.storages.set(s.id, labStorage(s));
    for (const p of scenario.pools ?? []) this.pools.set(p.id, labPool(p));
    this.users.set("root@pam", { id: "root@pam", enabled: true });
    for (const u of scenario.users ?? []) this.users.set(u.id, { id: u.id, enabled: u.enabled ?? true });
    for (const t of scenario.tokens) this.tokens.set(t.id, { id: t.id, secret: t.secret ?? randomUUID(), privsep: t.privsep ?? false });
    this.acl = (scenario.acl ?? []).map(labAclEntry);
    this.timing = labTiming(scenario, overrides.taskDurationMs);
    this.agent = labAgent(scenario);
    for (const v of scenario.vms ?? []) this.addScenarioVm(v);
  }

  /** A VM the scenario starts with; a running one has run for an hour and its agent answers. */
  private addScenarioVm(v: ScenarioVm): void {
    const config = Object.fromEntries(Object.entries(v.config).map(([k, val]) => [k, String(val)]));
    const running = v.status === "running";
    const vm: LabVm = {
      vmid: v.vmid,
      node: v.node,
      config,
      status: running ? "running" : "stopped",
      qmpstatus: running ? "running" : "stopped",
      execs: new Map(),
      ...(v.pool === undefined ? {} : { pool: v.pool }),
    };
    if (running) {
      vm.startedAt = Date.now() - 3600_000;
      vm.agentReadyAt = vm.startedAt;
      vm.pid = this.nextPid();
    }
    this.vms.set(v.vmid, vm);
    this.registerVolumesOf(vm);
  }

  private readonly vmListeners = new Set<(event: VmEvent) => void>();

  /** Tells `listener` every VM event from now on (tests, the kubelet stand-in); returns the unsubscribe. */
  onVmEvent(listener: (event: VmEvent) => void): () => void {
    this.vmListeners.add(listener);
    return () => void this.vmListeners.delete(listener);
  }

  /** Tells the subscribers; a subscriber's failure never fails what happened to the VM. */
  vmEvent(type: VmEvent["type"], vm: LabVm): void {
    for (const listener of this.vmListeners) {
      try {
        listener({ type, vm });
      } catch {
        // a listener reports its own problems
      }
    }
  }

  /** A new VM (a clone's, while its task runs). */
  addVm(vm: LabVm): void {
    this.vms.set(vm.vmid, vm);
    this.vmEvent("created", vm);
  }

  /** The VM's config is gone (destroyed, or its clone failed). */
  removeVm(vmid: number): void {
    const vm = this.vms.get(vmid);
    if (!vm) return;
    this.vms.delete(vmid);
    this.vmEvent("destroyed", vm);
  }

  /** The guest started or stopped running. */
  powerChanged(vm: LabVm, running: boolean): void {
    this.vmEvent(running ? "started" : "stopped", vm);
  }

  /**
   * A fault: the guest hangs (a kernel panic, a dead disk) while QEMU keeps running. PVE
   * still reports the VM running, so capmox sees nothing to restart; the guest agent stops
   * answering and the kubelet stand-in stops with the guest, so its Node goes NotReady and
   * only a MachineHealthCheck can help. (A VM that stops instead is started again by capmox.)
   */
  hangVm(vmid: number): void {
    const vm = this.vms.get(vmid);
    if (!vm || vm.status !== "running") throw new Error(`hangVm: VM ${vmid} is not running`);
    this.powerChanged(vm, false);
    delete vm.agentReadyAt;
    vm.execs.clear();
  }

  /** The guest is gone: stopped, no QEMU process, no agent (a stop task's effect, or a crash). */
  powerOff(vm: LabVm): void {
    if (vm.status === "running") this.powerChanged(vm, false);
    vm.status = "stopped";
    vm.qmpstatus = "stopped";
    delete vm.startedAt;
    delete vm.pid;
    delete vm.agentReadyAt;
    vm.execs.clear();
  }

  /** A fresh worker pid (also used for running VMs). */
  nextPid(): number {
    this.pidCounter += 1 + Math.floor(this.random() * 16);
    return this.pidCounter;
  }

  /** The node or undefined. */
  node(name: string): LabNode | undefined {
    return this.nodes.get(name);
  }

  /** The VM `vmid` on `node`, or PVE's 500 `Configuration file ... does not exist`. */
  vmOn(node: string, vmid: number): LabVm {
    const vm = this.vms.get(vmid);
    if (!vm || vm.node !== node) throw businessError(missingVmMessage(node, vmid));
    return vm;
  }

  /** Whether a storage exists on a node. */
  storageOn(storage: string, node: string): LabStorage | undefined {
    const s = this.storages.get(storage);
    if (!s) return undefined;
    if (s.nodes && !s.nodes.includes(node)) return undefined;
    return s;
  }

  /** Volumes of one storage as seen from a node. */
  volumesOf(storage: string, node: string): LabVolume[] {
    const s = this.storages.get(storage);
    if (!s) return [];
    return this.volumes.filter((v) => v.storage === storage && (s.shared || v.node === node));
  }

  /** One volume by volid (`local-lvm:vm-101-disk-0`) as seen from a node. */
  findVolume(volid: string, node: string): LabVolume | undefined {
    const colon = volid.indexOf(":");
    if (colon < 0) return undefined;
    const storage = volid.slice(0, colon);
    const volname = volid.slice(colon + 1);
    return this.volumesOf(storage, node).find((v) => v.volname === volname);
  }

  /** Adds a volume. */
  addVolume(volume: LabVolume): LabVolume {
    this.volumes.push(volume);
    return volume;
  }

  /** Removes a volume (by identity). */
  removeVolume(volume: LabVolume): void {
    this.volumes = this.volumes.filter((v) => v !== volume);
  }

  /** Used bytes of a storage on a node. */
  /** Bytes of uploaded file contents held in memory, all storages together. */
  storedBytes(): number {
    return this.volumes.reduce((sum, v) => sum + (v.data?.length ?? 0), 0);
  }

  usedBytes(storage: string, node: string): number {
    return this.volumesOf(storage, node).reduce((sum, v) => sum + v.size, 0);
  }

  /** Registers the volumes a VM's config names but the storage does not hold yet (scenario VMs). */
  registerVolumesOf(vm: LabVm): void {
    for (const [key, value] of Object.entries(vm.config)) {
      if (!isDriveKey(key) || isCdrom(value)) continue;
      const volid = driveVolume(value);
      if (!volid) continue;
      const [storage = "", volname = ""] = volid.split(/:(.*)/s);
      const st = this.storages.get(storage);
      if (!st || this.findVolume(volid, vm.node)) continue;
      const sizeText = parsePropertyString(value).find(([k]) => k === "size")?.[1];
      const size = (sizeText === undefined ? undefined : parseSize(sizeText)) ?? (volname.includes("cloudinit") ? 4 * 1024 ** 2 : 0);
      const base = /^(?:base-\d+-disk-\d+\/)?(vm|base)-(\d+)-/.exec(volname.replace(/^\d+\//, ""));
      this.addVolume({
        storage,
        ...(st.shared ? {} : { node: vm.node }),
        volname,
        content: "images",
        format: st.type === "dir" || st.type === "nfs" || st.type === "cifs" ? "qcow2" : "raw",
        size,
        ...(base ? { vmid: Number(base[2]) } : {}),
        ctime: Math.floor(Date.now() / 1000) - 86400,
      });
    }
  }

  /** The pools a storage is a member of. */
  poolsOfStorage(storage: string): string[] {
    return [...this.pools.values()].filter((p) => p.storages.has(storage)).map((p) => p.id);
  }

  /** The next free VMID from `lower` on (`/cluster/nextid`). */
  nextFreeVmid(): number | undefined {
    for (let id = this.nextIdLower; id < this.nextIdUpper; id++) {
      if (!this.vms.has(id)) return id;
    }
    return undefined;
  }

  /** A new SMBIOS uuid value. */
  newSmbiosUuid(): string {
    return newUuid(this.random);
  }
}

/** The `index`th node of the scenario; it booted `3 + index` days before `now` (epoch seconds). */
function labNode(n: ScenarioNode, index: number, now: number): LabNode {
  return {
    name: n.name,
    online: n.online ?? true,
    ip: n.ip ?? `10.0.0.${11 + index}`,
    nodeid: index + 1,
    cpus: n.cpus ?? 16,
    memoryBytes: (n.memoryMiB ?? 65536) * 1024 * 1024,
    bridges: (n.bridges ?? [{ name: "vmbr0" }]).map((b) => ({
      name: b.name,
      vlanAware: b.vlanAware ?? true,
      ports: b.ports ?? "eno1",
      ...(b.cidr === undefined ? {} : { cidr: b.cidr }),
      ...(b.gateway === undefined ? {} : { gateway: b.gateway }),
    })),
    bootTime: now - 86400 * (3 + index),
  };
}

function labStorage(s: ScenarioStorage): LabStorage {
  return {
    id: s.id,
    type: s.type,
    content: [...s.content],
    shared: s.shared ?? false,
    ...(s.nodes === undefined ? {} : { nodes: [...s.nodes] }),
    totalBytes: Math.round((s.totalGiB ?? 100) * 1024 ** 3),
    enabled: s.enabled ?? true,
  };
}

function labPool(p: ScenarioPool): LabPool {
  return { id: p.id, storages: new Set(p.storages ?? []), ...(p.comment === undefined ? {} : { comment: p.comment }) };
}

function labAclEntry(a: ScenarioAcl): LabAclEntry {
  return { path: a.path, role: a.role, ugid: a.user ?? a.token ?? "", kind: a.token === undefined ? "user" : "token", propagate: a.propagate ?? true };
}

/** Task durations: the override (a test's preset) before the scenario's, 50 ms by default. */
function labTiming(scenario: Scenario, taskDurationOverride: number | undefined): LabTiming {
  const taskDurationMs = taskDurationOverride ?? scenario.timing?.taskDurationMs ?? 50;
  return {
    taskDurationMs,
    taskDurations: { ...(scenario.timing?.taskDurations ?? {}) },
    agentBootDelayMs: scenario.timing?.agentBootDelayMs ?? 2 * taskDurationMs,
    authFailureDelayMs: scenario.timing?.authFailureDelayMs ?? 0,
  };
}

/** The guest agent's answers: Ubuntu 24.04 unless the scenario says otherwise. */
function labAgent(scenario: Scenario): LabAgentSettings {
  return {
    osinfo: {
      id: "ubuntu",
      name: "Ubuntu",
      "pretty-name": "Ubuntu 24.04.3 LTS",
      version: "24.04.3 LTS (Noble Numbat)",
      "version-id": "24.04",
      machine: "x86_64",
      "kernel-release": "6.8.0-87-generic",
      "kernel-version": "#88-Ubuntu SMP PREEMPT_DYNAMIC",
      ...(scenario.agent?.osinfo ?? {}),
    },
    commands: [...(scenario.agent?.commands ?? [])],
    ipPrefix: scenario.agent?.ipPrefix ?? "10.0.0",
  };
}
