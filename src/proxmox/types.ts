/**
 * Typed results of the Proxmox VE API calls the project makes (PVE 8.x/9.x shapes).
 *
 * PVE encodes most booleans as `0`/`1` and some numbers as strings (config `memory`, node
 * `loadavg`); the types say so instead of pretending otherwise. Unknown extra keys are kept.
 */

/** A PVE boolean as it appears on the wire: mostly `0`/`1`, sometimes a JSON boolean. */
export type PveBoolean = 0 | 1 | boolean;

/** A task id in PVE's UPID format (`UPID:node:pid:pstart:starttime:type:id:user:`). */
export type Upid = string;

/** Fields of a UPID. */
export interface UpidInfo {
  /** The UPID as given. */
  readonly upid: Upid;
  /** Node the task runs on (where its status must be polled). */
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  /** Start time, seconds since the epoch. */
  readonly starttime: number;
  /** Task type, e.g. `qmclone`, `qmstart`, `imgcopy`. */
  readonly type: string;
  /** Task id, e.g. the VMID (`qmclone`: the source VMID); may be empty. */
  readonly id: string;
  /** Auth id that started it, incl. the token (`capmox@pve!capi`). */
  readonly user: string;
}

/** `GET /version` */
export interface PveVersion {
  readonly version: string;
  readonly release: string;
  readonly repoid: string;
  readonly console?: string;
}

/** `GET /nodes` entry. Stats are present only with Sys.Audit on `/nodes/<node>`. */
export interface NodeSummary {
  readonly node: string;
  readonly status: "online" | "offline" | "unknown";
  readonly type?: "node";
  readonly id?: string;
  readonly level?: string;
  readonly ssl_fingerprint?: string;
  readonly cpu?: number;
  readonly maxcpu?: number;
  readonly mem?: number;
  readonly maxmem?: number;
  readonly disk?: number;
  readonly maxdisk?: number;
  readonly uptime?: number;
}

/** `GET /nodes/{node}/status` */
export interface NodeStatus {
  readonly uptime?: number;
  readonly cpu?: number;
  /** Load averages as strings, as PVE sends them. */
  readonly loadavg?: readonly string[];
  readonly memory: { readonly total: number; readonly used: number; readonly free: number; readonly available?: number };
  readonly swap?: { readonly total: number; readonly used: number; readonly free: number };
  readonly rootfs?: { readonly total: number; readonly used: number; readonly free: number; readonly avail: number };
  readonly cpuinfo?: {
    readonly model?: string;
    readonly cores?: number;
    readonly cpus: number;
    readonly sockets?: number;
    readonly mhz?: string;
    readonly [key: string]: unknown;
  };
  readonly kversion?: string;
  readonly pveversion?: string;
  readonly [key: string]: unknown;
}

/** `GET /cluster/status` entry: one `cluster` entry (absent on a standalone host) and one per node. */
export interface ClusterStatusEntry {
  readonly type: "cluster" | "node";
  readonly id: string;
  readonly name: string;
  /** cluster entry */
  readonly nodes?: number;
  readonly quorate?: PveBoolean;
  readonly version?: number;
  /** node entries */
  readonly nodeid?: number;
  readonly ip?: string;
  readonly local?: PveBoolean;
  readonly online?: PveBoolean;
  readonly level?: string;
}

export type ClusterResourceType = "vm" | "storage" | "node" | "sdn";

/** `GET /cluster/resources` entry; which fields are present depends on `type`. */
export interface ClusterResource {
  /** `qemu/101`, `lxc/200`, `storage/pve1/local`, `node/pve1`, … */
  readonly id: string;
  readonly type: "qemu" | "lxc" | "storage" | "node" | "sdn" | "pool" | (string & {});
  readonly node?: string;
  readonly status?: string;
  /** guests */
  readonly vmid?: number;
  readonly name?: string;
  readonly template?: PveBoolean;
  readonly lock?: string;
  /** `;`-separated tag list */
  readonly tags?: string;
  readonly pool?: string;
  readonly hastate?: string;
  readonly cpu?: number;
  readonly maxcpu?: number;
  readonly mem?: number;
  readonly maxmem?: number;
  readonly disk?: number;
  readonly maxdisk?: number;
  readonly uptime?: number;
  /** storages */
  readonly storage?: string;
  readonly plugintype?: string;
  readonly content?: string;
  readonly shared?: PveBoolean;
  readonly [key: string]: unknown;
}

/** `GET /pools` entry. */
export interface PoolSummary {
  readonly poolid: string;
  readonly comment?: string;
  readonly members?: readonly {
    readonly id: string;
    readonly node: string;
    readonly type: "qemu" | "lxc" | "openvz" | "storage";
    readonly vmid?: number;
    readonly storage?: string;
    readonly [key: string]: unknown;
  }[];
}

/** `GET /storage` entry (cluster-wide storage configuration). */
export interface StorageConfig {
  readonly storage: string;
  readonly type?: string;
  /** Comma-separated content types, e.g. `iso,vztmpl,backup`. */
  readonly content?: string;
  readonly shared?: PveBoolean;
  /** Comma-separated node list the storage is limited to. */
  readonly nodes?: string;
  readonly disable?: PveBoolean;
  readonly path?: string;
  readonly digest?: string;
  readonly [key: string]: unknown;
}

/** `GET /nodes/{node}/storage` entry (storage status on one node). */
export interface NodeStorage {
  readonly storage: string;
  readonly type: string;
  readonly content: string;
  readonly shared?: PveBoolean;
  readonly enabled?: PveBoolean;
  readonly active?: PveBoolean;
  readonly total?: number;
  readonly used?: number;
  readonly avail?: number;
  readonly used_fraction?: number;
}

/** Filters for `GET /nodes/{node}/storage`. */
export interface NodeStorageFilter {
  /** Only storages that support this content type (e.g. `images`, `iso`). */
  readonly content?: string;
  /** Only enabled storages. */
  readonly enabled?: boolean;
  readonly storage?: string;
  readonly target?: string;
}

/** `GET /nodes/{node}/storage/{storage}/content` entry. */
export interface StorageVolume {
  /** `local-lvm:vm-101-disk-0`, `local:iso/ubuntu.iso` */
  readonly volid: string;
  readonly content: string;
  readonly format: string;
  readonly size: number;
  readonly used?: number;
  readonly vmid?: number;
  readonly parent?: string;
  readonly ctime?: number;
  readonly notes?: string;
  readonly protected?: PveBoolean;
}

/** Upload content types PVE accepts on `POST /nodes/{node}/storage/{storage}/upload`. */
export type UploadContent = "iso" | "vztmpl" | "import";

/** What to upload: bytes in memory, or a local file streamed from disk. */
export interface UploadInput {
  readonly content: UploadContent;
  /** Target file name on the storage (PVE checks its extension, e.g. `.iso`). */
  readonly filename: string;
  /** The file's bytes. Exactly one of `data` and `path`. */
  readonly data?: Uint8Array;
  /** A local file to stream. Exactly one of `data` and `path`. */
  readonly path?: string;
  readonly checksum?: string;
  readonly checksumAlgorithm?: "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512";
}

/** `GET /nodes/{node}/network` entry (bridges, bonds, NICs, VLANs). */
export interface NetworkInterface {
  readonly iface: string;
  readonly type: string;
  readonly active?: PveBoolean;
  readonly autostart?: PveBoolean;
  readonly method?: string;
  readonly method6?: string;
  readonly families?: readonly string[];
  readonly address?: string;
  readonly netmask?: string;
  readonly cidr?: string;
  readonly gateway?: string;
  readonly bridge_ports?: string;
  readonly bridge_vlan_aware?: PveBoolean;
  readonly "vlan-id"?: number;
  readonly "vlan-raw-device"?: string;
  readonly comments?: string;
  readonly [key: string]: unknown;
}

/** Interface types `GET /nodes/{node}/network` can filter on. */
export type NetworkInterfaceType =
  | "bridge"
  | "bond"
  | "eth"
  | "alias"
  | "vlan"
  | "fabric"
  | "OVSBridge"
  | "OVSBond"
  | "OVSPort"
  | "OVSIntPort"
  | "vnet"
  | "any_bridge"
  | "any_local_bridge"
  | "include_sdn";

/** `GET /nodes/{node}/qemu` entry. `template` is present (1) only for templates. */
export interface QemuVmSummary {
  readonly vmid: number;
  readonly name?: string;
  readonly status: "running" | "stopped" | (string & {});
  readonly template?: PveBoolean;
  readonly lock?: string;
  readonly tags?: string;
  readonly cpus?: number;
  readonly maxmem?: number;
  readonly mem?: number;
  readonly maxdisk?: number;
  readonly disk?: number;
  readonly cpu?: number;
  readonly uptime?: number;
  readonly pid?: number;
  readonly [key: string]: unknown;
}

/**
 * `GET /nodes/{node}/qemu/{vmid}/config`: a flat key map. Integer keys (`cores`, `sockets`,
 * `onboot`) are numbers; `memory` and `agent` are strings; device keys (`net0`, `scsi0`)
 * are property strings.
 */
export interface QemuConfig {
  readonly digest: string;
  readonly name?: string;
  readonly memory?: string | number;
  readonly cores?: number;
  readonly sockets?: number;
  readonly agent?: string | number;
  readonly boot?: string;
  readonly tags?: string;
  readonly template?: PveBoolean;
  readonly lock?: string;
  readonly smbios1?: string;
  readonly description?: string;
  readonly [key: string]: string | number | boolean | undefined;
}

/** Options of `GET .../config`. */
export interface QemuConfigQuery {
  /** Return the current values, without pending changes. */
  readonly current?: boolean;
  readonly snapshot?: string;
}

/**
 * Changes for `POST`/`PUT .../config`. Booleans are sent as 1/0; `delete` lists keys to
 * remove (array or comma string); `digest` guards against concurrent modification.
 */
export interface QemuConfigUpdate {
  readonly delete?: string | readonly string[];
  readonly digest?: string;
  readonly [key: string]: string | number | boolean | readonly string[] | undefined;
}

/** Parameters of `POST .../clone`. */
export interface QemuCloneParams {
  readonly newid: number;
  readonly name?: string;
  readonly description?: string;
  /** Full clone (PVE's default for non-templates; linked clone of a template if false). */
  readonly full?: boolean;
  /** Target storage for a full clone. */
  readonly storage?: string;
  readonly format?: "raw" | "qcow2" | "vmdk";
  /** Target node (needs shared storage when it differs from the source node). */
  readonly target?: string;
  readonly pool?: string;
  readonly snapname?: string;
  /** KiB/s */
  readonly bwlimit?: number;
}

export interface QemuStartOptions {
  readonly timeout?: number;
}

export interface QemuStopOptions {
  readonly timeout?: number;
  readonly "overrule-shutdown"?: boolean;
}

export interface QemuShutdownOptions {
  readonly timeout?: number;
  readonly forceStop?: boolean;
}

export interface QemuDeleteOptions {
  readonly purge?: boolean;
  readonly "destroy-unreferenced-disks"?: boolean;
}

/** `GET .../status/current` */
export interface QemuStatus {
  readonly vmid: number;
  readonly name?: string;
  readonly status: "running" | "stopped" | (string & {});
  readonly qmpstatus?: string;
  readonly lock?: string;
  readonly tags?: string;
  readonly template?: PveBoolean;
  /** 1 when the guest agent is configured. */
  readonly agent?: PveBoolean;
  readonly pid?: number;
  readonly uptime?: number;
  readonly cpus?: number;
  readonly cpu?: number;
  readonly maxmem?: number;
  readonly mem?: number;
  readonly maxdisk?: number;
  readonly disk?: number;
  readonly ha?: { readonly managed: PveBoolean; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** `GET .../agent/get-osinfo` → `result` */
export interface AgentOsInfo {
  readonly id?: string;
  readonly name?: string;
  readonly "pretty-name"?: string;
  readonly version?: string;
  readonly "version-id"?: string;
  readonly machine?: string;
  readonly "kernel-release"?: string;
  readonly "kernel-version"?: string;
  readonly [key: string]: unknown;
}

/** `POST .../agent/exec` */
export interface AgentExecStarted {
  readonly pid: number;
}

/** `GET .../agent/exec-status` (not wrapped in `result`). */
export interface AgentExecStatus {
  readonly exited: PveBoolean;
  readonly exitcode?: number;
  readonly signal?: number;
  readonly "out-data"?: string;
  readonly "err-data"?: string;
  readonly "out-truncated"?: PveBoolean;
  readonly "err-truncated"?: PveBoolean;
}

/** `GET .../agent/network-get-interfaces` → `result[]` */
export interface AgentNetworkInterface {
  readonly name: string;
  readonly "hardware-address"?: string;
  readonly "ip-addresses"?: readonly {
    readonly "ip-address": string;
    readonly "ip-address-type": "ipv4" | "ipv6";
    readonly prefix: number;
  }[];
  readonly statistics?: Readonly<Record<string, number>>;
}

/** One entry of `GET /access/acl`: a role granted on a path to a user, group or token. */
export interface AclEntry {
  readonly path: string;
  readonly roleid: string;
  readonly ugid: string;
  /** `user`, `group` or `token`. */
  readonly type: string;
  readonly propagate: number | boolean;
}

/** `GET /access/permissions`: ACL path → privilege → propagate (1/0). */
export type PermissionMap = Readonly<Record<string, Readonly<Record<string, PveBoolean>>>>;

export interface PermissionsQuery {
  /** Only this ACL path. */
  readonly path?: string;
  /** Another user or token id (needs Sys.Audit on /access unless it is one's own token). */
  readonly userid?: string;
}

/** `GET /nodes/{node}/tasks/{upid}/status` */
export interface TaskStatus {
  readonly upid: Upid;
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly endtime?: number;
  readonly type: string;
  readonly id: string;
  /** The owner user (`capmox@pve`); a token's name is in `tokenid`. */
  readonly user: string;
  readonly tokenid?: string;
  readonly status: "running" | "stopped";
  /** `OK`, `WARNINGS: <n>` or the error text; present once stopped. */
  readonly exitstatus?: string;
}

/** One line of `GET /nodes/{node}/tasks/{upid}/log` (`n` is 1-based). */
export interface TaskLogLine {
  readonly n: number;
  readonly t: string;
}

/** A page of a task log and the log's total line count. */
export interface TaskLogPage {
  readonly lines: readonly TaskLogLine[];
  readonly total: number;
}

/** The outcome of a finished task that did not fail. */
export interface TaskResult {
  readonly upid: Upid;
  readonly node: string;
  readonly type: string;
  readonly id: string;
  /** `OK` or `WARNINGS: <n>`. */
  readonly exitstatus: string;
  /** Number of warnings (0 for `OK`). */
  readonly warnings: number;
  readonly status: TaskStatus;
}
